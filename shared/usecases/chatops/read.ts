/** `/kiln status [SERVICE]` and `/kiln history SERVICE`: Kiln's records as short Slack messages. */
import { isFinal } from '../../domain/deployment';
import { textMessage, type ChatMessage } from '../../domain/chatops/messages';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import { DeploymentRequestError } from '../deployments/errors';

type Store = KilnStore<ServiceManifest>;

/** At most this many services in `status` without a name (a Slack message stays readable). */
const STATUS_SERVICES = 20;
const HISTORY_LENGTH = 10;

export async function statusMessage(service: string | undefined, store: Store): Promise<ChatMessage> {
  if (service === undefined) {
    const page = await store.listServices({ limit: STATUS_SERVICES });
    if (page.items.length === 0) return textMessage('Kiln knows no services yet.');
    const lines: string[] = [];
    for (const record of page.items) lines.push(...(await serviceLines(record.manifest, store)));
    return textMessage(lines.join('\n'));
  }
  const record = await store.getService(service);
  if (record === undefined) throw new DeploymentRequestError(`no service named "${service}"`, 'service');
  const lines = await serviceLines(record.manifest, store);
  const running = (await store.listDeployments(service, { limit: 20 })).items.filter(
    (d) => !isFinal(d.status),
  );
  for (const d of running) {
    lines.push(
      `  running: ${d.id} ${d.mode ?? 'deploy'} ${d.releaseVersion} — ${d.status}${d.rollout ? ` (${d.rollout.environment}: ${d.rollout.phase})` : ''}`,
    );
  }
  return textMessage(lines.join('\n'));
}

async function serviceLines(manifest: ServiceManifest, store: Store): Promise<string[]> {
  const lines = [`*${manifest.name}*`];
  for (const env of manifest.environments) {
    const state = await store.getEnvironmentState(manifest.name, env.name);
    const capacity = state.capacity === undefined ? '' : `, ${state.capacity.desired} instances`;
    const lock =
      state.lock === undefined ? '' : `, locked by ${state.lock.deploymentId ?? state.lock.holder}`;
    lines.push(
      `  ${env.name}: ${state.currentRelease ?? 'nothing recorded'} (previous ${state.previousRelease ?? 'none'}${capacity}${lock})`,
    );
  }
  return lines;
}

export async function historyMessage(service: string, store: Store): Promise<ChatMessage> {
  if ((await store.getService(service)) === undefined) {
    throw new DeploymentRequestError(`no service named "${service}"`, 'service');
  }
  const page = await store.listDeployments(service, { limit: HISTORY_LENGTH });
  if (page.items.length === 0) return textMessage(`${service} has no deployments yet.`);
  const lines = page.items.map(
    (d) =>
      `${d.createdAt.slice(0, 16).replace('T', ' ')} ${d.id} ${d.mode ?? 'deploy'} ${d.releaseVersion} → ${d.environments.join(', ')}: ${d.status} (by ${d.actor})`,
  );
  return textMessage([`*${service}* — last ${page.items.length} deployments`, ...lines].join('\n'));
}
