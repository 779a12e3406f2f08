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
 * 4. Report matches, refusals and the reasons others were skipped, for the log.
 * Starting the deploy (bake, then roll out) from a recorded artifact comes with the bake work.
 */
import { matchArtifact, type ArtifactFacts, type ArtifactRef } from '../domain/artifact';
import { StoredArtifactView } from '../domain/manifest/artifact';
import * as z from '../domain/zod';
import { formatPath } from '../runtime/validation';
import { AuditMissingError, type KilnStore, type NamedManifest } from '../store';

export interface ReceiveArtifactDeps {
  /** Any stored manifest will do: each is read through StoredArtifactView. */
  store: Pick<KilnStore<NamedManifest>, 'listServices' | 'recordArtifact'>;
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
  };
  const matched: ArtifactRef[] = [];
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
      if (match.outcome === 'matched') matched.push(match.artifact);
      else if (match.outcome === 'skipped')
        result.skipped.push({ service: service.service, reason: match.reason });
      else result.refused.push({ service: service.service, field: match.field, reason: match.reason });
    }
    cursor = page.cursor;
  } while (cursor !== undefined);

  for (const artifact of matched) {
    try {
      const { created } = await deps.store.recordArtifact(artifact, { actor });
      (created ? result.recorded : result.duplicates).push(artifact);
    } catch (error) {
      if (!(error instanceof AuditMissingError)) throw error;
      result.recorded.push(artifact);
      result.auditMissing.push(artifact);
    }
  }
  return result;
}
