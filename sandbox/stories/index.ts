import type { StoryName } from './catalog';
import { alarmRollbackStory } from './alarm-rollback';
import { bakeCacheStory, bakeFailureStory, bakeStory, bakeTimeoutStory } from './bake';
import { badReleaseBlueGreenStory, blueGreenStory, scaleDuringSwitchStory } from './blue-green';
import { chatopsStory } from './chatops';
import { defaultStory } from './default';
import { drainStormStory, drainStory } from './drain';
import { instanceRefreshStory } from './instance-refresh';
import { lostEventsStory } from './lost-events';
import {
  badReleaseStory,
  concurrentArtifactsStory,
  rollbackAfterCompleteStory,
  rollingStory,
} from './rollout';
import type { Story } from './types';

/** Stories `kiln sandbox --scenario NAME` can run, keyed as in the catalog. Later work adds more. */
export const stories: Record<StoryName, Story> = {
  default: defaultStory,
  'instance-refresh': instanceRefreshStory,
  bake: bakeStory,
  'bake-cache': bakeCacheStory,
  'bake-failure': bakeFailureStory,
  'bake-timeout': bakeTimeoutStory,
  rolling: rollingStory,
  'bad-release': badReleaseStory,
  'rollback-after-complete': rollbackAfterCompleteStory,
  'concurrent-artifacts': concurrentArtifactsStory,
  'blue-green': blueGreenStory,
  'scale-during-switch': scaleDuringSwitchStory,
  'bad-release-blue-green': badReleaseBlueGreenStory,
  'alarm-rollback': alarmRollbackStory,
  drain: drainStory,
  'drain-storm': drainStormStory,
  chatops: chatopsStory,
  'lost-events': lostEventsStory,
};
