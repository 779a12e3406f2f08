/**
 * A new artifact was published. Course:
 * 1. Read every service's manifest and match the artifact against each (one bucket or
 *    repository may feed several services; most services ignore most artifacts). Matching checks
 *    each artifact against the store's limits. Of each stored manifest only the artifact section
 *    is read, and checked to be one this code can read (StoredArtifactView): a record stored in
 *    another manifest format, or damaged, refuses that service by name instead of being misread
 *    or failing the event for every service.
 * 2. A service whose artifact cannot be stored (its own keyPattern extracted a version the store
 *    refuses, say) is refused with the field named. Every check runs before the first write, and
 *    refusals are decided per service: one service's sloppy pattern must not hold back the
 *    artifact for the services that can take it, and a redelivery decides exactly the same way.
 * 3. Record each matched artifact once (a conditional write keyed by service, version and
 *    digest: EventBridge delivers at least once, so duplicates are expected and ignored).
 * 4. Start each matched artifact's deployment, duplicates included (a crash between recording and
 *    starting heals on redelivery): create the deployment record (id = the execution name, from
 *    service, version and digest; "already exists" is a redelivery), then StartExecution with that
 *    name ("already exists" is done). Both steps are idempotent, so a redelivery starts nothing new.
 * 5. Report matches, refusals, starts and the reasons others were skipped, for the log.
 */
import { matchArtifact, type ArtifactFacts, type ArtifactRef } from '../domain/artifact';
import type { DeployExecutionInput } from '../domain/deploy-execution';
import { executionName } from '../domain/ids';
import { StoredArtifactView } from '../domain/manifest/artifact';
import * as z from '../domain/zod';
import { formatPath } from '../runtime/validation';
import { AuditMissingError, ConflictError, type KilnStore, type NamedManifest } from '../store';

/** Starts deploy executions by name (shared/aws/sfn.ts), idempotently. */
export interface DeployStarter {
  executionArn(name: string): string;
  start(
    name: string,
    input: DeployExecutionInput,
  ): Promise<{ executionArn: string; outcome: 'started' | 'already-started' }>;
}

export interface ReceiveArtifactDeps {
  /** Any stored manifest will do: each is read through StoredArtifactView. */
  store: Pick<KilnStore<NamedManifest>, 'listServices' | 'recordArtifact' | 'createDeployment'>;
  deploys: DeployStarter;
}

export interface DeploymentStart {
  deploymentId: string;
  service: string;
  version: string;
  executionArn: string;
}

export interface ArtifactRefusal {
  service: string;
  /** Where in the event the value came from, e.g. `detail.version`. */
  field: string;
  reason: string;
}

export interface ReceiveArtifactResult {
  /** Artifacts seen for the first time. */
  recorded: ArtifactRef[];
  /** Artifacts already recorded by an earlier delivery of the same event. */
  duplicates: ArtifactRef[];
  skipped: Array<{ service: string; reason: string }>;
  /** Services whose artifact cannot be stored: nothing was recorded for them. */
  refused: ArtifactRefusal[];
  /**
   * Artifacts recorded whose audit entry could not be written even after the store's retries.
   * The artifact stands (a redelivery would see a duplicate and could not audit it either), so
   * the caller reports it loudly instead of failing the event.
   */
  auditMissing: ArtifactRef[];
  /** Deploy executions started by this delivery. */
  started: DeploymentStart[];
  /** Deploy executions an earlier delivery had started already. */
  alreadyStarted: DeploymentStart[];
}

/** A matched artifact with what its deployment needs of the service's manifest. */
interface Matched {
  artifact: ArtifactRef;
  manifestVersion: number;
  environments: string[];
}

export async function receiveArtifact(
  facts: ArtifactFacts,
  actor: string,
  deps: ReceiveArtifactDeps,
): Promise<ReceiveArtifactResult> {
  const result: ReceiveArtifactResult = {
    recorded: [],
    duplicates: [],
    skipped: [],
    refused: [],
    auditMissing: [],
    started: [],
    alreadyStarted: [],
  };
  const matched: Matched[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listServices(cursor === undefined ? {} : { cursor });
    for (const service of page.items) {
      const view = z.safeParse(StoredArtifactView, service.manifest);
      if (!view.success) {
        const issue = view.error.issues[0];
        result.refused.push({
          service: service.service,
          field: formatPath(['manifest', ...(issue?.path ?? [])]),
          reason: `the stored manifest cannot be read (${issue?.message ?? 'malformed'}): apply it again with this version of Kiln`,
        });
        continue;
      }
      const match = matchArtifact(view.data, facts);
      if (match.outcome === 'matched') {
        matched.push({
          artifact: match.artifact,
          manifestVersion: service.version,
          environments: view.data.environments.map((environment) => environment.name),
        });
      } else if (match.outcome === 'skipped')
        result.skipped.push({ service: service.service, reason: match.reason });
      else result.refused.push({ service: service.service, field: match.field, reason: match.reason });
    }
    cursor = page.cursor;
  } while (cursor !== undefined);

  for (const { artifact } of matched) {
    try {
      const { created } = await deps.store.recordArtifact(artifact, { actor });
      (created ? result.recorded : result.duplicates).push(artifact);
    } catch (error) {
      if (!(error instanceof AuditMissingError)) throw error;
      result.recorded.push(artifact);
      result.auditMissing.push(artifact);
    }
  }

  for (const match of matched) {
    const start = await startDeployment(match, actor, deps);
    (start.outcome === 'started' ? result.started : result.alreadyStarted).push(start.deployment);
  }
  return result;
}

/** Step 4 for one artifact: the deployment record, then its execution; each idempotent. */
async function startDeployment(
  { artifact, manifestVersion, environments }: Matched,
  actor: string,
  deps: ReceiveArtifactDeps,
): Promise<{ outcome: 'started' | 'already-started'; deployment: DeploymentStart }> {
  const { service, version, uri, digest } = artifact;
  const deploymentId = executionName({ service, version, digest });
  const executionArn = deps.deploys.executionArn(deploymentId);
  try {
    await deps.store.createDeployment({
      id: deploymentId,
      service,
      releaseVersion: version,
      environments,
      trigger: 'artifact',
      actor,
      artifact: { uri, digest },
      executionArn,
    });
  } catch (error) {
    // The deployment exists with other environments: the manifest changed between an earlier
    // delivery and this one. The record stands as first written; the execution is still started,
    // or found started, so a crash between the two writes heals all the same.
    if (!(error instanceof ConflictError) && !(error instanceof AuditMissingError)) throw error;
  }
  const input: DeployExecutionInput = {
    deploymentId,
    service,
    version,
    manifestVersion,
    artifact: { kind: artifact.sourceKind, uri, digest },
  };
  const started = await deps.deploys.start(deploymentId, input);
  return {
    outcome: started.outcome,
    deployment: { deploymentId, service, version, executionArn: started.executionArn },
  };
}
