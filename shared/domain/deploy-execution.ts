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
  /**
   * The artifact to bake. Absent when the release exists already (`kiln deploy` of a baked
   * version, a rollback): the state machine then skips the bake and goes to the rollout.
   */
  artifact?: { kind: ArtifactSourceKind; uri: string; digest: string };
  /**
   * The environments to roll through, in the manifest's promotion order; absent: all of them.
   */
  environments?: string[];
  /**
   * `deploy` (the default) makes a new launch template version from the release's AMI;
   * `rollback` restores what the environment state recorded for the release exactly: its launch
   * template version and capacity, and for blue/green the kept group (issue 10, item 6).
   */
  mode?: 'deploy' | 'rollback';
}
