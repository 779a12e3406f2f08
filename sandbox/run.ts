/**
 * Runs one sandbox story end to end: a fresh region on one seed, the story inside the scheduler,
 * live progress, the checks, and the timeline. Used by `kiln sandbox`, the scenario tests and bench/.
 */
import { writeFileSync } from 'node:fs';
import type { TimelineEntry } from './core/context';
import { SANDBOX_EPOCH } from './core/context';
import { RunObserver, type RunRecord } from './observe/record';
import { renderReport } from './report/render';
import { createRegion, type Region, type RegionOptions } from './region';
import { stories } from './stories';
import { parseStorySettings, withOverrides, type StorySettingsInput } from './stories/settings';
import { storyStepFailure } from './stories/steps';
import type { Story, StoryResult } from './stories/types';

export interface SandboxRunOptions {
  seed: number;
  fleet: number;
  scenario: string;
  timelineFile?: string;
  /** Writes the HTML report of the run here (sandbox/report/), whatever the outcome, like the timeline. */
  reportFile?: string;
  /**
   * Rollout and target group settings in place of the story's own (manifest-shaped, see
   * stories/settings.ts); invalid ones throw StorySettingsError before anything runs.
   */
  settings?: StorySettingsInput;
  /** Receives each line of live progress (already prefixed with the virtual time). */
  print?: (line: string) => void;
  region?: Omit<RegionOptions, 'seed'>;
  /** Log level of Kiln's functions (Powertools); default WARN keeps progress readable. */
  functionLogLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** The stories to pick `scenario` from (default: those `kiln sandbox --scenario` knows). */
  stories?: Readonly<Record<string, Story>>;
  /**
   * Called once the region exists, before the story starts: schedule disturbances on the virtual
   * clock (the chaos runner kills an execution or flaps an alarm this way).
   */
  prepare?: (region: Region) => void;
  /**
   * Called after the story, still inside the simulation (virtual time can pass, the store can be
   * read): the chaos runner lets the region settle and checks its invariants here. What it returns
   * is the result's `inspection`. Its API calls are on the timeline, after the story's.
   */
  inspect?: (region: Region, record: RunRecord) => Promise<unknown>;
}

export interface SandboxRunResult extends StoryResult {
  ok: boolean;
  /** The fault rules that struck during the run (as `--fault` spells them), with their strike counts. */
  faultsStruck: Array<{ rule: string; strikes: number }>;
  virtualSeconds: number;
  wallMs: number;
  timelineEntries: number;
  apiCalls: number;
  eventsDelivered: number;
  /** Scheduler steps the run took (grants plus timer firings): what its cost grows with. */
  schedulerSteps: number;
  /** The timeline as JSON Lines (byte-identical for the same seed and options). */
  timeline: string;
  /** The run for the report, preview and chaos (sandbox/observe/record.ts). */
  record: RunRecord;
  /** What `inspect` returned, if given. */
  inspection?: unknown;
}

export function formatVirtualTime(seconds: number): string {
  const s = Math.floor(seconds);
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}`;
}

/** Which timeline entries are worth a line of live progress. */
function describeEntry(entry: TimelineEntry & { t: number }): string | undefined {
  if (entry.kind === 'event' && entry.deliveredTo.length > 0) {
    return `event  ${entry.detailType} (${entry.source}) → ${entry.deliveredTo.join(', ')}`;
  }
  if (entry.kind === 'state' && entry.resource.startsWith('instance-refresh:')) {
    return `state  ${entry.resource}: ${entry.from ?? '∅'} → ${entry.to}`;
  }
  if (entry.kind === 'log' && /failed|dropped|fault/i.test(entry.message)) return `log    ${entry.message}`;
  // What people would have read: Slack webhook posts (sandbox/services/slack-webhooks.ts).
  if (entry.kind === 'api' && entry.service === 'Slack') {
    const { text, buttons } = entry as { text?: unknown; buttons?: unknown };
    const shown = Array.isArray(buttons) && buttons.length > 0 ? ` [${buttons.join(', ')}]` : '';
    return `slack  ${typeof text === 'string' ? text : '(no text)'}${shown}${entry.ok ? '' : ` (not delivered: ${entry.error ?? '?'})`}`;
  }
  return undefined;
}

/**
 * A story that ended early because the simulation made a step impossible becomes one failed check,
 * named after the step; the faults that struck are named when its wait simply ran out of time.
 * Anything else the story threw is not a story outcome: undefined, and the caller rethrows it.
 */
function failedStep(error: unknown, region: Region): StoryResult | undefined {
  const failure = storyStepFailure('story', error);
  if (failure === undefined) return undefined;
  const struck = region.engine.faults.struck().map((s) => `${s.rule} ×${s.strikes}`);
  const detail =
    failure.reason === 'deadline' && struck.length > 0
      ? `${failure.detail} (faults that struck: ${struck.join(', ')})`
      : failure.detail;
  region.engine.timeline.record({ kind: 'log', message: `story step ${failure.step} failed: ${detail}` });
  return { checks: [{ name: failure.step, ok: false, detail }], figures: {} };
}

export async function runSandbox(options: SandboxRunOptions): Promise<SandboxRunResult> {
  const known: Readonly<Record<string, Story>> = options.stories ?? stories;
  const story = Object.hasOwn(known, options.scenario) ? known[options.scenario] : undefined;
  if (!story) {
    throw new Error(
      `unknown scenario ${JSON.stringify(options.scenario)} (known: ${Object.keys(known).join(', ')})`,
    );
  }
  const settings = withOverrides(story.settings, parseStorySettings(options.settings));
  const print = options.print ?? (() => undefined);
  const wallStart = performance.now();
  // Functions build their loggers when first invoked, reading the level from the environment.
  const previousLevel = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = options.functionLogLevel ?? 'WARN';
  // Steps grow with fleet size and virtual time (every health check is a timer); the guard is
  // there to stop a runaway loop, not to cap a large fleet.
  const region = await createRegion({
    seed: options.seed,
    limits: { maxSteps: 5_000_000 },
    ...story.region,
    ...options.region,
    // The story's misbehaving releases and the caller's (`--bad-version`) together.
    badVersions: [...(story.region?.badVersions ?? []), ...(options.region?.badVersions ?? [])],
    // The story's fault rules first, then the caller's (`--fault`), so both strike.
    faults: [...(story.region?.faults ?? []), ...(options.region?.faults ?? [])],
  });
  const observer = new RunObserver(region);
  let finished: SandboxRunResult | undefined;
  let failure: unknown;
  options.prepare?.(region);
  try {
    const { timeline } = region.engine;
    const at = () => formatVirtualTime((region.engine.clock.now() - SANDBOX_EPOCH) / 1000);
    // The same line at the same instant (a dozen lifecycle events of one blue/green retire) is
    // printed once with its count: held until a different line comes, then written in order.
    let held: { line: string; count: number } | undefined;
    const flush = (): void => {
      if (held) print(held.count > 1 ? `${held.line} ×${held.count}` : held.line);
      held = undefined;
    };
    timeline.onRecord((entry) => {
      const line = describeEntry(entry);
      if (!line) return;
      const stamped = `[${formatVirtualTime(entry.t)}] ${line}`;
      if (held?.line === stamped) held.count += 1;
      else {
        flush();
        held = { line: stamped, count: 1 };
      }
    });
    let result: StoryResult;
    try {
      result = await region.engine.run(() =>
        story.run(region, {
          fleet: options.fleet,
          settings,
          print: (line) => {
            region.engine.timeline.record({ kind: 'log', message: line });
            flush();
            print(`[${at()}] ${line}`);
          },
          declareEnvironment: (environment) => observer.declare(environment),
        }),
      );
    } catch (error) {
      const failed = failedStep(error, region);
      if (failed === undefined) {
        const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        region.engine.timeline.record({ kind: 'log', message: `run failed (a bug): ${what}` });
        flush();
        throw error;
      }
      result = failed;
    }
    flush();
    // After the story, whatever its outcome: a failed step is exactly when the invariants matter.
    const inspect = options.inspect;
    const inspection =
      inspect === undefined ? undefined : await region.engine.run(() => inspect(region, observer.record()));
    flush();
    const entries = timeline.entries;
    const last = entries[entries.length - 1];
    const text = timeline.toJsonLines();
    finished = {
      ...result,
      ok: result.checks.every((c) => c.ok),
      faultsStruck: region.engine.faults.struck().map(({ rule, strikes }) => ({ rule, strikes })),
      virtualSeconds: last ? last.t : 0,
      wallMs: performance.now() - wallStart,
      timelineEntries: entries.length,
      apiCalls: entries.filter((e) => e.kind === 'api').length,
      eventsDelivered: entries.reduce((n, e) => n + (e.kind === 'event' ? e.deliveredTo.length : 0), 0),
      schedulerSteps: region.engine.steps,
      timeline: text,
      record: observer.record(),
      ...(inspection === undefined ? {} : { inspection }),
    };
    return finished;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    // Written whatever the outcome, a Kiln bug included: the timeline is how one finds it.
    if (options.timelineFile) writeFileSync(options.timelineFile, region.engine.timeline.toJsonLines());
    if (options.reportFile) {
      writeFileSync(
        options.reportFile,
        renderReport(observer.record(), {
          scenario: options.scenario,
          description: story.description,
          seed: options.seed,
          fleet: options.fleet,
          wallMs: performance.now() - wallStart,
          ...(finished !== undefined
            ? { checks: finished.checks, figures: finished.figures, faultsStruck: finished.faultsStruck }
            : {
                error:
                  failure instanceof Error
                    ? `${failure.name}: ${failure.message}`
                    : String(failure ?? 'the run stopped before its checks'),
              }),
        }),
      );
    }
    await region.dispose();
    if (previousLevel === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = previousLevel;
  }
}
