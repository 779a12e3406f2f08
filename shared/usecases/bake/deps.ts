/**
 * What every bake step takes (its dependencies, DESIGN.md "Conventions") and the state the deploy
 * state machine carries between steps (statemachines/deploy.asl.json): the execution input as
 * on-artifact starts it, plus what each step added under its own key.
 */
import type { Ec2Bake } from '../../aws/ec2';
import type { SsmBake } from '../../aws/ssm';
import type { CommandPurpose } from '../../domain/bake';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';

export interface BakeDeps {
  store: KilnStore<ServiceManifest>;
  /** The EC2 adapter for a Region (the bake Region, or a Region the image is copied to). */
  ec2: (region: string) => Ec2Bake;
  ssm: (region: string) => SsmBake;
  /**
   * Resumes a waiting task (SendTaskSuccess with `{ "woken": … }`); a token already used or
   * expired is success (the task has moved on).
   */
  wake: (taskToken: string, output: { woken: string }) => Promise<void>;
  now: () => number;
  /** Who the store records as acting (the state machine's step function). */
  actor: string;
}

/** The bake settled by the first step: everything later steps need, so none decides again. */
export interface BakePlan {
  region: string;
  baseAmiId: string;
  recipeHash: string;
  imageName: string;
  /** Epoch milliseconds. */
  deadline: number;
  copyToRegions: string[];
  smokeCheck: boolean;
  /** `release`: reuse the recorded release; `image`: adopt an earlier bake's image; `none`: bake. */
  cache: 'release' | 'image' | 'none';
  /** The image adopted (cache `image`). */
  imageId?: string;
  /** The release's AMIs (cache `release`). */
  amis?: Record<string, string>;
}

/** The execution's state, as the ASL hands it to each step. */
export interface BakeState {
  deploymentId: string;
  service: string;
  version: string;
  manifestVersion: number;
  artifact: { kind: string; uri: string; digest: string };
  bake?: BakePlan;
  builder?: { instanceId: string };
  purpose?: CommandPurpose;
  command?: { commandId: string; purpose: CommandPurpose };
  image?: { imageId: string };
  copies?: Array<{ region: string; copy?: { imageId: string } }>;
  error?: { Error?: string; Cause?: string };
}

/** One Region's copy, as the Map state hands it to the copy steps. */
export interface CopyState {
  deploymentId: string;
  service: string;
  version: string;
  artifact: BakeState['artifact'];
  region: string;
  bake: BakePlan;
  image: { imageId: string };
  copy?: { imageId: string; done?: boolean };
}

export function planOf(state: { bake?: BakePlan }): BakePlan {
  if (!state.bake) throw new Error('the bake has not been planned (no $.bake in the state)');
  return state.bake;
}

export function builderOf(state: BakeState): string {
  if (!state.builder) throw new Error('no builder in the state ($.builder)');
  return state.builder.instanceId;
}

export function imageOf(state: { image?: { imageId: string } }): string {
  if (!state.image) throw new Error('no image in the state ($.image)');
  return state.image.imageId;
}
