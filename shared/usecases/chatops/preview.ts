/**
 * Chat's proposals: what an action asked for in Slack would change, read from Kiln's records
 * (nothing is written), and whether the person may do it (shared/domain/chatops/authorize.ts).
 * Refusals of the request itself (no such service, release, deployment; nothing to roll back to)
 * are DeploymentRequestErrors naming the word at fault, as the CLI's are.
 */
import { authorize, groupsNamed, type Authorization, type Permission } from '../../domain/chatops/authorize';
import type { ChatCommand } from '../../domain/chatops/commands';
import type { Proposal } from '../../domain/chatops/proposal';
import { isFinal } from '../../domain/deployment';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import type { Deployment } from '../../store/schemas';
import { DeploymentRequestError } from '../deployments/errors';
import type { UserGroupDirectory } from './ports';

export interface PreviewFacts {
  /** Instances the environment will run the release on (its recorded desired capacity). */
  instances?: number;
  /** The release an approval promotes. */
  release?: string;
}

type ActingCommand =
  | Extract<ChatCommand, { name: 'deploy' | 'rollback' | 'approve' | 'abort' }>
  | { name: 'refuse'; deploymentId: string };

type Store = KilnStore<ServiceManifest>;

export async function proposalFor(
  command: ActingCommand,
  store: Store,
): Promise<{ proposal: Proposal; facts: PreviewFacts }> {
  switch (command.name) {
    case 'deploy': {
      await environmentOf(command.service, command.environment, store);
      if ((await store.getRelease(command.service, command.version)) === undefined) {
        throw new DeploymentRequestError(
          `${command.service} has no release ${command.version}: Kiln deploys releases it has baked`,
          'version',
        );
      }
      const state = await store.getEnvironmentState(command.service, command.environment);
      if (state.currentRelease === command.version) {
        throw new DeploymentRequestError(
          `${command.service}/${command.environment} runs ${command.version} already`,
          'version',
        );
      }
      return {
        proposal: {
          action: 'deploy',
          service: command.service,
          environment: command.environment,
          version: command.version,
          ...(state.currentRelease === undefined ? {} : { from: state.currentRelease }),
        },
        facts: instances(state.capacity?.desired),
      };
    }
    case 'rollback': {
      await environmentOf(command.service, command.environment, store);
      const state = await store.getEnvironmentState(command.service, command.environment);
      const earlier = (state.history ?? []).filter((r) => r.release !== state.currentRelease);
      const target = command.version ?? state.previousRelease ?? earlier[0]?.release;
      const where = `${command.service}/${command.environment}`;
      const record = earlier.find((r) => r.release === target);
      if (target === undefined || record === undefined) {
        const holds = earlier.map((r) => r.release).join(', ') || 'no earlier release';
        throw new DeploymentRequestError(
          target === undefined || target === state.currentRelease
            ? `${where} has no earlier release to roll back to (its history holds ${holds})`
            : `${where} has no record of ${target} to restore (its history holds ${holds})`,
          command.version === undefined ? 'environments' : 'version',
        );
      }
      return {
        proposal: {
          action: 'rollback',
          service: command.service,
          environment: command.environment,
          version: target,
          ...(state.currentRelease === undefined ? {} : { from: state.currentRelease }),
        },
        // A rollback restores the record's capacity as well as its launch template version.
        facts: instances(record.capacity.desired),
      };
    }
    case 'approve':
    case 'refuse': {
      const deployment = await deploymentOf(command.deploymentId, store);
      const environment = approvalEnvironment(deployment);
      if (deployment.status !== 'waiting-approval' || environment === undefined) {
        throw new DeploymentRequestError(
          `deployment ${deployment.id} is ${deployment.status}, not waiting for approval`,
          'deploymentId',
        );
      }
      const state = await store.getEnvironmentState(deployment.service, environment);
      return {
        proposal: { action: command.name, deploymentId: deployment.id, environment },
        facts: {
          ...instances(state.capacity?.desired),
          release: `${deployment.service} ${state.currentRelease ?? 'nothing recorded'} → ${deployment.releaseVersion}`,
        },
      };
    }
    case 'abort': {
      const deployment = await deploymentOf(command.deploymentId, store);
      if (isFinal(deployment.status)) {
        throw new DeploymentRequestError(
          `deployment ${deployment.id} has ended (${deployment.status}); nothing to abort`,
          'deploymentId',
        );
      }
      const environment = deployment.rollout?.environment ?? deployment.environments[0] ?? '';
      const state = await store.getEnvironmentState(deployment.service, environment);
      return {
        proposal: { action: 'abort', deploymentId: deployment.id, environment },
        facts: instances(state.capacity?.desired),
      };
    }
  }
}

/** The environment a deployment waiting for approval would enter next. */
export function approvalEnvironment(deployment: Deployment): string | undefined {
  const index = deployment.rollout === undefined ? -1 : deployment.rollout.index;
  return deployment.environments[index + 1];
}

const PERMISSION: Record<Proposal['action'], Permission> = {
  deploy: 'deploy',
  rollback: 'rollback',
  approve: 'approve',
  refuse: 'approve',
  abort: 'rollback',
};

/** May `userId` carry out `proposal`? Reads the manifest (and, when it names groups, Slack's). */
export async function authorizeProposal(
  proposal: Proposal,
  userId: string,
  store: Store,
  directory: UserGroupDirectory | undefined,
): Promise<Authorization> {
  const service =
    'service' in proposal ? proposal.service : (await deploymentOf(proposal.deploymentId, store)).service;
  const record = await store.getService(service);
  if (record === undefined) return { allowed: false, message: `no service named "${service}"` };
  const permission = PERMISSION[proposal.action];
  const named = groupsNamed(record.manifest, permission, proposal.environment);
  const groups = new Set<string>();
  let groupsResolved = true;
  for (const group of named) {
    if (directory === undefined) {
      groupsResolved = false;
      break;
    }
    try {
      if ((await directory.membersOf(group)).includes(userId)) groups.add(group);
    } catch {
      groupsResolved = false;
    }
  }
  return authorize({ permission, environment: proposal.environment }, record.manifest, {
    userId,
    groups,
    groupsResolved,
  });
}

async function environmentOf(service: string, environment: string, store: Store): Promise<void> {
  const record = await store.getService(service);
  if (record === undefined) {
    throw new DeploymentRequestError(
      `no service named "${service}" (\`/kiln status\` lists them)`,
      'service',
    );
  }
  const names = record.manifest.environments.map((e) => e.name);
  if (!names.includes(environment)) {
    throw new DeploymentRequestError(
      `${service} has no environment "${environment}" (its environments: ${names.join(', ')})`,
      'environments',
    );
  }
}

async function deploymentOf(id: string, store: Store): Promise<Deployment> {
  const deployment = await store.getDeployment(id);
  if (deployment === undefined) throw new DeploymentRequestError(`no deployment ${id}`, 'deploymentId');
  return deployment;
}

function instances(desired: number | undefined): PreviewFacts {
  return desired === undefined ? {} : { instances: desired };
}
