/**
 * How the default story tells what happens while it happens: a person watching Kiln's records
 * (`kiln status`), the fleets (`instances on each version, per environment`) and Slack.
 *
 * - Phases: each change of a deployment's status or of the rollout progress Kiln records on it
 *   (environment, phase, detail), one line each; the phases that wait say what for (`wait` lines:
 *   the bake time, the approval, a checkpoint, the health gate, the watch, the lock).
 * - Fleets: for each environment, the instances InService by release and the healthy targets,
 *   from the run's fleet series (sandbox/observe/series.ts) over a RunObserver the story attaches
 *   at its start; a line whenever that picture changed since the last one printed. Observing reads
 *   the simulated services directly: it adds nothing to the timeline.
 */
import { isFinal } from '../../shared/domain/deployment';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore } from '../../shared/store';
import { RunObserver, type EnvironmentDeclaration } from '../observe/record';
import { LatestFleets, healthyIn, type FleetSample } from '../observe/series';
import type { Region } from '../region';
import { sleep } from './fleet';
import { StoryDeadlineError } from './steps';

/** Phases in which a rollout waits for something other than its own AWS calls. */
const WAITING_PHASES = new Set(['waiting-lock', 'baking', 'waiting-approval', 'health-gate', 'watching']);

/** A change of a deployment's status or phase, as the narrator saw it (virtual seconds). */
export interface Transition {
  deploymentId: string;
  t: number;
  status: Deployment['status'];
  environment?: string;
  phase?: string;
}

export class Narrator {
  /** Every status and phase change seen, in order. */
  readonly transitions: Transition[] = [];
  private readonly observer: RunObserver;
  private readonly fleetSaid = new Map<string, string>();
  private readonly latestFleets = new LatestFleets();
  private seenEntries = -1;

  constructor(
    private readonly region: Region,
    private readonly print: (line: string) => void,
  ) {
    this.observer = new RunObserver(region);
  }

  /** Declares an environment to the run's record (`declare`) and to the narrator's own view. */
  declarer(declare: (environment: EnvironmentDeclaration) => void) {
    return (environment: EnvironmentDeclaration): void => {
      declare(environment);
      this.observer.declare(environment);
    };
  }

  /** The latest sample of each environment's fleet (fleetSeries' last, its `t` aside). */
  fleets(): Map<string, FleetSample | undefined> {
    return this.latestFleets.latest(this.observer.record());
  }

  /** Prints each environment's fleet when it changed since the last line about it. */
  tellFleets(): void {
    const entries = this.region.engine.timeline.entries.length;
    if (entries === this.seenEntries) return;
    this.seenEntries = entries;
    for (const [environment, sample] of this.fleets()) {
      if (sample === undefined) continue;
      // Draining targets alone changing is no news: a line when releases, health or waits change.
      const key = JSON.stringify({
        ...sample,
        t: 0,
        targets: { ...sample.targets, draining: 0 },
        terminating: 0,
      });
      if (this.fleetSaid.get(environment) === key) continue;
      this.fleetSaid.set(environment, key);
      this.print(`fleet  ${environment}: ${describeFleet(sample)}`);
    }
  }

  /**
   * Follows a deployment through Kiln's record every `everySeconds` until it ends, telling each
   * status and phase change and the fleets; `onRecord` sees every record on the way (the story
   * presses a button when Kiln waits for it). Past `limitSeconds`: StoryDeadlineError.
   */
  async follow(
    store: KilnStore<ServiceManifest>,
    deploymentId: string,
    options: {
      onRecord?: (deployment: Deployment) => Promise<void>;
      everySeconds?: number;
      limitSeconds?: number;
    } = {},
  ): Promise<Deployment> {
    const every = options.everySeconds ?? 15;
    const limit = options.limitSeconds ?? 6 * 3600;
    let said = '';
    for (let waited = 0; ; waited += every) {
      const deployment = await store.getDeployment(deploymentId);
      if (deployment !== undefined) {
        const line = describeProgress(deployment);
        if (line !== said) {
          this.print(line);
          said = line;
          this.transitions.push({
            deploymentId,
            t: (this.region.engine.clock.now() - this.region.engine.timeline.epochMs) / 1000,
            status: deployment.status,
            ...(deployment.rollout === undefined
              ? {}
              : { environment: deployment.rollout.environment, phase: deployment.rollout.phase }),
          });
        }
      }
      this.tellFleets();
      if (deployment !== undefined && isFinal(deployment.status)) return deployment;
      if (deployment !== undefined) await options.onRecord?.(deployment);
      if (waited > limit) {
        throw new StoryDeadlineError(
          `deployment ${deploymentId} still ${deployment?.status ?? 'unrecorded'} after ${limit} s`,
        );
      }
      await sleep(every);
    }
  }

  /** Waits `seconds` of virtual time, telling the fleets every `everySeconds`. */
  async pass(seconds: number, everySeconds = 15): Promise<void> {
    for (let waited = 0; waited < seconds; waited += everySeconds) {
      await sleep(Math.min(everySeconds, seconds - waited));
      this.tellFleets();
    }
  }
}

/** `1.1.0 ×4, 1.0.0 ×8 (healthy 12/12, launching 4)`: newest release first. */
export function describeFleet(sample: FleetSample): string {
  const versions = Object.entries(sample.inServiceByVersion)
    .sort(([a], [b]) => b.localeCompare(a, 'en', { numeric: true }))
    .map(([version, count]) => `${version} ×${count}`);
  const inService = Object.values(sample.inServiceByVersion).reduce((a, b) => a + b, 0);
  const extras = [
    `healthy ${healthyIn(sample)}/${inService}`,
    sample.launching > 0 ? `launching ${sample.launching}` : undefined,
    (sample.targets.draining ?? 0) > 0 ? `draining ${sample.targets.draining}` : undefined,
    sample.waiting > 0 ? `in a lifecycle hook ${sample.waiting}` : undefined,
    sample.terminating - sample.waiting > 0
      ? `terminating ${sample.terminating - sample.waiting}`
      : undefined,
    ...Object.entries(sample.alarms)
      .filter(([, state]) => state === 'ALARM')
      .map(([name]) => `${name} in ALARM`),
  ].filter((part) => part !== undefined);
  return `${versions.join(', ') || 'no instance in service'} (${extras.join(', ')})`;
}

/** One line of what Kiln records: `kiln   …` while it acts, `wait   …` while it waits and why. */
export function describeProgress(deployment: Deployment): string {
  const progress = deployment.rollout;
  const status = `${deployment.id} ${deployment.status}`;
  if (isFinal(deployment.status)) {
    return `kiln   ${status}${deployment.reason ? `: ${deployment.reason}` : ''}`;
  }
  if (progress === undefined) return `kiln   ${status}`;
  const waiting = WAITING_PHASES.has(progress.phase) || /\bWaiting for\b/.test(progress.detail ?? '');
  return `${waiting ? 'wait  ' : 'kiln  '} ${progress.environment}: ${progress.phase}${progress.detail ? ` — ${progress.detail}` : ''}`;
}
