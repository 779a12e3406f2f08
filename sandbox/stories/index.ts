import { defaultStory } from './default';
import type { Story } from './types';

/** Stories `kiln sandbox --scenario NAME` can run. Later work adds bake, rollback and chaos stories. */
export const stories: Record<string, Story> = {
  [defaultStory.name]: defaultStory,
};
