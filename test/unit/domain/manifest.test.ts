import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatFieldPath, ManifestValidationError } from '../../../shared/domain/manifest/errors';
import { manifestJsonSchema, renderManifestJsonSchema } from '../../../shared/domain/manifest/json-schema';
import {
  DEFAULT_DETAIL_VERSION_PATH,
  DEFAULT_S3_KEY_VERSION_PATTERN,
  parseManifest,
  safeParseManifest,
  versionRuleOf,
  type ServiceManifestInput,
} from '../../../shared/domain/manifest/schema';
import { validateManifestSource } from '../../../shared/domain/manifest/yaml';

const ROOT = join(__dirname, '..', '..', '..');
const TG_STAGING =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-staging/0123456789abcdef';
const TG_PROD = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/web-prod/fedcba9876543210';

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
    copyToRegions: ['us-west-2'],
  },
  environments: [
    {
      name: 'staging',
      region: 'us-east-1',
      autoScalingGroup: 'web-staging',
      targetGroupArns: [TG_STAGING],
      strategy: { type: 'rolling' },
    },
    {
      name: 'production',
      region: 'us-west-2',
      autoScalingGroup: 'web-production',
      targetGroupArns: [TG_PROD],
      strategy: { type: 'blue-green' },
      bakeTimeMinutes: 60,
      approval: { required: true },
      access: { approve: ['U01APPROVER'] },
    },
  ],
};

/** A fresh valid manifest each time, plus typed access to the parts tests change. */
function manifest() {
  const m = structuredClone(BASE);
  const [staging, production] = m.environments;
  if (staging === undefined || production === undefined) throw new Error('fixture needs two environments');
  return { m, bake: m.bake, staging, production };
}

/** Every problem as `field: message`, the form users read. */
function problems(value: unknown): string[] {
  const outcome = safeParseManifest(value);
  return outcome.success ? [] : outcome.issues.map((i) => `${formatFieldPath(i.path)}: ${i.message}`);
}

function problemFields(value: unknown): string[] {
  const outcome = safeParseManifest(value);
  return outcome.success ? [] : outcome.issues.map((i) => formatFieldPath(i.path));
}

describe('service manifest', () => {
  describe('examples', () => {
    const files = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yml'));

    it('ships the checkout and ledger examples', () => {
      expect(files).toEqual(expect.arrayContaining(['checkout.yml', 'ledger.yml']));
    });

    it.each(files)('accepts examples/%s', (file) => {
      const text = readFileSync(join(ROOT, 'examples', file), 'utf8');
      expect(validateManifestSource(text, file).diagnostics).toEqual([]);
    });

    it('accepts the test fixture manifest', () => {
      expect(problems(manifest().m)).toEqual([]);
    });
  });

  describe('header', () => {
    it('rejects an apiVersion other than kiln.dev/v1', () => {
      const { m } = manifest();
      expect(problems({ ...m, apiVersion: 'kiln.dev/v2' })).toEqual(['apiVersion: must be "kiln.dev/v1"']);
    });

    it('rejects a kind other than Service', () => {
      const { m } = manifest();
      expect(problems({ ...m, kind: 'Job' })).toEqual(['kind: must be "Service"']);
    });

    it.each(['Web', 'web_app', '-web', 'web-', '9web', 'a'.repeat(41)])('rejects the name %j', (name) => {
      const { m } = manifest();
      expect(problemFields({ ...m, name })).toEqual(['name']);
    });

    it('accepts a 40-character lowercase name with hyphens and digits', () => {
      const { m } = manifest();
      expect(problems({ ...m, name: `web-2-${'x'.repeat(34)}` })).toEqual([]);
    });

    it('reports a missing required key as required', () => {
      const { m } = manifest();
      const { name: _name, ...rest } = m;
      expect(problems(rest)).toEqual(['name: is required']);
    });

    it('rejects a document that is not a map', () => {
      expect(problems(['not', 'a', 'map'])).toEqual(['(manifest): must be a map (key: value), not a list']);
    });
  });

  describe('strictness', () => {
    it('rejects a misspelt key, naming it and suggesting the known key', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', minHealthyPercentag: 50 } as typeof staging.strategy;
      expect(problems(m)).toEqual([
        'environments[0].strategy.minHealthyPercentag: unknown key (did you mean "minHealthyPercentage"?)',
      ]);
    });

    it('rejects an unknown top-level key without a suggestion when nothing is close', () => {
      const { m } = manifest();
      expect(problems({ ...m, owner: 'team-a' })).toEqual(['owner: unknown key']);
    });
  });

  describe('artifact.source', () => {
    it('rejects a source with none of s3, ecr or custom', () => {
      const { m } = manifest();
      m.artifact.source = {};
      expect(problems(m)).toEqual([
        'artifact.source: must set exactly one of s3, ecr, custom or codeartifact',
      ]);
    });

    it('rejects a source with two kinds, naming the second', () => {
      const { m } = manifest();
      m.artifact.source = { s3: { bucket: 'acme-artifacts', keyPrefix: 'web/' }, ecr: { repository: 'web' } };
      expect(problems(m)).toEqual([
        'artifact.source.ecr: conflicts with s3: set exactly one of s3, ecr, custom or codeartifact',
      ]);
    });

    describe('codeartifact', () => {
      const widgets = () => ({
        domain: 'acme',
        repository: 'releases',
        format: 'maven',
        namespace: 'com.acme',
        package: 'widgets',
      });

      it('accepts a package by domain, repository, format, namespace and package, with its version read as it is', () => {
        const { m } = manifest();
        m.artifact = { source: { codeartifact: widgets() } } as typeof m.artifact;
        const parsed = parseManifest(m);
        expect(parsed.artifact.source.codeartifact).toEqual(widgets());
        expect(versionRuleOf(parsed.artifact)).toEqual({ from: 'package-version' });
      });

      it.each([
        ['domain', { domain: 'Acme_Domain' }],
        ['repository', { repository: 'r' }],
        ['format', { format: 'nuget' }],
        ['package', { package: 'a/b' }],
        ['domainOwner', { domainOwner: '1234' }],
      ])('rejects a bad %s, naming it', (field, change) => {
        const { m } = manifest();
        m.artifact = { source: { codeartifact: { ...widgets(), ...change } } } as typeof m.artifact;
        expect(problemFields(m)).toEqual([`artifact.source.codeartifact.${field}`]);
      });

      it.each(['maven', 'generic'])('requires a namespace for %s packages', (format) => {
        const { m } = manifest();
        const { namespace: _namespace, ...rest } = widgets();
        m.artifact = { source: { codeartifact: { ...rest, format } } } as typeof m.artifact;
        expect(problemFields(m)).toEqual(['artifact.source.codeartifact.namespace']);
      });

      it('refuses a namespace for a PyPI package, which has none', () => {
        const { m } = manifest();
        m.artifact = { source: { codeartifact: { ...widgets(), format: 'pypi' } } } as typeof m.artifact;
        expect(problemFields(m)).toEqual(['artifact.source.codeartifact.namespace']);
      });

      it('refuses a version pattern: the package version is the version', () => {
        const { m } = manifest();
        m.artifact = {
          source: { codeartifact: widgets() },
          version: { tagPattern: '^v(?<version>.+)$' },
        } as typeof m.artifact;
        expect(problems(m)).toEqual([
          'artifact.version.tagPattern: applies only to artifacts from ecr; this one comes from codeartifact, whose package version is the version (remove it)',
        ]);
      });
    });

    it('rejects a bucket name that breaks S3 naming rules', () => {
      const { m } = manifest();
      m.artifact.source = { s3: { bucket: 'Acme_Artifacts', keyPrefix: 'web/' } };
      expect(problemFields(m)).toEqual(['artifact.source.s3.bucket']);
    });

    it('rejects a key prefix that starts with a slash', () => {
      const { m } = manifest();
      m.artifact.source = { s3: { bucket: 'acme-artifacts', keyPrefix: '/web/' } };
      expect(problems(m)).toEqual(['artifact.source.s3.keyPrefix: must not start with "/" (S3 keys do not)']);
    });

    it('rejects an ECR repository name with uppercase letters', () => {
      const { m } = manifest();
      m.artifact.source = { ecr: { repository: 'Team/Web' } };
      expect(problemFields(m)).toEqual(['artifact.source.ecr.repository']);
    });

    it('rejects a custom event source in the reserved aws. namespace', () => {
      const { m } = manifest();
      m.artifact.source = { custom: { source: 'aws.codebuild' } };
      expect(problems(m)).toEqual([
        'artifact.source.custom.source: must not start with "aws." (reserved for AWS services)',
      ]);
    });

    it('tells a manifest that still names a custom detailType that Kiln receives only "Artifact Published"', () => {
      const { m } = manifest();
      const custom = { source: 'acme.ci', detailType: 'Build Finished' };
      m.artifact.source = { custom } as typeof m.artifact.source;
      expect(problems(m)).toEqual([
        'artifact.source.custom.detailType: is no longer set: Kiln receives a CI\'s artifacts as detail-type "Artifact Published" only; remove detailType (a CI building several services names one in detail.service)',
      ]);
    });
  });

  describe('artifact.version', () => {
    it('defaults an S3 artifact to the file name as its version', () => {
      const { m } = manifest();
      const parsed = parseManifest(m);
      expect(parsed.artifact.version.keyPattern).toBe(DEFAULT_S3_KEY_VERSION_PATTERN);
      const rule = versionRuleOf(parsed.artifact);
      expect(rule.from).toBe('s3-key');
      if (rule.from === 's3-key') {
        expect(rule.pattern.exec('web/releases/web-1.4.2.tar.gz')?.groups?.version).toBe('web-1.4.2');
      }
    });

    it('defaults a custom artifact to $.version in the event detail', () => {
      const { m } = manifest();
      m.artifact.source = { custom: { source: 'acme.ci' } };
      expect(parseManifest(m).artifact.version.detailPath).toBe(DEFAULT_DETAIL_VERSION_PATH);
    });

    it('leaves an ECR artifact without a tag pattern: the whole tag is the version', () => {
      const { m } = manifest();
      m.artifact.source = { ecr: { repository: 'team/web' } };
      expect(versionRuleOf(parseManifest(m).artifact)).toEqual({ from: 'ecr-tag', pattern: undefined });
    });

    it('rejects a key pattern that does not compile', () => {
      const { m } = manifest();
      m.artifact.version = { keyPattern: '(?<version>[0-9+' };
      expect(problemFields(m)).toEqual(['artifact.version.keyPattern']);
      expect(problems(m)[0]).toMatch(/^artifact\.version\.keyPattern: is not a valid regular expression/);
    });

    it('rejects a key pattern without a named group "version"', () => {
      const { m } = manifest();
      m.artifact.version = { keyPattern: '^web/(\\d+)\\.zip$' };
      expect(problems(m)).toEqual(['artifact.version.keyPattern: must contain a named group (?<version>…)']);
    });

    it('does not mistake an escaped parenthesis for the named group', () => {
      const { m } = manifest();
      m.artifact.version = { keyPattern: '^web/\\(?<version>\\.zip$' };
      expect(problemFields(m)).toEqual(['artifact.version.keyPattern']);
    });

    it('rejects a version key that does not match the source kind', () => {
      const { m } = manifest();
      m.artifact.version = { tagPattern: '^v(?<version>.+)$' };
      expect(problems(m)).toEqual([
        'artifact.version.tagPattern: applies only to artifacts from ecr; this one comes from s3 (use keyPattern)',
      ]);
    });

    it('rejects a detail path that is not a JSON path', () => {
      const { m } = manifest();
      m.artifact.source = { custom: { source: 'acme.ci' } };
      m.artifact.version = { detailPath: 'version' };
      expect(problemFields(m)).toEqual(['artifact.version.detailPath']);
    });

    it.each(['$.__proto__.version', '$.constructor', "$.build['prototype']"])(
      'rejects a detail path through a reserved name: %s',
      (detailPath) => {
        const { m } = manifest();
        m.artifact.source = { custom: { source: 'acme.ci' } };
        m.artifact.version = { detailPath };
        expect(problems(m)).toEqual([
          expect.stringMatching(
            /^artifact\.version\.detailPath: must not go through "(__proto__|constructor|prototype)"/,
          ),
        ]);
      },
    );

    it('accepts nested and indexed detail paths', () => {
      const { m } = manifest();
      m.artifact.source = { custom: { source: 'acme.ci' } };
      m.artifact.version = { detailPath: "$.builds[0]['build-info'].version" };
      expect(problems(m)).toEqual([]);
    });
  });

  describe('bake', () => {
    it('rejects a base image with neither amiId nor ssmParameter', () => {
      const { m, bake } = manifest();
      bake.baseImage = {};
      expect(problems(m)).toEqual(['bake.baseImage: must set exactly one of amiId or ssmParameter']);
    });

    it('rejects a base image with both amiId and ssmParameter', () => {
      const { m, bake } = manifest();
      bake.baseImage = { amiId: 'ami-0123456789abcdef0', ssmParameter: '/golden/web' };
      expect(problemFields(m)).toEqual(['bake.baseImage.ssmParameter']);
    });

    it.each(['ami-123', 'ami-0123456789ABCDEF0', 'image-0123456789abcdef0'])(
      'rejects the AMI id %j',
      (amiId) => {
        const { m, bake } = manifest();
        bake.baseImage = { amiId };
        expect(problems(m)).toEqual(['bake.baseImage.amiId: must be an id like ami-0123456789abcdef0']);
      },
    );

    it('accepts an 8-character legacy AMI id and an SSM parameter path', () => {
      const legacy = manifest();
      legacy.bake.baseImage = { amiId: 'ami-1a2b3c4d' };
      const ssm = manifest();
      ssm.bake.baseImage = {
        ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      };
      expect([problems(legacy.m), problems(ssm.m)]).toEqual([[], []]);
    });

    it('rejects an SSM parameter name without the leading slash', () => {
      const { m, bake } = manifest();
      bake.baseImage = { ssmParameter: 'golden/web' };
      expect(problemFields(m)).toEqual(['bake.baseImage.ssmParameter']);
    });

    it('rejects an instance type without a size', () => {
      const { m, bake } = manifest();
      bake.instanceType = 't3';
      expect(problems(m)).toEqual([
        'bake.instanceType: must be an EC2 instance type like t3.large or m7g.xlarge',
      ]);
    });

    it('rejects a malformed subnet id', () => {
      const { m, bake } = manifest();
      bake.subnetId = 'subnet-xyz';
      expect(problems(m)).toEqual(['bake.subnetId: must be an id like subnet-0123456789abcdef0']);
    });

    it('rejects an empty security group list', () => {
      const { m, bake } = manifest();
      bake.securityGroupIds = [];
      expect(problems(m)).toEqual(['bake.securityGroupIds: must list at least 1 item']);
    });

    it('rejects a security group listed twice', () => {
      const { m, bake } = manifest();
      bake.securityGroupIds = ['sg-0123456789abcdef0', 'sg-0123456789abcdef0'];
      expect(problems(m)).toEqual([
        'bake.securityGroupIds[1]: duplicate security group "sg-0123456789abcdef0"',
      ]);
    });

    it('rejects an instance profile name with a space', () => {
      const { m, bake } = manifest();
      bake.instanceProfile = 'bake profile';
      expect(problems(m)).toEqual(['bake.instanceProfile: must be an instance profile name or ARN']);
    });

    it('rejects install with neither commands nor ssmDocument', () => {
      const { m, bake } = manifest();
      bake.install = {};
      expect(problems(m)).toEqual(['bake.install: must set exactly one of commands or ssmDocument']);
    });

    it('rejects install with both commands and ssmDocument', () => {
      const { m, bake } = manifest();
      bake.install = { commands: ['make install'], ssmDocument: { name: 'Web-Install' } };
      expect(problemFields(m)).toEqual(['bake.install.ssmDocument']);
    });

    it('rejects an empty command list', () => {
      const { m, bake } = manifest();
      bake.install = { commands: [] };
      expect(problems(m)).toEqual(['bake.install.commands: must list at least 1 item']);
    });

    it('rejects an SSM document name that is too short', () => {
      const { m, bake } = manifest();
      bake.install = { ssmDocument: { name: 'ab' } };
      expect(problemFields(m)).toEqual(['bake.install.ssmDocument.name']);
    });

    it('accepts an SSM document with list-valued parameters, as SendCommand takes them', () => {
      const { m, bake } = manifest();
      bake.install = { ssmDocument: { name: 'Web-Install', parameters: { version: ['1.2.3'] } } };
      expect(problems(m)).toEqual([]);
    });

    it.each([4, 16385])('rejects volumeSizeGiB %d', (volumeSizeGiB) => {
      const { m, bake } = manifest();
      bake.volumeSizeGiB = volumeSizeGiB;
      expect(problems(m)).toEqual(['bake.volumeSizeGiB: must be between 8 and 16384']);
    });

    it('rejects a fractional volume size', () => {
      const { m, bake } = manifest();
      bake.volumeSizeGiB = 8.5;
      expect(problems(m)).toEqual(['bake.volumeSizeGiB: must be a whole number, not the number 8.5']);
    });

    it('defaults volumeSizeGiB to 16, timeoutMinutes to 60 and tags to none', () => {
      const { bake } = parseManifest(manifest().m);
      expect(bake).toMatchObject({ volumeSizeGiB: 16, timeoutMinutes: 60, tags: {} });
    });

    it('rejects a tag key with the reserved aws: prefix, in any case', () => {
      const { m, bake } = manifest();
      bake.tags = { 'AWS:team': 'web' };
      expect(problems(m)).toEqual([
        'bake.tags["AWS:team"]: tag keys must not start with "aws:" (reserved for AWS)',
      ]);
    });

    it('rejects a tag key longer than 128 characters', () => {
      const { m, bake } = manifest();
      const key = 'k'.repeat(129);
      bake.tags = { [key]: 'v' };
      expect(problems(m)).toEqual([`bake.tags.${key}: tag keys must be at most 128 characters long`]);
    });

    it('rejects a tag value longer than 256 characters', () => {
      const { m, bake } = manifest();
      bake.tags = { team: 'v'.repeat(257) };
      expect(problems(m)).toEqual(['bake.tags.team: must be at most 256 characters long']);
    });

    it('rejects more than 50 tags', () => {
      const { m, bake } = manifest();
      bake.tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`tag${i}`, 'v']));
      expect(problems(m)).toEqual(['bake.tags: must hold at most 50 tags']);
    });

    it('rejects a malformed Region in copyToRegions', () => {
      const { m, bake } = manifest();
      bake.copyToRegions = ['us-west-2', 'US-EAST-2'];
      expect(problems(m)).toEqual(['bake.copyToRegions[1]: must be an AWS Region code like us-east-1']);
    });

    it('rejects a Region listed twice in copyToRegions', () => {
      const { m, bake } = manifest();
      bake.copyToRegions = ['us-west-2', 'us-west-2'];
      expect(problems(m)).toEqual(['bake.copyToRegions[1]: duplicate Region "us-west-2"']);
    });

    it('rejects copying the AMI to the bake region itself', () => {
      const { m, bake } = manifest();
      bake.copyToRegions = ['us-west-2', 'us-east-1'];
      expect(problems(m)).toEqual([
        'bake.copyToRegions[1]: us-east-1 is the bake region itself; list only other Regions',
      ]);
    });

    it('rejects a timeout beyond 720 minutes', () => {
      const { m, bake } = manifest();
      bake.timeoutMinutes = 721;
      expect(problems(m)).toEqual(['bake.timeoutMinutes: must be between 5 and 720']);
    });
  });

  describe('environments', () => {
    it('rejects an empty list', () => {
      const { m } = manifest();
      m.environments = [];
      expect(problems(m)).toEqual(['environments: must list at least 1 environment']);
    });

    it('rejects a duplicate environment name', () => {
      const { m, production } = manifest();
      production.name = 'staging';
      expect(problems(m)).toEqual([
        'environments[1].name: duplicate environment name "staging" (also environments[0])',
      ]);
    });

    it('rejects an environment in a Region that neither bakes nor receives a copy of the AMI', () => {
      const { m, bake } = manifest();
      bake.copyToRegions = [];
      expect(problems(m)).toEqual([
        'environments[1].region: us-west-2 has no copy of the AMI: it is neither the bake region (us-east-1) nor in bake.copyToRegions',
      ]);
    });

    it('rejects a second environment on the same Auto Scaling group', () => {
      const { m, production } = manifest();
      production.region = 'us-east-1';
      production.autoScalingGroup = 'web-staging';
      production.targetGroupArns = [TG_STAGING];
      expect(problems(m)).toEqual([
        'environments[1].autoScalingGroup: is already the group of environments[0]; each environment needs its own group',
      ]);
    });

    it('rejects a bake time in the first environment', () => {
      const { m, staging } = manifest();
      staging.bakeTimeMinutes = 30;
      expect(problems(m)).toEqual([
        'environments[0].bakeTimeMinutes: must be 0 in the first environment: there is no earlier environment to bake in',
      ]);
    });

    it('rejects a target group ARN of the wrong resource type', () => {
      const { m, staging } = manifest();
      staging.targetGroupArns = [
        'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef',
      ];
      expect(problemFields(m)).toEqual(['environments[0].targetGroupArns[0]']);
    });

    it('rejects a target group in another Region than its environment', () => {
      const { m, staging } = manifest();
      staging.targetGroupArns = [TG_PROD];
      expect(problems(m)).toEqual([
        'environments[0].targetGroupArns[0]: is in us-west-2, but this environment is in us-east-1',
      ]);
    });

    it('reports cross-field mistakes in the same pass as unrelated field errors', () => {
      const { m, bake, staging } = manifest();
      bake.volumeSizeGiB = 4;
      staging.bakeTimeMinutes = 5;
      bake.copyToRegions = [];
      expect(problemFields(m)).toEqual([
        'bake.volumeSizeGiB',
        'environments[0].bakeTimeMinutes',
        'environments[1].region',
      ]);
    });
  });

  describe('rolling strategy', () => {
    it('defaults to AWS instance refresh defaults: 90% minimum, 100% maximum healthy', () => {
      expect(parseManifest(manifest().m).environments[0]?.strategy).toEqual({
        type: 'rolling',
        minHealthyPercentage: 90,
        maxHealthyPercentage: 100,
        bakeTimeSeconds: 0,
        scaleInProtectedInstances: 'Wait',
        standbyInstances: 'Wait',
      });
    });

    it('rejects a minimum healthy percentage above 100', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', minHealthyPercentage: 101 };
      expect(problems(m)).toEqual([
        'environments[0].strategy.minHealthyPercentage: must be between 0 and 100',
      ]);
    });

    it('rejects a maximum healthy percentage above 200', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', maxHealthyPercentage: 201 };
      expect(problems(m)).toEqual([
        'environments[0].strategy.maxHealthyPercentage: must be between 100 and 200',
      ]);
    });

    it('rejects a maximum more than 100 points above the minimum', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', minHealthyPercentage: 50, maxHealthyPercentage: 160 };
      expect(problems(m)).toEqual([
        'environments[0].strategy.maxHealthyPercentage: must be at most 100 above minHealthyPercentage (50)',
      ]);
    });

    it('rejects checkpoints that do not ascend', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', checkpoints: [20, 20, 100] };
      expect(problems(m)).toEqual([
        'environments[0].strategy.checkpoints[1]: must be greater than the checkpoint before it (20): checkpoints ascend',
      ]);
    });

    it('rejects checkpoints that stop short of 100', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', checkpoints: [10, 50] };
      expect(problems(m)).toEqual([
        'environments[0].strategy.checkpoints[1]: the last checkpoint must be 100, so that every instance is replaced',
      ]);
    });

    it('reports an out-of-range checkpoint once, without an ordering complaint', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', checkpoints: [50, 150] };
      expect(problems(m)).toEqual(['environments[0].strategy.checkpoints[1]: must be between 1 and 100']);
    });

    it('rejects a checkpoint delay without checkpoints', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', checkpointDelaySeconds: 300 };
      expect(problems(m)).toEqual([
        'environments[0].strategy.checkpointDelaySeconds: applies only together with checkpoints',
      ]);
    });

    it('rejects a checkpoint delay over 48 hours', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'rolling', checkpoints: [100], checkpointDelaySeconds: 172801 };
      expect(problems(m)).toEqual([
        'environments[0].strategy.checkpointDelaySeconds: must be between 0 and 172800',
      ]);
    });

    it('rejects an unknown strategy type', () => {
      const { m, staging } = manifest();
      staging.strategy = { type: 'canary' } as unknown as typeof staging.strategy;
      expect(problems(m)).toEqual(['environments[0].strategy.type: type must be "rolling" or "blue-green"']);
    });
  });

  describe('blue-green strategy', () => {
    it('defaults the health gate and keeps one old group', () => {
      expect(parseManifest(manifest().m).environments[1]?.strategy).toEqual({
        type: 'blue-green',
        healthGate: { healthyForSeconds: 60, timeoutSeconds: 900 },
        bakeTimeSeconds: 300,
        keepOldGroups: 1,
      });
    });

    it('rejects keeping more than 5 old groups', () => {
      const { m, production } = manifest();
      production.strategy = { type: 'blue-green', keepOldGroups: 6 };
      expect(problems(m)).toEqual(['environments[1].strategy.keepOldGroups: must be between 0 and 5']);
    });

    it('rejects a health gate whose timeout is not longer than the healthy period', () => {
      const { m, production } = manifest();
      production.strategy = {
        type: 'blue-green',
        healthGate: { healthyForSeconds: 300, timeoutSeconds: 300 },
      };
      expect(problems(m)).toEqual([
        'environments[1].strategy.healthGate.timeoutSeconds: must be greater than healthyForSeconds (300)',
      ]);
    });

    it('rejects blue-green without a target group to switch', () => {
      const { m, production } = manifest();
      production.targetGroupArns = [];
      expect(problems(m)).toEqual([
        'environments[1].targetGroupArns: blue-green needs at least one target group to move traffic between groups',
      ]);
    });
  });

  describe('alarms, approval and access', () => {
    it('defaults alarms to none, a 30-minute watch window, no approval and no access', () => {
      const staging = parseManifest(manifest().m).environments[0];
      expect(staging).toMatchObject({
        alarms: { rollout: [], watch: [], watchWindowMinutes: 30 },
        bakeTimeMinutes: 0,
        approval: { required: false },
        access: { deploy: [], rollback: [], approve: [] },
      });
    });

    it('rejects an alarm listed twice', () => {
      const { m, staging } = manifest();
      staging.alarms = { watch: ['web-5xx', 'web-5xx'] };
      expect(problems(m)).toEqual(['environments[0].alarms.watch[1]: duplicate alarm "web-5xx"']);
    });

    it('rejects a required approval with nobody allowed to approve', () => {
      const { m, production } = manifest();
      production.access = { approve: [] };
      expect(problems(m)).toEqual([
        'environments[1].access.approve: approval is required, so list at least one approver',
      ]);
    });

    it.each(['alice', 'u01abc', 'C01CHANNEL', '@alice'])('rejects the Slack id %j', (id) => {
      const { m, production } = manifest();
      production.access = { approve: ['U01APPROVER'], deploy: [id] };
      expect(problems(m)).toEqual([
        'environments[1].access.deploy[0]: must be a Slack user id (U…/W…) or user-group id (S…)',
      ]);
    });

    it('accepts user ids (U…, W…) and user-group ids (S…)', () => {
      const { m, production } = manifest();
      production.access = { approve: ['U01APPROVER'], deploy: ['W02GRID'], rollback: ['S03ONCALL'] };
      expect(problems(m)).toEqual([]);
    });
  });

  describe('parseManifest', () => {
    it('throws a ManifestValidationError listing every issue with its path', () => {
      const { m, bake } = manifest();
      bake.volumeSizeGiB = 2;
      let caught: unknown;
      try {
        parseManifest({ ...m, kind: 'Job' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ManifestValidationError);
      const error = caught as ManifestValidationError;
      expect(error.name).toBe('ManifestValidationError');
      expect(error.issues.map((i) => i.path)).toEqual([['kind'], ['bake', 'volumeSizeGiB']]);
      expect(error.message).toContain('bake.volumeSizeGiB: must be between 8 and 16384');
    });

    it('returns a manifest that parses to itself again', () => {
      const once = parseManifest(manifest().m);
      expect(parseManifest(structuredClone(once))).toEqual(once);
    });
  });

  describe('formatFieldPath', () => {
    it('writes indexes in brackets and odd keys quoted', () => {
      expect(formatFieldPath(['environments', 1, 'strategy', 'minHealthyPercentage'])).toBe(
        'environments[1].strategy.minHealthyPercentage',
      );
      expect(formatFieldPath(['bake', 'tags', 'cost center'])).toBe('bake.tags["cost center"]');
    });
  });

  describe('JSON Schema', () => {
    it('matches the committed schemas/service-manifest.schema.json (run `npm run schema` after edits)', () => {
      const committed = readFileSync(join(ROOT, 'schemas', 'service-manifest.schema.json'), 'utf8');
      expect(committed).toBe(renderManifestJsonSchema());
    });

    it('offers custom sources only a source, no detailType', () => {
      const schema = manifestJsonSchema() as {
        properties: { artifact: { properties: { source: { properties: { custom: unknown } } } } };
      };
      expect(schema.properties.artifact.properties.source.properties.custom).toMatchObject({
        properties: { source: expect.anything() },
        required: ['source'],
        additionalProperties: false,
      });
      expect(JSON.stringify(schema)).not.toContain('detailType');
    });

    it('tells editors that a source has exactly one kind', () => {
      const schema = manifestJsonSchema() as {
        properties: { artifact: { properties: { source: { oneOf: unknown } } } };
      };
      expect(schema.properties.artifact.properties.source.oneOf).toEqual([
        { required: ['s3'] },
        { required: ['ecr'] },
        { required: ['custom'] },
        { required: ['codeartifact'] },
      ]);
    });
  });
});

describe('validateManifestSource', () => {
  const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'manifests', name), 'utf8');
  const examples = (name: string) => readFileSync(join(ROOT, 'examples', name), 'utf8');
  const lineOf = (text: string, needle: string) =>
    text.split('\n').findIndex((line) => line.includes(needle)) + 1;

  it('returns the parsed manifest and no diagnostics for a valid file', () => {
    const result = validateManifestSource(examples('ledger.yml'), 'ledger.yml');
    expect(result.diagnostics).toEqual([]);
    expect(result.manifest?.environments.map((e) => e.name)).toEqual(['dev', 'staging', 'production']);
  });

  it('reports each of three mistakes at its own line, in file order', () => {
    const text = fixture('three-mistakes.yml');
    const marked = text.split('\n').flatMap((line, index) => (/ # mistake: /.test(line) ? [index + 1] : []));
    const { manifest, diagnostics } = validateManifestSource(text, 'three-mistakes.yml');
    expect(manifest).toBeUndefined();
    expect(marked).toHaveLength(3);
    expect(diagnostics.map((d) => d.line)).toEqual(marked);
    expect(diagnostics.map((d) => d.message)).toEqual([
      'bake.volumeSizeGiB: must be between 8 and 16384',
      'environments[0].strategy.instanceWarmupSecond: unknown key (did you mean "instanceWarmupSeconds"?)',
      'environments[0].bakeTimeMinutes: must be 0 in the first environment: there is no earlier environment to bake in',
    ]);
  });

  it('points a value error at the value', () => {
    const text = examples('checkout.yml').replace('minHealthyPercentage: 50', 'minHealthyPercentage: 150');
    const [d] = validateManifestSource(text, 'checkout.yml').diagnostics;
    const line = lineOf(text, 'minHealthyPercentage: 150');
    expect(d).toMatchObject({
      file: 'checkout.yml',
      line,
      column: (text.split('\n')[line - 1] ?? '').indexOf('150') + 1,
      field: 'environments[0].strategy.minHealthyPercentage',
      message: 'environments[0].strategy.minHealthyPercentage: must be between 0 and 100',
    });
  });

  it('points an unknown key at the key itself', () => {
    const text = examples('checkout.yml').replace('  timeoutMinutes: 45', '  timeoutMinute: 45');
    const [d] = validateManifestSource(text, 'checkout.yml').diagnostics;
    expect(d).toMatchObject({
      line: lineOf(text, 'timeoutMinute: 45'),
      column: 3,
      field: 'bake.timeoutMinute',
    });
  });

  it('points a missing key at its parent map', () => {
    const text = examples('checkout.yml').replace('  instanceProfile: kiln-bake-checkout\n', '');
    const [d] = validateManifestSource(text, 'checkout.yml').diagnostics;
    // The bake map begins with its first key, `region:`.
    expect(d).toMatchObject({
      line: lineOf(text, '  region: us-east-1'),
      column: 3,
      message: 'bake.instanceProfile: is required',
    });
  });

  it('points an empty value at its key', () => {
    const text = examples('checkout.yml').replace(/ {2}baseImage:\n {4}ssmParameter: .*\n/, '  baseImage:\n');
    const [d] = validateManifestSource(text, 'checkout.yml').diagnostics;
    expect(d).toMatchObject({ line: lineOf(text, '  baseImage:'), column: 3, field: 'bake.baseImage' });
  });

  it('reports a YAML syntax error at its position and validates nothing further', () => {
    const text = 'apiVersion: kiln.dev/v1\nkind: Service\nname: [web\n';
    const { manifest, diagnostics } = validateManifestSource(text, 'broken.yml');
    expect(manifest).toBeUndefined();
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]).toMatchObject({
      file: 'broken.yml',
      line: expect.any(Number),
      column: expect.any(Number),
    });
    expect(diagnostics[0]?.field).toBeUndefined();
    expect(diagnostics[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports a duplicate key on its second occurrence, naming the first', () => {
    const text = examples('checkout.yml').replace('kind: Service\n', 'kind: Service\nkind: Service\n');
    const { diagnostics } = validateManifestSource(text, 'checkout.yml');
    expect(diagnostics).toEqual([
      expect.objectContaining({
        line: lineOf(text, 'kind: Service') + 1,
        column: 1,
        field: 'kind',
        reason: `duplicate key (first at line ${lineOf(text, 'kind: Service')})`,
      }),
    ]);
  });

  it('reports an empty file at line 1', () => {
    expect(validateManifestSource('', 'empty.yml').diagnostics).toEqual([
      expect.objectContaining({
        line: 1,
        column: 1,
        message: '(manifest): must be a map (key: value), not null (an empty value)',
      }),
    ]);
  });

  it('places an error reached through a YAML alias on the anchored node', () => {
    const text = examples('checkout.yml')
      .replace('      deploy: [S02CHECKOUTDEV]', '      deploy: &devs [S02CHECKOUTDEV, not-a-slack-id]')
      .replace('      deploy: [U04ALICE01]', '      deploy: *devs');
    const anchored = lineOf(text, '&devs');
    expect(validateManifestSource(text, 'checkout.yml').diagnostics).toEqual([
      expect.objectContaining({ line: anchored, field: 'environments[0].access.deploy[1]' }),
      expect.objectContaining({ line: anchored, field: 'environments[1].access.deploy[1]' }),
    ]);
  });
});
