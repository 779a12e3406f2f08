import { parseOrThrow } from '../runtime/validation';
import type { AuditLog } from './audit-log';
import { ActorOption, canonical, defined, field, fromItem, type StoreCore } from './core';
import { ConflictError } from './errors';
import { KeyName, keys, partitions } from './keys';
import {
  ArtifactInput,
  ArtifactRecord,
  Release,
  ReleaseInput,
  auditTarget,
  type Page,
  type PageRequest,
} from './schemas';

/** What CI published (artifacts) and what was baked from it (releases): both recorded once. */
export class Releases {
  constructor(
    private readonly core: StoreCore,
    private readonly audit: AuditLog,
  ) {}

  async recordArtifact(
    input: ArtifactInput,
    options: { actor: string },
  ): Promise<{ created: boolean; artifact: ArtifactRecord }> {
    const artifact = parseOrThrow(ArtifactInput, input, 'artifact');
    const { actor } = parseOrThrow(ActorOption, options, 'recordArtifact options');
    const record: ArtifactRecord = { ...artifact, receivedAt: this.core.iso(), receivedBy: actor };
    const write = await this.core.createOnce(
      {
        ...keys.artifact(artifact.service, artifact.version, artifact.digest),
        ...keys.artifactIndex(artifact.service, record.receivedAt, artifact.version),
        kind: 'artifact',
        ...record,
      },
      this.audit.nextWrite(),
    );
    if (!write.created) {
      if (!write.existing) throw write.error;
      return { created: false, artifact: fromItem(ArtifactRecord, write.existing, 'artifact') };
    }
    return this.audit.change(
      {
        actor,
        action: 'artifact.record',
        target: auditTarget.artifact(artifact.service, artifact.version),
        service: artifact.service,
        after: { uri: artifact.uri, digest: artifact.digest, sourceKind: artifact.sourceKind },
      },
      { created: true, artifact: record },
    );
  }

  async listArtifacts(service: string, page: PageRequest): Promise<Page<ArtifactRecord>> {
    const name = field('service', KeyName, service);
    return this.core.queryPage({
      index: true,
      partition: partitions.artifacts(name),
      forward: false,
      page,
      parse: (item) => fromItem(ArtifactRecord, item, 'artifact'),
    });
  }

  async putRelease(input: ReleaseInput, options: { actor: string }): Promise<Release> {
    const release = parseOrThrow(ReleaseInput, input, 'release');
    const { actor } = parseOrThrow(ActorOption, options, 'putRelease options');
    const record: Release = { ...release, createdAt: this.core.iso(), createdBy: actor };
    const write = await this.core.createOnce(
      defined({
        ...keys.release(release.service, release.version),
        ...keys.releaseIndex(release.service, record.createdAt, release.version),
        kind: 'release',
        ...record,
      }),
      this.audit.nextWrite(),
    );
    if (!write.created) {
      if (!write.existing) throw write.error;
      const existing = fromItem(Release, write.existing, 'release');
      const content = (r: Release | typeof release) => ({
        amis: r.amis,
        artifact: r.artifact,
        recipeHash: r.recipeHash,
        baseAmiId: r.baseAmiId,
      });
      const mine = content(release);
      const theirs = content(existing);
      if (canonical(mine) === canonical(theirs)) return existing;
      const differing = (Object.keys(mine) as Array<keyof typeof mine>).filter(
        (name) => canonical(mine[name]) !== canonical(theirs[name]),
      );
      throw new ConflictError(
        `release ${release.service}@${release.version} already exists with a different ${differing.join(', ')}`,
        auditTarget.release(release.service, release.version),
        { cause: write.error },
      );
    }
    return this.audit.change(
      {
        actor,
        action: 'release.create',
        target: auditTarget.release(release.service, release.version),
        service: release.service,
        after: { amis: record.amis, artifact: record.artifact, recipeHash: record.recipeHash },
      },
      record,
    );
  }

  async getRelease(service: string, version: string): Promise<Release | undefined> {
    const item = await this.core.getItem(
      keys.release(field('service', KeyName, service), field('version', KeyName, version)),
    );
    return item ? fromItem(Release, item, 'release') : undefined;
  }

  async listReleases(service: string, page: PageRequest): Promise<Page<Release>> {
    const name = field('service', KeyName, service);
    return this.core.queryPage({
      index: true,
      partition: partitions.releases(name),
      forward: false,
      page,
      parse: (item) => fromItem(Release, item, 'release'),
    });
  }
}
