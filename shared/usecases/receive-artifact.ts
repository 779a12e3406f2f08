/**
 * A new artifact was published. Course:
 * 1. Read every service's manifest and match the artifact against each (one bucket or
 *    repository may feed several services; most services ignore most artifacts).
 * 2. For each match, record the artifact once (a conditional write keyed by service, version and
 *    digest: EventBridge delivers at least once, so duplicates are expected and ignored).
 * 3. Report matches and the reasons others were skipped, for the log.
 * Starting the deploy (bake, then roll out) from a recorded artifact comes with the bake work.
 */
import { matchArtifact, type ArtifactFacts, type ArtifactRef } from '../domain/artifact';
import type { ServiceManifest } from '../domain/manifest/schema';
import type { KilnStore } from '../store';

export interface ReceiveArtifactDeps {
  store: Pick<KilnStore<ServiceManifest>, 'listServices' | 'recordArtifact'>;
}

export interface ReceiveArtifactResult {
  /** Artifacts seen for the first time. */
  recorded: ArtifactRef[];
  /** Artifacts already recorded by an earlier delivery of the same event. */
  duplicates: ArtifactRef[];
  skipped: Array<{ service: string; reason: string }>;
}

export async function receiveArtifact(
  facts: ArtifactFacts,
  actor: string,
  deps: ReceiveArtifactDeps,
): Promise<ReceiveArtifactResult> {
  const result: ReceiveArtifactResult = { recorded: [], duplicates: [], skipped: [] };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listServices(cursor === undefined ? {} : { cursor });
    for (const service of page.items) {
      const match = matchArtifact(service.manifest, facts);
      if (!match.matched) {
        result.skipped.push({ service: service.service, reason: match.reason });
        continue;
      }
      const { created } = await deps.store.recordArtifact(match.artifact, { actor });
      (created ? result.recorded : result.duplicates).push(match.artifact);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  return result;
}
