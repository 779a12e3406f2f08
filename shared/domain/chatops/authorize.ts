/**
 * Who may do what from chat, decided from the service manifest's `access` lists of the
 * environment concerned (README "ChatOps: `/kiln` in Slack"). Pure: the caller hands in the
 * manifest and what it knows of the user.
 *
 * - `status` and `history` are reads: anyone in the workspace that installed the app.
 * - `deploy` needs the environment's `access.deploy`, `rollback` (and the Roll back button) its
 *   `access.rollback`, `approve` and the Approve/Refuse buttons the `access.approve` of the
 *   environment the deployment waits to enter, `abort` the `access.rollback` of the environment
 *   in progress (aborting restores that environment's previous release: a rollback).
 * - A list names Slack user ids (U…/W…) or user-group ids (S…). Slack's request names only the
 *   user, so groups are resolved by the caller (Slack's usergroups.users.list with the app's bot
 *   token) and passed in `groups`; when they could not be resolved, a group entry grants nothing
 *   (fail closed) and the refusal says so.
 * - An empty list allows nobody: chat never acts on an environment whose manifest names no one.
 */
import type { ServiceManifest } from '../manifest/schema';

export type Permission = 'read' | 'deploy' | 'rollback' | 'approve';

export interface ChatUser {
  /** Slack user id, U… or W…. */
  userId: string;
  /** The user-group ids (S…) the user is known to belong to, among those the lists name. */
  groups: ReadonlySet<string>;
  /** False when group memberships could not be looked up (no bot token, Slack unreachable). */
  groupsResolved: boolean;
}

export type Authorization =
  { allowed: true; via: 'anyone' | 'user' | `group ${string}` } | { allowed: false; message: string };

const VERBS: Record<Exclude<Permission, 'read'>, string> = {
  deploy: 'deploy to',
  rollback: 'roll back',
  approve: 'approve promotions to',
};

export function authorize(
  request: { permission: Permission; environment?: string },
  manifest: ServiceManifest,
  user: ChatUser,
): Authorization {
  if (request.permission === 'read') return { allowed: true, via: 'anyone' };
  const { permission, environment } = request;
  const where = `${manifest.name}/${environment ?? '?'}`;
  const env = manifest.environments.find((e) => e.name === environment);
  if (env === undefined) {
    return {
      allowed: false,
      message: `${manifest.name} has no environment "${environment ?? ''}" (its environments: ${manifest.environments.map((e) => e.name).join(', ')})`,
    };
  }
  const listed = env.access[permission];
  const field = `environments[${env.name}].access.${permission}`;
  if (listed.includes(user.userId)) return { allowed: true, via: 'user' };
  const group = listed.find((id) => id.startsWith('S') && user.groups.has(id));
  if (group !== undefined) return { allowed: true, via: `group ${group}` };
  const refused = `<@${user.userId}> may not ${VERBS[permission]} ${where}`;
  if (listed.length === 0) {
    return { allowed: false, message: `${refused}: the manifest lists nobody in ${field}` };
  }
  const groupsListed = listed.filter((id) => id.startsWith('S'));
  if (groupsListed.length > 0 && !user.groupsResolved) {
    return {
      allowed: false,
      message: `${refused}: not listed in ${field}, and its user groups (${groupsListed.join(', ')}) could not be checked, so they grant nothing`,
    };
  }
  return { allowed: false, message: `${refused}: only those listed in ${field} may` };
}

/** The user groups a permission's list names in an environment: the only ones worth resolving. */
export function groupsNamed(
  manifest: ServiceManifest,
  permission: Permission,
  environment?: string,
): string[] {
  if (permission === 'read') return [];
  const env = manifest.environments.find((e) => e.name === environment);
  return env === undefined ? [] : env.access[permission].filter((id) => id.startsWith('S'));
}
