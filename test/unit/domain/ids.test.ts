import fc from 'fast-check';
import {
  CLIENT_TOKEN_MAX,
  DEPLOYMENT_ID_PATTERN,
  EXECUTION_NAME_MAX,
  clientToken,
  deploymentIdAt,
  deploymentIdTime,
  executionName,
  IMAGE_NAME_MAX,
  imageName,
} from '../../../shared/domain/ids';
import { ARTIFACT_DIGEST_MAX, ARTIFACT_VERSION_MAX } from '../../../shared/domain/limits';

const JAN_1_2026 = Date.UTC(2026, 0, 1);
const time = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const entropy = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

/** Names the manifest schema allows: a DNS label of at most 40 characters. */
const serviceName = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/);
/** Versions ArtifactVersion allows. */
const version = fc.stringMatching(new RegExp(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,${ARTIFACT_VERSION_MAX - 1}}$`));
/** Digests ArtifactDigest allows: printable ASCII, up to 512 characters. */
const digest = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: ARTIFACT_DIGEST_MAX,
});

describe('ids Kiln derives (shared/domain/ids.ts)', () => {
  describe('deploymentIdAt', () => {
    it('makes 26 characters of Crockford base 32 that give back their time', () => {
      fc.assert(
        fc.property(time, entropy, (ms, drawn) => {
          const id = deploymentIdAt(ms, drawn);
          expect(id).toMatch(DEPLOYMENT_ID_PATTERN);
          expect(deploymentIdTime(id)).toBe(ms);
        }),
      );
    });

    it('sorts ids as strings in the order they were made', () => {
      fc.assert(
        fc.property(time, time, entropy, entropy, (a, b, ea, eb) => {
          fc.pre(a !== b);
          const [earlier, later] =
            a < b
              ? [deploymentIdAt(a, ea), deploymentIdAt(b, eb)]
              : [deploymentIdAt(b, eb), deploymentIdAt(a, ea)];
          expect(earlier < later).toBe(true);
        }),
      );
    });

    it('gives the same id for the same time and entropy, and another for another draw in the same millisecond', () => {
      expect(deploymentIdAt(JAN_1_2026, 'a1b2c3d4e5f60718')).toBe(
        deploymentIdAt(JAN_1_2026, 'a1b2c3d4e5f60718'),
      );
      expect(deploymentIdAt(JAN_1_2026, 'a1b2c3d4e5f60718')).not.toBe(
        deploymentIdAt(JAN_1_2026, 'a1b2c3d4e5f60719'),
      );
      expect(deploymentIdAt(JAN_1_2026, 'x').slice(0, 10)).toBe(deploymentIdAt(JAN_1_2026, 'y').slice(0, 10));
    });

    it.each([[-1], [1.5], [2 ** 48], [Number.NaN]])('refuses the time %p', (ms) => {
      expect(() => deploymentIdAt(ms, 'x')).toThrow(RangeError);
    });

    it('refuses an empty entropy', () => {
      expect(() => deploymentIdAt(JAN_1_2026, '')).toThrow(RangeError);
    });
  });

  describe('clientToken', () => {
    it('is the same for the same parts, at most 64 ASCII characters', () => {
      const token = clientToken(['01JGXYZ', 'copy-image', 'eu-west-1']);
      expect(token).toBe(clientToken(['01JGXYZ', 'copy-image', 'eu-west-1']));
      expect(token).toMatch(/^kiln-[0-9a-f]{32}$/);
      expect(token.length).toBeLessThanOrEqual(CLIENT_TOKEN_MAX);
    });

    it('differs when any part differs, and keeps parts apart', () => {
      fc.assert(
        fc.property(
          fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }),
          fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }),
          (a, b) => {
            fc.pre(JSON.stringify(a) !== JSON.stringify(b));
            expect(clientToken(a)).not.toBe(clientToken(b));
          },
        ),
      );
      expect(clientToken(['a-b', 'c'])).not.toBe(clientToken(['a', 'b-c']));
    });

    it('refuses no parts or an empty part', () => {
      expect(() => clientToken([])).toThrow(RangeError);
      expect(() => clientToken(['deployment', ''])).toThrow(RangeError);
    });
  });

  describe('executionName', () => {
    it('fits Step Functions’ rules for any service, version and digest Kiln stores', () => {
      fc.assert(
        fc.property(serviceName, version, digest, (service, v, d) => {
          const name = executionName({ service, version: v, digest: d });
          expect(name.length).toBeGreaterThanOrEqual(1);
          expect(name.length).toBeLessThanOrEqual(EXECUTION_NAME_MAX);
          // The CloudWatch-safe subset of what StartExecution accepts.
          expect(name).toMatch(/^[0-9A-Za-z_-]+$/);
        }),
      );
    });

    it('reads as service and version, and is the same for the same artifact', () => {
      const artifact = { service: 'checkout', version: '1.4.2', digest: `sha256:${'9f86d081'.repeat(8)}` };
      expect(executionName(artifact)).toMatch(/^checkout-1_4_2-[0-9a-f]{16}$/);
      expect(executionName(structuredClone(artifact))).toBe(executionName(artifact));
    });

    it('gives two builds of one version two names, however long their digests', () => {
      const long = 'x'.repeat(ARTIFACT_DIGEST_MAX - 1);
      const a = executionName({ service: 'checkout', version: '1.4.2', digest: `${long}a` });
      const b = executionName({ service: 'checkout', version: '1.4.2', digest: `${long}b` });
      expect(a).not.toBe(b);
    });

    it('keeps names apart that only differ where a version’s . became _', () => {
      expect(executionName({ service: 'checkout', version: '1.4', digest: 'd' })).not.toBe(
        executionName({ service: 'checkout', version: '1_4', digest: 'd' }),
      );
    });

    it('refuses an empty service, version or digest', () => {
      expect(() => executionName({ service: '', version: '1', digest: 'd' })).toThrow(RangeError);
      expect(() => executionName({ service: 's', version: '', digest: 'd' })).toThrow(RangeError);
      expect(() => executionName({ service: 's', version: '1', digest: '' })).toThrow(RangeError);
    });
  });

  describe('imageName', () => {
    it('fits CreateImage’s name rules for any service, version and digest Kiln stores', () => {
      fc.assert(
        fc.property(serviceName, version, digest, (service, v, d) => {
          const name = imageName({ service, version: v, digest: d });
          expect(name.length).toBeGreaterThanOrEqual(3);
          expect(name.length).toBeLessThanOrEqual(IMAGE_NAME_MAX);
          expect(name).toMatch(/^[0-9A-Za-z()[\] ./\-'@_]+$/);
        }),
      );
    });

    it('reads as kiln, service and version, and is the same for the same artifact', () => {
      const artifact = { service: 'checkout', version: '1.4.2+b7', digest: `sha256:${'9f86d081'.repeat(8)}` };
      expect(imageName(artifact)).toMatch(/^kiln-checkout-1\.4\.2_b7-[0-9a-f]{12}$/);
      expect(imageName(structuredClone(artifact))).toBe(imageName(artifact));
    });

    it('gives a rebuild of a version (another digest) another name', () => {
      const a = imageName({ service: 'checkout', version: '1.4.2', digest: 'sha256:a' });
      const b = imageName({ service: 'checkout', version: '1.4.2', digest: 'sha256:b' });
      expect(a).not.toBe(b);
    });

    it('refuses empty parts', () => {
      expect(() => imageName({ service: 's', version: '1', digest: '' })).toThrow(RangeError);
    });
  });
});
