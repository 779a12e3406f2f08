import { defaultStory } from './default';
import { instanceRefreshStory } from './instance-refresh';
import type { Story } from './types';

/** Stories `kiln sandbox --scenario NAME` can run. Later work adds bake, rollback and chaos stories. */
export const stories: Record<string, Story> = {
  [defaultStory.name]: defaultStory,
  [instanceRefreshStory.name]: instanceRefreshStory,
};
