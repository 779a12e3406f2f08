import type { Region } from '../region';

export interface StoryOptions {
  /** Instances in the first environment; the second gets twice as many. */
  fleet: number;
  /** Prints one line of live progress. */
  print: (line: string) => void;
}

export interface StoryCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface StoryResult {
  checks: StoryCheck[];
  /** Headline figures for the summary. */
  figures: Record<string, string | number>;
}

export interface Story {
  name: string;
  description: string;
  run(region: Region, options: StoryOptions): Promise<StoryResult>;
}
