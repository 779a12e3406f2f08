/**
 * The launch template adapter of the rollout (LaunchTemplatePort, shared/usecases/rollout/deps.ts).
 *
 * CONTRACT STUB: the adapters helper implements every method.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { LaunchTemplatePort, LaunchTemplateVersionRef } from '../usecases/rollout/deps';

const notYet = (name: string): never => {
  throw new Error(`LaunchTemplates.${name} is not implemented yet`);
};

export class LaunchTemplates implements LaunchTemplatePort {
  constructor(readonly client: EC2Client) {}
  createVersion(_input: {
    launchTemplateId: string;
    sourceVersion: number;
    imageId: string;
    description: string;
    clientToken: string;
  }): Promise<LaunchTemplateVersionRef> {
    return notYet('createVersion');
  }
  resolveVersion(_launchTemplateId: string, _version: string): Promise<number> {
    return notYet('resolveVersion');
  }
  describeVersion(
    _launchTemplateId: string,
    _version: number,
  ): Promise<{ version: number; imageId?: string } | undefined> {
    return notYet('describeVersion');
  }
}
