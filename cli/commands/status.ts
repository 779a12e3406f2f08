import type { Command } from 'commander';
import { isFinal } from '../../shared/domain/deployment';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore, ServiceRecord } from '../../shared/store';
import type { EnvironmentState } from '../../shared/store/schemas';
import {
  CliUsageError,
  processIo,
  renderTable,
  runReported,
  withStore,
  withStoreOptions,
  type StoreCommandIo,
  type StoreOptions,
} from '../store-options';

/** How many of a service's newest deployments are searched for running ones. */
const RECENT_DEPLOYMENTS = 100;

export interface EnvironmentStatus {
  name: string;
  region: string;
  strategy: 'rolling' | 'blue-green';
  currentRelease: string | null;
  previousRelease: string | null;
  launchTemplate: { id: string; version: number } | null;
  capacity: { min: number; max: number; desired: number } | null;
  activeGroup: string;
  /** The releases the history holds (what `kiln rollback --to` can restore), newest first. */
  history: string[];
  lock: { holder: string; deploymentId: string | null; expiresAt: string; expired: boolean } | null;
}

export interface RunningDeployment {
  id: string;
  releaseVersion: string;
  mode: 'deploy' | 'rollback';
  status: Deployment['status'];
  environments: string[];
  trigger: Deployment['trigger'];
  actor: string;
  createdAt: string;
  /** Where the rollout stands (deployment.rollout), when it has begun. */
  rollout: NonNullable<Deployment['rollout']> | null;
  waitingApproval: boolean;
  abort: NonNullable<Deployment['abort']> | null;
}

export interface ServiceStatus {
  service: string;
  manifestVersion: number;
  environments: EnvironmentStatus[];
  running: RunningDeployment[];
}

/**
 * `kiln status [SERVICE] [--json]`: for each service (or the one named), its environments in
 * promotion order (current and previous release, launch template version, capacity, active
 * group, lock holder and expiry) and its running deployments (status, the environment and phase
 * of the rollout, what it waits for, approvals waiting). Reads the store only.
 */
export function registerStatus(
  program: Command,
  io: StoreCommandIo = processIo,
  now: () => number = Date.now,
): void {
  withStoreOptions(
    program
      .command('status')
      .description('Show environments (releases, lock) and running deployments of every service or one.')
      .argument('[service]', 'service name (default: every service)')
      .option('--json', 'print JSON'),
  ).action(async (service: string | undefined, options: StoreOptions & { json?: boolean }) => {
    await runReported(io, async () => {
      const statuses = await withStore(options, io, async (store) => {
        const records = service === undefined ? await allServices(store) : [await oneService(store, service)];
        return Promise.all(records.map((record) => statusOf(store, record, now())));
      });
      if (options.json === true) {
        io.stdout(`${JSON.stringify({ services: statuses }, null, 2)}\n`);
        return;
      }
      if (statuses.length === 0) {
        io.stdout('no services: add one with `kiln services apply -f FILE`\n');
        return;
      }
      io.stdout(statuses.map(render).join('\n'));
    });
  });
}

async function oneService(
  store: KilnStore<ServiceManifest>,
  service: string,
): Promise<ServiceRecord<ServiceManifest>> {
  const record = await store.getService(service);
  if (record === undefined) {
    throw new CliUsageError(
      `SERVICE: no service named "${service}": \`kiln services list\` shows the services Kiln knows`,
    );
  }
  return record;
}

async function allServices(
  store: KilnStore<ServiceManifest>,
): Promise<Array<ServiceRecord<ServiceManifest>>> {
  const all: Array<ServiceRecord<ServiceManifest>> = [];
  let cursor: string | undefined;
  do {
    const page = await store.listServices({ limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

async function statusOf(
  store: KilnStore<ServiceManifest>,
  record: ServiceRecord<ServiceManifest>,
  now: number,
): Promise<ServiceStatus> {
  const { manifest } = record;
  const environments = await Promise.all(
    manifest.environments.map(async (env): Promise<EnvironmentStatus> => {
      const state = await store.getEnvironmentState(record.service, env.name);
      return {
        name: env.name,
        region: env.region,
        strategy: env.strategy.type,
        currentRelease: state.currentRelease ?? null,
        previousRelease: state.previousRelease ?? null,
        launchTemplate: state.launchTemplate ?? null,
        capacity: state.capacity ?? null,
        activeGroup: state.activeGroup ?? env.autoScalingGroup,
        history: (state.history ?? []).map((entry) => entry.release),
        lock: lockOf(state, now),
      };
    }),
  );
  const recent = await store.listDeployments(record.service, { limit: RECENT_DEPLOYMENTS });
  const running = recent.items
    .filter((deployment) => !isFinal(deployment.status))
    .map((d): RunningDeployment => ({
      id: d.id,
      releaseVersion: d.releaseVersion,
      mode: d.mode ?? 'deploy',
      status: d.status,
      environments: d.environments,
      trigger: d.trigger,
      actor: d.actor,
      createdAt: d.createdAt,
      rollout: d.rollout ?? null,
      waitingApproval: d.status === 'waiting-approval',
      abort: d.abort ?? null,
    }));
  return { service: record.service, manifestVersion: record.version, environments, running };
}

function lockOf(state: EnvironmentState, now: number): EnvironmentStatus['lock'] {
  const { lock } = state;
  if (lock === undefined) return null;
  return {
    holder: lock.holder,
    deploymentId: lock.deploymentId ?? null,
    expiresAt: new Date(lock.expiresAt).toISOString(),
    expired: lock.expiresAt <= now,
  };
}

function render(status: ServiceStatus): string {
  const head = `${status.service} (manifest version ${status.manifestVersion})\n`;
  const environments = renderTable(
    ['ENVIRONMENT', 'CURRENT', 'PREVIOUS', 'LAUNCH TEMPLATE', 'CAPACITY', 'GROUP', 'LOCK'],
    status.environments.map((env) => [
      env.name,
      env.currentRelease ?? '-',
      env.previousRelease ?? '-',
      env.launchTemplate === null ? '-' : `${env.launchTemplate.id} v${env.launchTemplate.version}`,
      env.capacity === null ? '-' : `${env.capacity.min}/${env.capacity.desired}/${env.capacity.max}`,
      env.activeGroup,
      env.lock === null
        ? '-'
        : `${env.lock.holder} until ${env.lock.expiresAt}${env.lock.expired ? ' (expired)' : ''}`,
    ]),
  );
  if (status.running.length === 0) return `${head}${environments}no running deployments\n`;
  const running = renderTable(
    ['DEPLOYMENT', 'VERSION', 'STATUS', 'ENVIRONMENT', 'PHASE', 'WAITING FOR'],
    status.running.map((d) => [
      d.mode === 'rollback' ? `${d.id} (rollback)` : d.id,
      d.releaseVersion,
      d.status,
      d.rollout === null ? d.environments.join(',') : d.rollout.environment,
      d.rollout?.phase ?? '-',
      waitingFor(d),
    ]),
  );
  return `${head}${environments}running:\n${running}`;
}

function waitingFor(d: RunningDeployment): string {
  const parts: string[] = [];
  if (d.rollout?.detail !== undefined) parts.push(d.rollout.detail);
  if (d.waitingApproval) parts.push(`approval: kiln approve ${d.id}`);
  if (d.abort !== null) parts.push(`abort requested by ${d.abort.actor}`);
  return parts.length === 0 ? '-' : parts.join('; ');
}
