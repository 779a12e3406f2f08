/**
 * What a finished sandbox run leaves for whoever explains or judges it: the HTML report
 * (sandbox/report/), `kiln preview`'s figures (sandbox/preview/) and the chaos invariants
 * (sandbox/chaos/). A RunRecord is the timeline plus the few facts the timeline does not spell out:
 * which release each instance runs (from its launch image's `kiln:version` tag) and which Auto
 * Scaling groups and target groups make up each environment.
 *
 * The observer reads the simulated services directly (never through the SDK), so observing a run
 * changes neither its timeline nor its scheduling: the same seed gives the same bytes with or
 * without it.
 */
import type { TimedEntry } from '../core/timeline';
import type { Region } from '../region';

/** One instance as launched: where it belongs and what it runs. */
export interface InstanceFacts {
  instanceId: string;
  imageId: string;
  /** The release, from the launch image's `kiln:version` tag (undefined for a builder's base image). */
  version: string | undefined;
  /** The Auto Scaling group that launched it (`aws:autoscaling:groupName`), if any. */
  group: string | undefined;
  /** Virtual seconds since the epoch, as the timeline's `t`. */
  launchedAt: number;
}

/** An Auto Scaling group as created: Kiln's own groups carry the service and environment in tags. */
export interface GroupFacts {
  name: string;
  tags: Record<string, string>;
  targetGroupArns: string[];
  /** Timeline `t` of its creation. */
  createdAt: number;
}

/**
 * One environment of one service, as a story declares it (StoryResult.environments): its base
 * group, target groups and alarms. Groups Kiln made for it (blue/green's green groups, tagged
 * `kiln:service`/`kiln:environment`) are added when the record is built.
 */
export interface EnvironmentDeclaration {
  service: string;
  environment: string;
  /** The groups the platform team made (the manifest's `autoScalingGroup`). */
  groups: string[];
  targetGroupArns: string[];
  alarmNames: string[];
  /** The manifest's minimum healthy percentage (rolling) or 100 (blue/green), for the capacity floor. */
  minHealthyPercentage?: number;
}

export interface EnvironmentView extends EnvironmentDeclaration {
  /** Every group that served or was made for the environment during the run, base group first. */
  groups: string[];
  /** Alarm ARNs as the timeline names them (`arn:aws:cloudwatch:…:alarm:NAME`). */
  alarmArns: string[];
}

export interface RunRecord {
  entries: readonly TimedEntry[];
  instances: ReadonlyMap<string, InstanceFacts>;
  groups: ReadonlyMap<string, GroupFacts>;
  environments: EnvironmentView[];
  /** Region and account, to spell alarm ARNs. */
  region: string;
  accountId: string;
}

/**
 * Watches a region from inside the simulation. Attach before the story runs; build the record
 * after it (the region must not be disposed yet).
 */
export class RunObserver {
  private readonly instances = new Map<string, InstanceFacts>();
  private readonly groups = new Map<string, GroupFacts>();
  private readonly declared: EnvironmentDeclaration[] = [];

  constructor(private readonly region: Region) {
    const { ec2, autoScaling, engine } = region;
    ec2.onStateChange((instance, from) => {
      if (from !== null || this.instances.has(instance.instanceId)) return;
      const image = ec2.launchImageOf(instance.instanceId);
      this.instances.set(instance.instanceId, {
        instanceId: instance.instanceId,
        imageId: instance.imageId,
        version: image?.tags['kiln:version'],
        group: instance.tags['aws:autoscaling:groupName'],
        launchedAt: secondsOf(engine),
      });
    });
    engine.timeline.onRecord((entry) => {
      if (entry.kind !== 'state' || entry.from !== null || entry.to !== 'Active') return;
      if (!entry.resource.startsWith('autoscaling:') || entry.resource.includes('/')) return;
      const name = entry.resource.slice('autoscaling:'.length);
      const peeked = autoScaling.peekGroup(name);
      if (peeked && !this.groups.has(name)) this.groups.set(name, { name, ...peeked, createdAt: entry.t });
    });
  }

  /** A story's environment (StoryOptions.declareEnvironment); a second declaration of it replaces the first. */
  declare(environment: EnvironmentDeclaration): void {
    const at = this.declared.findIndex(
      (e) => e.service === environment.service && e.environment === environment.environment,
    );
    if (at >= 0) this.declared[at] = environment;
    else this.declared.push(environment);
  }

  /** The record of the run so far, with the story's environments completed by Kiln's own groups. */
  record(): RunRecord {
    const { context } = this.region.engine;
    const accountId = this.region.engine.accountId;
    const environments = this.declared.map((env): EnvironmentView => {
      const kilnGroups = [...this.groups.values()]
        .filter(
          (g) =>
            g.tags['kiln:service'] === env.service &&
            g.tags['kiln:environment'] === env.environment &&
            !env.groups.includes(g.name),
        )
        .map((g) => g.name);
      return {
        ...env,
        groups: [...env.groups, ...kilnGroups],
        alarmArns: env.alarmNames.map((n) => `arn:aws:cloudwatch:${context.region}:${accountId}:alarm:${n}`),
      };
    });
    return {
      entries: this.region.engine.timeline.entries,
      instances: this.instances,
      groups: this.groups,
      environments,
      region: context.region,
      accountId,
    };
  }
}

function secondsOf(engine: Region['engine']): number {
  return Math.round(engine.clock.now() - engine.timeline.epochMs) / 1000;
}
