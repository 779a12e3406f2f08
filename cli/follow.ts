/**
 * `--wait`: follows a deployment live until it ends. Polls the deployment record (its status and
 * `rollout`: the environment, the phase and what it waits for, as the rollout steps record them)
 * and the environment's Auto Scaling groups (instances on each launch template version), and
 * prints one progress line: redrawn in place on a terminal, else printed again only when it
 * changes (a CI log gets one line per change, not one per poll). The deploy execution is checked
 * now and then, so a deployment whose execution died does not keep `--wait` waiting forever.
 *
 * Everything it reads comes through FollowDeps, and time through `now`/`sleep`, so tests drive
 * it with a fake clock and scripted records, no wall time.
 */
import { isFinal } from '../shared/domain/deployment';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import type { Deployment, EnvironmentState } from '../shared/store/schemas';
import type { GroupDescription } from '../shared/usecases/rollout/deps';

/** How often the record is read: the rollout steps record a phase at most every few seconds. */
export const POLL_INTERVAL_MS = 5000;
/** Every this many polls the execution is asked whether it still runs. */
export const EXECUTION_CHECK_EVERY = 6;

export interface ExecutionState {
  status: string;
  error?: string;
  cause?: string;
}

export interface FollowDeps {
  read: () => Promise<Deployment | undefined>;
  /** Instances per launch template version of the groups the rollout touches; a string when unknown. */
  instances: (deployment: Deployment) => Promise<VersionCount[] | string | undefined>;
  /** The deploy execution's status (DescribeExecution), when it can be asked. */
  execution?: (deployment: Deployment) => Promise<ExecutionState | undefined>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  write: (text: string) => void;
  tty: boolean;
  columns?: number;
  intervalMs?: number;
}

export interface VersionCount {
  /** The launch template version, or `?` for instances without one. */
  version: string;
  total: number;
  /** Instances not yet (or no longer) InService, by lifecycle state. */
  notInService: Record<string, number>;
}

export interface FollowResult {
  deployment: Deployment;
  /** The one line saying how it ended. */
  summary: string;
  /** Whether it ended as the command wanted (`succeeded` for deploy and rollback). */
  ok: boolean;
}

/**
 * Polls until the deployment is final (or its execution is gone), printing progress; returns how
 * it ended. `wanted` says which final statuses count as success.
 */
export async function followDeployment(
  deploymentId: string,
  deps: FollowDeps,
  wanted: (deployment: Deployment) => boolean = (d) => d.status === 'succeeded',
): Promise<FollowResult> {
  const interval = deps.intervalMs ?? POLL_INTERVAL_MS;
  let shown: string | undefined;
  let drawn = false;
  const show = (line: string) => {
    if (line === shown) return;
    shown = line;
    const stamped = `[${clockTime(deps.now())}] ${line}`;
    if (deps.tty) {
      const width = deps.columns !== undefined && deps.columns > 1 ? deps.columns - 1 : undefined;
      deps.write(`\r\x1b[2K${width === undefined ? stamped : stamped.slice(0, width)}`);
      drawn = true;
    } else deps.write(`${stamped}\n`);
  };
  const end = (deployment: Deployment, summary: string, ok: boolean): FollowResult => {
    if (drawn) deps.write('\n');
    deps.write(`${summary}\n`);
    return { deployment, summary, ok };
  };

  for (let poll = 1; ; poll++) {
    const deployment = await deps.read();
    if (deployment === undefined) throw new Error(`deployment ${deploymentId} is no longer in the store`);
    if (isFinal(deployment.status)) return end(deployment, finalLine(deployment), wanted(deployment));
    if (deps.execution !== undefined && poll % EXECUTION_CHECK_EVERY === 0) {
      const execution = await deps.execution(deployment);
      if (execution !== undefined && execution.status !== 'RUNNING') {
        // The execution may have ended a moment after recording the final status: read once more.
        const latest = (await deps.read()) ?? deployment;
        if (isFinal(latest.status)) return end(latest, finalLine(latest), wanted(latest));
        return end(latest, deadExecutionLine(latest, execution), false);
      }
    }
    const instances = isRollingOut(deployment) ? await deps.instances(deployment) : undefined;
    show(progressLine(deployment, instances));
    await deps.sleep(interval);
  }
}

function isRollingOut(deployment: Deployment): boolean {
  return ['rolling-out', 'waiting-approval', 'rolling-back'].includes(deployment.status);
}

/** `HH:MM:SS` in UTC, as the store's times are. */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** What the deployment does now and what it waits for, on one line. */
export function progressLine(deployment: Deployment, instances?: VersionCount[] | string): string {
  const parts: string[] = [deployment.status];
  const { rollout } = deployment;
  if (deployment.status === 'queued') parts.push('waiting for its execution to begin');
  else if (deployment.status === 'baking') parts.push(`baking ${deployment.releaseVersion}`);
  else if (rollout !== undefined) {
    const position = `${rollout.index + 1}/${deployment.environments.length}`;
    parts.push(
      `${rollout.environment} (${position}) ${rollout.phase}${rollout.detail === undefined ? '' : `: ${rollout.detail}`}`,
    );
  }
  if (deployment.status === 'waiting-approval') {
    parts.push(`approve with \`kiln approve ${deployment.id}\``);
  }
  if (instances !== undefined) parts.push(`instances ${describeInstances(instances)}`);
  if (deployment.abort !== undefined) parts.push(`abort requested by ${deployment.abort.actor}`);
  return parts.join(' · ');
}

/** `v3 4, v4 2 (1 Pending)`; a string says why the counts are unknown. */
export function describeInstances(instances: VersionCount[] | string): string {
  if (typeof instances === 'string') return `unknown (${instances})`;
  if (instances.length === 0) return 'none';
  return instances
    .map((count) => {
      const waiting = Object.entries(count.notInService)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ');
      return `v${count.version} ${count.total}${waiting === '' ? '' : ` (${waiting})`}`;
    })
    .join(', ');
}

export function finalLine(deployment: Deployment): string {
  const what = `deployment ${deployment.id} (${deployment.service} ${deployment.releaseVersion}) ${deployment.status}`;
  if (deployment.status === 'succeeded') return `${what}: ${deployment.environments.join(', ')}`;
  const why =
    deployment.reason ?? (deployment.outcome !== deployment.status ? deployment.outcome : undefined);
  return why === undefined ? what : `${what}: ${firstLine(why)}`;
}

function deadExecutionLine(deployment: Deployment, execution: ExecutionState): string {
  const detail = [execution.error, execution.cause].filter((s) => s !== undefined && s !== '').join(': ');
  return (
    `deployment ${deployment.id} is still ${deployment.status}, but its execution ended ${execution.status}` +
    (detail === '' ? '' : ` (${firstLine(detail)})`)
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/**
 * The groups a rollout touches in its environment, and their region: blue/green's two groups
 * once the rollout names them, else the environment's active group (the manifest's, until a
 * blue/green switch moved it).
 */
export function groupsOf(
  deployment: Deployment,
  manifest: ServiceManifest,
  state: Pick<EnvironmentState, 'activeGroup'> | undefined,
): { region: string; groups: string[] } | undefined {
  const name = deployment.rollout?.environment ?? deployment.environments[0];
  const env = manifest.environments.find((e) => e.name === name);
  if (env === undefined) return undefined;
  const named = [deployment.rollout?.fromGroup, deployment.rollout?.toGroup].filter(
    (group): group is string => group !== undefined,
  );
  const groups = named.length > 0 ? [...new Set(named)] : [state?.activeGroup ?? env.autoScalingGroup];
  return { region: env.region, groups };
}

/** Instances of the groups by launch template version, numerically ordered; `?` last. */
export function countByVersion(groups: ReadonlyArray<GroupDescription | undefined>): VersionCount[] {
  const counts = new Map<string, VersionCount>();
  for (const group of groups) {
    for (const instance of group?.instances ?? []) {
      const version = instance.launchTemplateVersion ?? '?';
      const count = counts.get(version) ?? { version, total: 0, notInService: {} };
      count.total += 1;
      if (instance.lifecycleState !== 'InService') {
        count.notInService[instance.lifecycleState] = (count.notInService[instance.lifecycleState] ?? 0) + 1;
      }
      counts.set(version, count);
    }
  }
  const order = (version: string) => (version === '?' ? Number.POSITIVE_INFINITY : Number(version));
  return [...counts.values()].sort((a, b) => order(a.version) - order(b.version));
}
