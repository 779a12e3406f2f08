/**
 * The stories `kiln sandbox --scenario` knows, by name, without loading them: the CLI lists and
 * checks names at start-up, and loads the (heavier) story only when it runs.
 */
export const storyCatalog = {
  default:
    'checkout in staging and production; an artifact arrives; staging rolls to it with an instance refresh',
  'instance-refresh': 'one group rolls with checkpoints at 25/50/100 %, min healthy 90 %, warmup 60 s',
} as const;

export type StoryName = keyof typeof storyCatalog;

export function isStoryName(name: string): name is StoryName {
  return Object.hasOwn(storyCatalog, name);
}
