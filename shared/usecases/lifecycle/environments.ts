/**
 * Which of Kiln's environments a group serves: by the tags Kiln puts on the groups it makes
 * (blue/green's green, shared/domain/blue-green.ts) and otherwise by the manifests (an environment's
 * `autoScalingGroup`, or the group its state says serves it). Shared by the handling and the heal.
 */
import type { Environment, ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';

export interface KilnEnvironment {
  service: string;
  environment: Environment;
  /** The groups serving it: the manifest's and, after a blue/green switch, the active one. */
  groups: string[];
}

/** Every environment of every manifest in `region`, with its groups (pages through the services). */
export async function environmentsIn(
  store: KilnStore<ServiceManifest>,
  region: string,
): Promise<KilnEnvironment[]> {
  const found: KilnEnvironment[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listServices(cursor === undefined ? {} : { cursor });
    for (const record of page.items) {
      for (const environment of record.manifest.environments) {
        if (environment.region !== region) continue;
        const state = await store.getEnvironmentState(record.service, environment.name);
        const groups = [
          ...new Set([environment.autoScalingGroup, ...(state.activeGroup ? [state.activeGroup] : [])]),
        ];
        found.push({ service: record.service, environment, groups });
      }
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return found;
}

/** The environment `groupName` serves, if it is one of Kiln's. */
export async function environmentOfGroup(
  store: KilnStore<ServiceManifest>,
  region: string,
  groupName: string,
  tags: Record<string, string>,
): Promise<KilnEnvironment | undefined> {
  const service = tags['kiln:service'];
  const name = tags['kiln:environment'];
  if (service !== undefined && name !== undefined) {
    const record = await store.getService(service);
    const environment = record?.manifest.environments.find((e) => e.name === name && e.region === region);
    if (environment) return { service, environment, groups: [environment.autoScalingGroup, groupName] };
  }
  return (await environmentsIn(store, region)).find((env) => env.groups.includes(groupName));
}
