import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ArtifactFacts } from '../../../shared/domain/artifact';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { AuditMissingError } from '../../../shared/store';
import { receiveArtifact, type ReceiveArtifactDeps } from '../../../shared/usecases/receive-artifact';

const checkout = (): ServiceManifest =>
  parseManifest(
    parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as Record<
      string,
      unknown
    >,
  );

const upload: ArtifactFacts = {
  kind: 's3',
  bucket: 'acme-artifacts-123456789012',
  key: 'checkout/releases/checkout-2.14.0.tar.gz',
  etag: 'b1946ac92492d2347c6235b4d2611184',
};

/** A store holding one service whose recordArtifact behaves as the test says. */
function storeWith(
  recordArtifact: ReceiveArtifactDeps['store']['recordArtifact'],
): ReceiveArtifactDeps['store'] {
  const manifest = checkout();
  return {
    listServices: () =>
      Promise.resolve({
        items: [
          {
            service: manifest.name,
            manifest,
            version: 1,
            createdAt: '2026-01-01T00:00:00.000Z',
            updatedAt: '2026-01-01T00:00:00.000Z',
            updatedBy: 'test',
          },
        ],
      }),
    recordArtifact,
  } as ReceiveArtifactDeps['store'];
}

describe('receiveArtifact', () => {
  describe('when the artifact is stored but its audit entry cannot be written', () => {
    it('counts the artifact as recorded and reports the missing audit instead of failing the event', async () => {
      const store = storeWith((input) =>
        Promise.reject(
          new AuditMissingError('recorded, but the audit entry could not be written', {} as never, {
            created: true,
            artifact: input,
          }),
        ),
      );

      const result = await receiveArtifact(upload, 'event:s3', { store });

      expect(result.recorded).toEqual([expect.objectContaining({ service: 'checkout', version: '2.14.0' })]);
      expect(result.auditMissing).toEqual(result.recorded);
    });
  });

  describe('when the store fails for another reason', () => {
    it('lets the error reach the caller, so Lambda retries the event', async () => {
      const store = storeWith(() => Promise.reject(new Error('ProvisionedThroughputExceededException')));

      await expect(receiveArtifact(upload, 'event:s3', { store })).rejects.toThrow(
        'ProvisionedThroughputExceededException',
      );
    });
  });
});
