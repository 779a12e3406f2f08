/**
 * What the deploy state machine is started with (statemachines/deploy.asl.json reads exactly
 * this; issue 9's contract between helpers): one artifact of one service, the manifest version
 * pinned, and the deployment id, which is also the execution's name (`executionName` in ./ids.ts),
 * so a duplicate artifact event starts nothing new.
 */
import type { ArtifactSourceKind } from './limits';

export interface DeployExecutionInput {
  deploymentId: string;
  service: string;
  version: string;
  /** The manifest version the deployment uses (the store keeps manifest history). */
  manifestVersion: number;
  artifact: { kind: ArtifactSourceKind; uri: string; digest: string };
}
