/**
 * Where CI publishes artifacts: an S3 bucket with EventBridge notifications switched on, and an
 * ECR repository. Neither is simulated beyond what Kiln sees of them, the EventBridge event each
 * publish emits, in the shapes of AWS's documented samples:
 * - S3 "Object Created": https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html
 * - ECR "ECR Image Action" (PUSH, SUCCESS): Amazon ECR user guide, "Amazon ECR events and EventBridge"
 * - CodeArtifact "CodeArtifact Package Version State Change":
 *   https://docs.aws.amazon.com/codeartifact/latest/ug/service-event-format-example.html
 */
import type { SimContext } from '../core/context';

export interface S3Upload {
  bucket: string;
  key: string;
  size: number;
  /** Defaults to a seeded 32-hex-digit ETag. */
  etag?: string;
  /** Set for versioned buckets. */
  versionId?: string;
}

export interface EcrPush {
  repository: string;
  tag?: string;
  /** Defaults to a seeded sha256 digest. */
  digest?: string;
}

export interface PackageVersionPublish {
  domain: string;
  repository: string;
  format: 'maven' | 'npm' | 'pypi' | 'generic';
  namespace?: string;
  package: string;
  version: string;
  /** Defaults to Published; Maven versions are Unfinished until their metadata is uploaded. */
  state?: 'Unfinished' | 'Published' | 'Unlisted' | 'Archived' | 'Disposed';
  /** Defaults to a seeded revision (32 hex digits, upper case, like the sample's). */
  revision?: string;
}

export class ArtifactStores {
  private packageSequence = 0;

  private sequencer = 0x617f08299329d189n;

  constructor(private readonly ctx: SimContext) {}

  private hex(digits: number): string {
    let out = '';
    for (let i = 0; i < digits; i++) out += this.ctx.rng.int(0, 15).toString(16);
    return out;
  }

  /** PutObject into a bucket that sends events to EventBridge. */
  putObject(upload: S3Upload): void {
    this.sequencer += 1n;
    this.ctx.emit({
      source: 'aws.s3',
      detailType: 'Object Created',
      resources: [`arn:aws:s3:::${upload.bucket}`],
      detail: {
        version: '0',
        'event-version': '1.1',
        bucket: { name: upload.bucket },
        object: {
          key: upload.key,
          size: upload.size,
          etag: upload.etag ?? this.hex(32),
          ...(upload.versionId !== undefined ? { 'version-id': upload.versionId } : {}),
          sequencer: this.sequencer.toString(16),
        },
        'request-id': this.hex(16).toUpperCase(),
        requester: this.ctx.accountId,
        'source-ip-address': '203.0.113.7',
        reason: 'PutObject',
      },
    });
  }

  /**
   * A package version created in a CodeArtifact repository of this account's domain (so one
   * event: the domain owner and the repository's administrator are the same account).
   */
  publishPackageVersion(publish: PackageVersionPublish): void {
    this.packageSequence += 1;
    const namespace = publish.namespace ?? null;
    this.ctx.emit({
      source: 'aws.codeartifact',
      detailType: 'CodeArtifact Package Version State Change',
      resources: [
        `arn:aws:codeartifact:${this.ctx.region}:${this.ctx.accountId}:package/${publish.domain}/${publish.repository}/${publish.format}/${namespace ?? ''}/${publish.package}`,
      ],
      detail: {
        domainName: publish.domain,
        domainOwner: this.ctx.accountId,
        repositoryName: publish.repository,
        repositoryAdministrator: this.ctx.accountId,
        packageFormat: publish.format,
        packageNamespace: namespace,
        packageName: publish.package,
        packageVersion: publish.version,
        packageVersionState: publish.state ?? 'Published',
        packageVersionRevision: publish.revision ?? this.hex(32).toUpperCase(),
        changes: {
          assetsAdded: 1,
          assetsRemoved: 0,
          metadataUpdated: true,
          assetsUpdated: 0,
          statusChanged: true,
        },
        operationType: 'Created',
        sequenceNumber: this.packageSequence,
        eventDeduplicationId: this.hex(44),
      },
    });
  }

  /** `docker push` of a tagged image that completed. */
  pushImage(push: EcrPush): void {
    this.ctx.emit({
      source: 'aws.ecr',
      detailType: 'ECR Image Action',
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': push.repository,
        'image-digest': push.digest ?? `sha256:${this.hex(64)}`,
        'action-type': 'PUSH',
        ...(push.tag !== undefined ? { 'image-tag': push.tag } : {}),
      },
    });
  }
}
