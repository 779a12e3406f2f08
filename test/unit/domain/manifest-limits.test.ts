import { marshall } from '@aws-sdk/util-dynamodb';
import { formatFieldPath } from '../../../shared/domain/manifest/errors';
import { storedAttributeSize } from '../../../shared/domain/manifest/limits';
import { safeParseManifest, type ServiceManifestInput } from '../../../shared/domain/manifest/schema';

/**
 * Upper bounds on every list and free-form string in a manifest, and the size the store can hold.
 * Each bound has its own message naming the limit, so a manifest too big to deploy or to store
 * is refused by `kiln validate` rather than by AWS halfway through a rollout.
 */

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-staging/0123456789abcdef';

const BASE: ServiceManifestInput = {
  apiVersion: 'kiln.dev/v1',
  kind: 'Service',
  name: 'web',
  artifact: { source: { s3: { bucket: 'acme-artifacts-123456789012', keyPrefix: 'web/' } } },
  bake: {
    region: 'us-east-1',
    baseImage: { amiId: 'ami-0123456789abcdef0' },
    instanceType: 't3.large',
    subnetId: 'subnet-0123456789abcdef0',
    securityGroupIds: ['sg-0123456789abcdef0'],
    instanceProfile: 'kiln-bake-web',
    install: { commands: ['tar -xzf "$KILN_ARTIFACT_PATH" -C /opt/web'] },
  },
  environments: [
    {
      name: 'staging',
      region: 'us-east-1',
      autoScalingGroup: 'web-staging',
      targetGroupArns: [TG],
      strategy: { type: 'rolling' },
    },
  ],
};

function manifest() {
  const m = structuredClone(BASE);
  const [staging] = m.environments;
  if (staging === undefined) throw new Error('fixture needs an environment');
  return { m, bake: m.bake, staging };
}

function problems(value: unknown): string[] {
  const outcome = safeParseManifest(value);
  return outcome.success ? [] : outcome.issues.map((i) => `${formatFieldPath(i.path)}: ${i.message}`);
}

const hex17 = (i: number) => i.toString(16).padStart(17, '0');
const n = (count: number, make: (i: number) => string) => Array.from({ length: count }, (_, i) => make(i));

describe('manifest limits', () => {
  describe('list lengths', () => {
    const cases: Array<{
      what: string;
      limit: number;
      set: (ctx: ReturnType<typeof manifest>, count: number) => void;
      problem: string;
    }> = [
      {
        what: 'security groups (the most a network interface takes)',
        limit: 16,
        set: ({ bake }, count) => (bake.securityGroupIds = n(count, (i) => `sg-${hex17(i)}`)),
        problem:
          'bake.securityGroupIds: must list at most 16 security groups (the most a network interface takes)',
      },
      {
        what: 'install commands',
        limit: 100,
        set: ({ bake }, count) => (bake.install = { commands: n(count, (i) => `echo ${i}`) }),
        problem:
          'bake.install.commands: must list at most 100 commands (put longer scripts in the artifact or an SSM document)',
      },
      {
        what: 'Regions to copy the AMI to',
        limit: 50,
        set: ({ bake }, count) => (bake.copyToRegions = n(count, (i) => `eu-test-${i}`)),
        problem: 'bake.copyToRegions: must list at most 50 Regions',
      },
      {
        what: 'target groups (the most an Auto Scaling group takes)',
        limit: 50,
        set: ({ staging }, count) =>
          (staging.targetGroupArns = n(count, (i) =>
            TG.replace('0123456789abcdef', i.toString(16).padStart(16, '0')),
          )),
        problem:
          'environments[0].targetGroupArns: must list at most 50 target groups (the most an Auto Scaling group takes)',
      },
      {
        what: 'rollout alarms (the most an instance refresh watches)',
        limit: 10,
        set: ({ staging }, count) => (staging.alarms = { rollout: n(count, (i) => `alarm-${i}`) }),
        problem:
          'environments[0].alarms.rollout: must list at most 10 alarms (the most an instance refresh watches)',
      },
      {
        what: 'watch alarms',
        limit: 50,
        set: ({ staging }, count) => (staging.alarms = { watch: n(count, (i) => `alarm-${i}`) }),
        problem: 'environments[0].alarms.watch: must list at most 50 alarms',
      },
      {
        what: 'Slack ids allowed to deploy',
        limit: 100,
        set: ({ staging }, count) =>
          (staging.access = { deploy: n(count, (i) => `U${String(i).padStart(8, '0')}`) }),
        problem: 'environments[0].access.deploy: must list at most 100 Slack ids',
      },
      {
        what: 'SSM document parameters',
        limit: 50,
        set: ({ bake }, count) =>
          (bake.install = {
            ssmDocument: {
              name: 'Acme-Install',
              parameters: Object.fromEntries(n(count, (i) => `p${i}`).map((k) => [k, []])),
            },
          }),
        problem: 'bake.install.ssmDocument.parameters: must hold at most 50 parameters',
      },
    ];

    describe.each(cases)('$what', ({ limit, set, problem }) => {
      it(`accepts ${limit}`, () => {
        const ctx = manifest();
        set(ctx, limit);
        expect(problems(ctx.m)).not.toContain(problem);
      });

      it(`refuses ${limit + 1}, naming the limit`, () => {
        const ctx = manifest();
        set(ctx, limit + 1);
        expect(problems(ctx.m)).toContain(problem);
      });
    });

    it('refuses 5,000 copies of an environment with one problem naming the limit of 50', () => {
      const { m, staging } = manifest();
      m.environments = Array.from({ length: 5000 }, () => structuredClone(staging));
      expect(problems(m)).toEqual(['environments: must list at most 50 environments']);
    });

    it('accepts 50 environments', () => {
      const { m, staging } = manifest();
      m.environments = Array.from({ length: 50 }, (_, i) => ({
        ...structuredClone(staging),
        name: `env-${i}`,
        autoScalingGroup: `web-${i}`,
      }));
      expect(problems(m)).toEqual([]);
    });
  });

  describe('string lengths', () => {
    it('refuses an install command over 4096 characters', () => {
      const { m, bake } = manifest();
      bake.install = { commands: ['x'.repeat(4097)] };
      expect(problems(m)).toEqual([
        'bake.install.commands[0]: commands must be at most 4096 characters long',
      ]);
    });

    it('refuses an SSM document parameter value over 4096 characters', () => {
      const { m, bake } = manifest();
      bake.install = { ssmDocument: { name: 'Acme-Install', parameters: { script: ['x'.repeat(4097)] } } };
      expect(problems(m)).toEqual([
        'bake.install.ssmDocument.parameters.script[0]: must be at most 4096 characters long',
      ]);
    });

    it('refuses a version pattern over 1024 characters', () => {
      const { m } = manifest();
      m.artifact.version = { keyPattern: `(?<version>${'a'.repeat(1024)})` };
      expect(problems(m)).toEqual(['artifact.version.keyPattern: must be at most 1024 characters long']);
    });

    it('refuses an instance type over 64 characters', () => {
      const { m, bake } = manifest();
      bake.instanceType = `${'m'.repeat(60)}.xlarge`;
      expect(problems(m)).toEqual(['bake.instanceType: must be at most 64 characters long']);
    });

    it('refuses a Slack id over 64 characters', () => {
      const { m, staging } = manifest();
      staging.access = { deploy: [`U${'A'.repeat(64)}`] };
      expect(problems(m)).toEqual(['environments[0].access.deploy[0]: must be at most 64 characters long']);
    });
  });

  describe("the store's item size", () => {
    /** A valid manifest whose install commands bring its stored size to exactly `bytes`. */
    function manifestStoredAt(bytes: number) {
      const { m, bake } = manifest();
      bake.install = { commands: ['y'] };
      // Each command takes 1 byte as a list element plus its length; one command of 1 takes 2.
      let remaining = bytes - (storedAttributeSize('manifest', parsed(m)) - 2);
      const commands: string[] = [];
      while (remaining > 4097) {
        commands.push('x'.repeat(4096));
        remaining -= 4097;
      }
      commands.push('y'.repeat(remaining - 1));
      bake.install = { commands };
      return m;
    }

    function parsed(value: unknown) {
      const outcome = safeParseManifest(value);
      if (!outcome.success) throw new Error(outcome.issues.map((i) => i.message).join('; '));
      return outcome.data;
    }

    it('sizes a manifest as DynamoDB does: names, UTF-8 strings, numbers, 3 bytes a list or map, 1 an element', () => {
      // {"a": "é", "b": [1, true]}: map 3 + a (1 + 1 + 2) + b (1 + 1 + list 3 + (1 + 3) + (1 + 1)).
      // A number counts its digit pairs plus 2, one more than DynamoDB's approximate rule: never less.
      expect(storedAttributeSize('m', { a: 'é', b: [1, true] })).toBe(1 + 3 + 4 + 11);
    });

    it('never sizes an item below what the AWS SDK marshals it to, by the documented rules', () => {
      const value = parsed(manifest().m);
      const item = marshall({ manifest: value }, { removeUndefinedValues: true });
      expect(storedAttributeSize('manifest', value)).toBeGreaterThanOrEqual(documentedSize(item));
    });

    it('accepts a manifest that takes 405,504 bytes in the store', () => {
      const m = manifestStoredAt(405_504);
      expect(problems(m)).toEqual([]);
      expect(storedAttributeSize('manifest', parsed(m))).toBe(405_504);
    });

    it('refuses a manifest that takes one byte more, naming the limit and the largest part', () => {
      const m = manifestStoredAt(405_505);
      const found = problems(m);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        /^\(manifest\): takes 405,505 bytes in Kiln's store, which holds at most 405,504 bytes per manifest \(a DynamoDB item is at most 400 KB, less 4 KB for keys and metadata\); its largest part is bake, [\d,]+ bytes$/,
      );
    });
  });
});

/**
 * The size of a marshalled item by AWS's rules, written independently of the code under test:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
function documentedSize(item: Record<string, unknown>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueSize(value);
  return total;
}

function valueSize(attribute: unknown): number {
  const [type, value] = Object.entries(attribute as Record<string, unknown>)[0] ?? [];
  switch (type) {
    case 'S':
      return Buffer.byteLength(String(value));
    case 'N': {
      const digits = String(value)
        .replace(/[^0-9]/g, '')
        .replace(/^0+|0+$/g, '');
      return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
    }
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'L':
      return 3 + (value as unknown[]).reduce<number>((sum, element) => sum + 1 + valueSize(element), 0);
    case 'M':
      return (
        3 +
        Object.entries(value as Record<string, unknown>).reduce(
          (sum, [key, element]) => sum + 1 + Buffer.byteLength(key) + valueSize(element),
          0,
        )
      );
    default:
      throw new Error(`unexpected attribute type ${type}`);
  }
}
