import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { matchArtifact } from '../../../shared/domain/artifact';
import { StoredArtifact } from '../../../shared/domain/limits';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { ArtifactEventSchema } from '../../../shared/events/artifact-facts';
import { matchesPattern } from '../../../sandbox/core/event-pattern';
import { loadRoutes } from '../../../sandbox/core/routes';
import { formatPath } from '../../../shared/runtime/validation';
import { customDetail, ecrPush, s3Object } from '../../support/artifact-arbitraries';

const fixture = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/events', path), 'utf8')) as Record<string, unknown>;
const exampleSource = (file: string): Record<string, unknown> =>
  parseYaml(readFileSync(join(__dirname, '../../../examples', file), 'utf8')) as Record<string, unknown>;
const variant = (file: string, name: string, artifact: unknown): ServiceManifest =>
  parseManifest({ ...exampleSource(file), name, artifact });

/** Services building from every kind of source, with default and permissive version rules. */
const services: Array<{ manifest: ServiceManifest; versionField: string }> = [
  { manifest: parseManifest(exampleSource('checkout.yml')), versionField: 'detail.object.key' },
  {
    manifest: variant('checkout.yml', 'checkout-canary', {
      source: { s3: { bucket: 'acme-artifacts-123456789012', keyPrefix: 'checkout/' } },
      version: { keyPattern: '^checkout/(?<version>.+)$' },
    }),
    versionField: 'detail.object.key',
  },
  { manifest: parseManifest(exampleSource('ledger.yml')), versionField: 'detail.image-tag' },
  {
    manifest: variant('ledger.yml', 'ledger-any-tag', { source: { ecr: { repository: 'finance/ledger' } } }),
    versionField: 'detail.image-tag',
  },
  {
    manifest: variant('checkout.yml', 'payments', { source: { custom: { source: 'com.acme.ci' } } }),
    versionField: 'detail.version',
  },
  {
    manifest: variant('checkout.yml', 'refunds', {
      source: { custom: { source: 'com.acme.ci' } },
      version: { detailPath: '$.build.version' },
    }),
    versionField: 'detail.build.version',
  },
];

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * What every artifact event must come to: refused while parsing with each issue naming a field,
 * or parsed into facts from which every matched service's artifact fits the store (its sort key
 * `ARTIFACT#<version>#<digest>` within DynamoDB's 1,024 bytes), and a service can refuse only the
 * version its own manifest reads. Nothing throws.
 */
function checkEvent(event: unknown): void {
  const parsed = ArtifactEventSchema.safeParse(JSON.parse(JSON.stringify(event)));
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      expect(formatPath(issue.path)).toMatch(/^(detail|account|region)\b/);
    return;
  }
  for (const { manifest, versionField } of services) {
    const match = matchArtifact(manifest, parsed.data);
    if (match.outcome === 'matched') {
      expect(StoredArtifact.safeParse(match.artifact).success).toBe(true);
      expect(utf8Bytes(`ARTIFACT#${match.artifact.version}#${match.artifact.digest}`)).toBeLessThanOrEqual(
        1024,
      );
    } else if (match.outcome === 'refused') {
      expect(match.field).toBe(versionField);
    }
  }
}

describe('artifact events, whatever they hold', () => {
  it('parses a CI detail into a storable artifact, or names the field it refuses', () => {
    fc.assert(
      fc.property(customDetail, (detail) =>
        checkEvent({
          ...fixture('ec2/instance-state-change-terminated.json'),
          source: 'com.acme.ci',
          'detail-type': 'Artifact Published',
          detail,
        }),
      ),
      { numRuns: 1000 },
    );
  });

  it('parses an S3 upload into a storable artifact, or names the field it refuses', () => {
    fc.assert(
      fc.property(s3Object, (object) => {
        const event = fixture('s3/object-created.json');
        Object.assign(event.detail as Record<string, unknown>, {
          bucket: { name: 'acme-artifacts-123456789012' },
          object,
        });
        checkEvent(event);
      }),
      { numRuns: 1000 },
    );
  });

  it('parses an ECR push into a storable artifact, or names the field it refuses', () => {
    fc.assert(
      fc.property(ecrPush, ({ account, region, detail }) => {
        const event = fixture('ecr/image-action-push.json');
        Object.assign(event, { account, region });
        Object.assign(event.detail as Record<string, unknown>, detail);
        checkEvent(event);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the README\'s "Artifact Published" example', () => {
  /** The entry of the documented `aws events put-events --entries '[…]'` command. */
  function documentedEntry(): { Source: string; DetailType: string; Detail: string } {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const block = readme.split('<!-- artifact-published-example')[1]?.split('```')[1] ?? '';
    const entries = /--entries '(\[.*\])'/.exec(block)?.[1];
    if (entries === undefined) throw new Error('README lost its put-events example');
    const [entry] = JSON.parse(entries) as Array<{ Source: string; DetailType: string; Detail: string }>;
    if (entry === undefined) throw new Error('the put-events example has no entry');
    return entry;
  }

  /** PutEvents turns an entry into the envelope of the EventBridge sample, detail parsed. */
  const delivered = (entry: ReturnType<typeof documentedEntry>) => ({
    ...fixture('ec2/instance-state-change-terminated.json'),
    source: entry.Source,
    'detail-type': entry.DetailType,
    resources: [],
    detail: JSON.parse(entry.Detail) as unknown,
  });

  it("matches serverless.yml's rule for on-artifact, and no other function's", () => {
    const routes = loadRoutes(join(__dirname, '../../../serverless.yml'), { stage: 'prod' });
    const event = delivered(documentedEntry());

    expect(
      routes.eventBridge.filter((route) => matchesPattern(route.pattern, event)).map((r) => r.functionName),
    ).toEqual(['onArtifact']);
  });

  it('is recorded for the service it names, as EventBridge would deliver it', () => {
    const event = delivered(documentedEntry());
    const parsed = ArtifactEventSchema.parse(event);
    const payments = services.find((s) => s.manifest.name === 'payments')?.manifest;
    if (payments === undefined) throw new Error('payments is one of the services above');

    expect(matchArtifact(payments, parsed)).toEqual({
      outcome: 'matched',
      artifact: {
        service: 'payments',
        version: '1.4.2',
        uri: 's3://acme-artifacts-123456789012/payments/payments-1.4.2.tar.gz',
        digest: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        sourceKind: 'custom',
      },
    });
  });
});
