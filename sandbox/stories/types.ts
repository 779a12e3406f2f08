import type { EnvironmentDeclaration } from '../observe/record';
import type { Region, RegionOptions } from '../region';
import type { StorySettings } from './settings';

export interface StoryOptions {
  /** Instances in the first environment; the second gets twice as many. */
  fleet: number;
  /** Prints one line of live progress. */
  print: (line: string) => void;
  /** The rollout and target group settings to run with (the story's own unless overridden). */
  settings: StorySettings;
  /**
   * Declares an environment the story made (its groups, target groups, alarms) as soon as it
   * exists, for the run's record: the HTML report draws it, `kiln preview` and the chaos
   * invariants measure it, even when a later step fails.
   */
  declareEnvironment: (environment: EnvironmentDeclaration) => void;
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
  /** The settings the story runs with when none are given (`kiln sandbox --settings` overrides). */
  settings: StorySettings;
  /**
   * What the story's region needs beyond the seed (e.g. `badVersions`: the release it rolls out
   * misbehaves; `faults`: the fault plan it is about); the caller's region options win where both
   * say something, except that bad versions and fault rules of both are joined.
   */
  region?: Pick<RegionOptions, 'badVersions' | 'rateLimits' | 'limits' | 'faults'>;
  run(region: Region, options: StoryOptions): Promise<StoryResult>;
}
