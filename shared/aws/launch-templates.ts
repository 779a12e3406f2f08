/**
 * The launch template adapter of the rollout (LaunchTemplatePort, shared/usecases/rollout/deps.ts):
 * make the release's version of an environment's launch template, and turn `$Latest`/`$Default`
 * into the version numbers every group Kiln moves names (DESIGN.md rule 2).
 *
 * CreateLaunchTemplateVersion carries the caller's client token (`clientToken` in
 * shared/domain/ids.ts): "If you repeat the request with the same client token and the same
 * parameters, the API returns the same result"
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html), so a retried step
 * gets the version the first attempt made instead of a second one.
 */
import {
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import type { LaunchTemplatePort, LaunchTemplateVersionRef } from '../usecases/rollout/deps';
import { callAws } from './aws-errors';

/**
 * EC2's answers for a launch template, or a version of one, that does not exist
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
const NOT_FOUND_CODES = [
  'InvalidLaunchTemplateId.NotFound',
  'InvalidLaunchTemplateId.VersionNotFound',
  'InvalidLaunchTemplateName.NotFoundException',
] as const;

export class LaunchTemplates implements LaunchTemplatePort {
  constructor(readonly client: EC2Client) {}

  /**
   * A new version from `sourceVersion` with only the image changed: "The new version inherits the
   * same launch parameters as the source version, except for parameters that you specify in
   * LaunchTemplateData"
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html).
   */
  async createVersion(input: {
    launchTemplateId: string;
    sourceVersion: number;
    imageId: string;
    description: string;
    clientToken: string;
  }): Promise<LaunchTemplateVersionRef> {
    const result = await this.call(
      `create a version of launch template ${input.launchTemplateId} from version ${input.sourceVersion} with image ${input.imageId}`,
      () =>
        this.client.send(
          new CreateLaunchTemplateVersionCommand({
            LaunchTemplateId: input.launchTemplateId,
            SourceVersion: String(input.sourceVersion),
            LaunchTemplateData: { ImageId: input.imageId },
            VersionDescription: input.description,
            ClientToken: input.clientToken,
          }),
        ),
    );
    const version = result.LaunchTemplateVersion?.VersionNumber;
    if (version === undefined)
      throw new Error('CreateLaunchTemplateVersion answered without a version number');
    return { id: result.LaunchTemplateVersion?.LaunchTemplateId ?? input.launchTemplateId, version };
  }

  /**
   * A number stays itself; `$Latest` and `$Default` are read from DescribeLaunchTemplates
   * (LatestVersionNumber, DefaultVersionNumber:
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_LaunchTemplate.html), the names
   * Auto Scaling uses for a group's version
   * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateSpecification.html).
   */
  async resolveVersion(launchTemplateId: string, version: string): Promise<number> {
    if (/^[1-9][0-9]*$/.test(version)) return Number(version);
    if (version !== '$Latest' && version !== '$Default') {
      throw new Error(
        `launch template ${launchTemplateId}: version ${JSON.stringify(version)} is neither a number, $Latest nor $Default`,
      );
    }
    const result = await this.call(`describe launch template ${launchTemplateId}`, () =>
      this.client.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [launchTemplateId] })),
    );
    const template = result.LaunchTemplates?.[0];
    const resolved = version === '$Latest' ? template?.LatestVersionNumber : template?.DefaultVersionNumber;
    if (resolved === undefined) {
      throw new Error(`DescribeLaunchTemplates answered no ${version} version for ${launchTemplateId}`);
    }
    return resolved;
  }

  /** The version and its image; `undefined` when the template or the version does not exist. */
  async describeVersion(
    launchTemplateId: string,
    version: number,
  ): Promise<{ version: number; imageId?: string } | undefined> {
    const result = await this.call(
      `describe version ${version} of launch template ${launchTemplateId}`,
      () =>
        this.client.send(
          new DescribeLaunchTemplateVersionsCommand({
            LaunchTemplateId: launchTemplateId,
            Versions: [String(version)],
          }),
        ),
      Object.fromEntries(NOT_FOUND_CODES.map((code) => [code, () => ({ LaunchTemplateVersions: [] })])),
    );
    const found = (result.LaunchTemplateVersions ?? []).find((entry) => entry.VersionNumber === version);
    if (found?.VersionNumber === undefined) return undefined;
    const imageId = found.LaunchTemplateData?.ImageId;
    return { version: found.VersionNumber, ...(imageId === undefined ? {} : { imageId }) };
  }

  /** One call through the shared mapping of AWS errors (aws-errors.ts, `callAws`). */
  private call<T>(
    what: string,
    send: () => Promise<T>,
    handled: Record<string, (error: Error) => Partial<T>> = {},
  ): Promise<T> {
    return callAws('EC2', what, send, handled);
  }
}
