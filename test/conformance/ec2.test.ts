/**
 * Differential tests: the same EC2 calls against moto (a real EC2Client pointed at moto_server) and
 * against the sandbox's Ec2Sim (through `handle`), comparing error names and messages and the key
 * structure of outputs (ids and dates differ by nature and are normalised away).
 *
 * Where moto departs from AWS's documented behaviour the sim follows AWS; each such case says so and
 * expects the difference explicitly, so a moto upgrade that closes the gap shows up here.
 */
import {
  CreateImageCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeTagsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { Image, TagDescription } from '@aws-sdk/client-ec2';
import { createTestContext } from '../../sandbox/core/testing';
import type { TestSimContext } from '../../sandbox/core/testing';
import { Ec2Sim } from '../../sandbox/services/ec2';
import { motoClientConfig, resetMoto } from './moto';

const SECOND = 1000;

type Outcome = { ok: true; value: object } | { ok: false; name: string; message: string };

async function outcome(call: () => Promise<object>): Promise<Outcome> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof Error) return { ok: false, name: error.name, message: error.message };
    throw error;
  }
}

function errorOf(result: Outcome): { name: string; message: string } {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return { name: result.name, message: result.message };
}

/** Every key path of a value (array elements as `[]`), without the SDK's `$metadata`. */
function paths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((item) => paths(item, `${prefix}[]`)))].sort();
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.entries(value)
      .filter(([key]) => key !== '$metadata')
      .flatMap(([key, item]) => [`${prefix}.${key}`, ...paths(item, `${prefix}.${key}`)])
      .sort();
  }
  return [];
}

function missingFrom(candidate: unknown, reference: unknown): string[] {
  const have = new Set(paths(candidate));
  return paths(reference).filter((path) => !have.has(path));
}

interface Sim {
  ctx: TestSimContext;
  ec2: Ec2Sim;
  call(operation: string, input: object): Promise<Outcome>;
}

function createSim(): Sim {
  const ctx = createTestContext(1);
  const ec2 = new Ec2Sim(ctx, { bootSeconds: 30, bootJitterSeconds: 0, imageCreateSeconds: 60 });
  return { ctx, ec2, call: (operation, input) => outcome(() => ec2.handle(operation, input)) };
}

let moto: EC2Client;

beforeAll(() => {
  moto = new EC2Client(motoClientConfig());
});

afterAll(() => {
  moto.destroy();
});

beforeEach(async () => {
  await resetMoto();
});

async function motoBaseImage(): Promise<string> {
  const output = await moto.send(
    new DescribeImagesCommand({
      Owners: ['amazon'],
      Filters: [{ Name: 'name', Values: ['al2023-ami-2023*-x86_64'] }],
    }),
  );
  const imageId = output.Images?.[0]?.ImageId;
  if (imageId === undefined) throw new Error('moto offers no Amazon Linux 2023 image');
  return imageId;
}

/** An instance and a tagged image built from it, on both sides; the sim's image is available. */
async function imageOnBoth(
  sim: Sim,
): Promise<{ moto: { instanceId: string; imageId: string }; sim: { instanceId: string; imageId: string } }> {
  const tagSpec = [{ ResourceType: 'image' as const, Tags: [{ Key: 'service', Value: 'web' }] }];
  const motoRun = await moto.send(
    new RunInstancesCommand({ ImageId: await motoBaseImage(), MinCount: 1, MaxCount: 1 }),
  );
  const motoInstance = motoRun.Instances?.[0]?.InstanceId ?? '';
  const motoImage = await moto.send(
    new CreateImageCommand({ InstanceId: motoInstance, Name: 'kiln-web-1.0.0', TagSpecifications: tagSpec }),
  );

  const base = sim.ec2.seedImage({
    name: 'al2023-ami-2023.6.20250115.0-kernel-6.1-x86_64',
    ownerAlias: 'amazon',
  });
  const simRun = await sim.ec2.instances.runInstances({ ImageId: base, MinCount: 1, MaxCount: 1 });
  const simInstance = simRun.Instances?.[0]?.InstanceId ?? '';
  await sim.ctx.fakeClock.tickAsync(30 * SECOND);
  const simImage = await sim.ec2.images.createImage({
    InstanceId: simInstance,
    Name: 'kiln-web-1.0.0',
    TagSpecifications: tagSpec,
  });
  // moto makes images available at once; AWS (and the sim) take a while.
  await sim.ctx.fakeClock.tickAsync(60 * SECOND);
  return {
    moto: { instanceId: motoInstance, imageId: motoImage.ImageId ?? '' },
    sim: { instanceId: simInstance, imageId: simImage.ImageId ?? '' },
  };
}

describe('EC2 conformance (sim vs moto)', () => {
  describe('DescribeImages', () => {
    it('returns an own image with moto’s response keys', async () => {
      const sim = createSim();
      await imageOnBoth(sim);
      const fromMoto = await moto.send(new DescribeImagesCommand({ Owners: ['self'] }));
      const fromSim = await sim.ec2.handle('DescribeImages', { Owners: ['self'] });
      // AWS sets BootMode only when the image specifies one, and Platform only for Windows.
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html
      expect(missingFrom(fromSim, fromMoto)).toEqual(['.Images[].BootMode']);
      const pick = (image: Image | undefined) => ({
        Name: image?.Name,
        State: image?.State,
        OwnerId: image?.OwnerId,
        Public: image?.Public,
        ImageType: image?.ImageType,
        Tags: image?.Tags,
      });
      const simImages = (fromSim as { Images?: Image[] }).Images;
      expect(pick(simImages?.[0])).toEqual(pick(fromMoto.Images?.[0]));
    });

    it.each([
      ['name with a wildcard', [{ Name: 'name', Values: ['kiln-*'] }], 1],
      ['name that matches nothing', [{ Name: 'name', Values: ['other-*'] }], 0],
      ['state', [{ Name: 'state', Values: ['available'] }], 1],
      ['tag:K', [{ Name: 'tag:service', Values: ['web'] }], 1],
      ['tag:K with another value', [{ Name: 'tag:service', Values: ['api'] }], 0],
      ['tag-key', [{ Name: 'tag-key', Values: ['service'] }], 1],
    ])('filters own images by %s like moto', async (_label, Filters, expected) => {
      const sim = createSim();
      await imageOnBoth(sim);
      const fromMoto = await moto.send(new DescribeImagesCommand({ Owners: ['self'], Filters }));
      const fromSim = (await sim.ec2.handle('DescribeImages', { Owners: ['self'], Filters })) as {
        Images?: Image[];
      };
      expect(fromSim.Images?.map((image) => image.Name)).toEqual(fromMoto.Images?.map((image) => image.Name));
      expect(fromSim.Images).toHaveLength(expected);
    });

    it.each([['ami-0123456789abcdef0'], ['not-an-ami']])(
      'rejects the image id %s like moto',
      async (imageId) => {
        const sim = createSim();
        const fromMoto = await outcome(() => moto.send(new DescribeImagesCommand({ ImageIds: [imageId] })));
        const fromSim = await sim.call('DescribeImages', { ImageIds: [imageId] });
        expect(errorOf(fromSim)).toEqual(errorOf(fromMoto));
      },
    );
  });

  describe('launch templates', () => {
    const data = {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.micro' as const,
      SecurityGroupIds: ['sg-1'],
    };

    it('answers CreateLaunchTemplate with moto’s keys', async () => {
      const sim = createSim();
      const input = {
        LaunchTemplateName: 'web',
        VersionDescription: 'v1',
        LaunchTemplateData: data,
        TagSpecifications: [
          { ResourceType: 'launch-template' as const, Tags: [{ Key: 'team', Value: 'core' }] },
        ],
      };
      const fromMoto = await moto.send(new CreateLaunchTemplateCommand(input));
      const fromSim = await sim.ec2.handle('CreateLaunchTemplate', input);
      expect(paths(fromSim)).toEqual(paths(fromMoto));
    });

    it('answers CreateLaunchTemplateVersion and DescribeLaunchTemplateVersions with moto’s keys', async () => {
      const sim = createSim();
      const create = { LaunchTemplateName: 'web', VersionDescription: 'v1', LaunchTemplateData: data };
      const version = {
        LaunchTemplateName: 'web',
        VersionDescription: 'v2',
        LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa' },
      };
      await moto.send(new CreateLaunchTemplateCommand(create));
      await sim.ec2.handle('CreateLaunchTemplate', create);
      const motoVersion = await moto.send(new CreateLaunchTemplateVersionCommand(version));
      const simVersion = await sim.ec2.handle('CreateLaunchTemplateVersion', version);
      expect(paths(simVersion)).toEqual(paths(motoVersion));

      for (const describe of [
        { LaunchTemplateName: 'web' },
        { LaunchTemplateName: 'web', Versions: ['$Latest', '$Default'] },
      ]) {
        const fromMoto = await moto.send(new DescribeLaunchTemplateVersionsCommand(describe));
        const fromSim = (await sim.ec2.handle('DescribeLaunchTemplateVersions', describe)) as typeof fromMoto;
        expect(paths(fromSim)).toEqual(paths(fromMoto));
        const summary = (out: typeof fromMoto) =>
          out.LaunchTemplateVersions?.map((v) => [v.VersionNumber, v.DefaultVersion, v.LaunchTemplateData]);
        expect(summary(fromSim)).toEqual(summary(fromMoto));
      }
    });

    it('differs from moto on SourceVersion, which moto ignores and AWS inherits from', async () => {
      const sim = createSim();
      const create = { LaunchTemplateName: 'web', LaunchTemplateData: data };
      const version = {
        LaunchTemplateName: 'web',
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa' },
      };
      await moto.send(new CreateLaunchTemplateCommand(create));
      await sim.ec2.handle('CreateLaunchTemplate', create);
      const fromMoto = await moto.send(new CreateLaunchTemplateVersionCommand(version));
      const fromSim = (await sim.ec2.handle('CreateLaunchTemplateVersion', version)) as typeof fromMoto;
      // "the new version inherits the launch parameters from the source version"
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
      expect(fromMoto.LaunchTemplateVersion?.LaunchTemplateData).toEqual({
        ImageId: 'ami-0aaaaaaaaaaaaaaaa',
      });
      expect(fromSim.LaunchTemplateVersion?.LaunchTemplateData).toEqual({
        ...data,
        ImageId: 'ami-0aaaaaaaaaaaaaaaa',
      });
    });

    it('rejects a duplicate name like moto', async () => {
      const sim = createSim();
      const input = { LaunchTemplateName: 'web', LaunchTemplateData: data };
      await moto.send(new CreateLaunchTemplateCommand(input));
      await sim.ec2.handle('CreateLaunchTemplate', input);
      const fromMoto = await outcome(() => moto.send(new CreateLaunchTemplateCommand(input)));
      expect(errorOf(await sim.call('CreateLaunchTemplate', input))).toEqual(errorOf(fromMoto));
    });

    it.each([
      ['a missing name', { LaunchTemplateName: 'nope' }],
      ['a missing id', { LaunchTemplateId: 'lt-0123456789abcdef0' }],
    ])('rejects a new version of %s like moto', async (_label, ref) => {
      const sim = createSim();
      const input = { ...ref, LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa' } };
      const fromMoto = await outcome(() => moto.send(new CreateLaunchTemplateVersionCommand(input)));
      expect(errorOf(await sim.call('CreateLaunchTemplateVersion', input))).toEqual(errorOf(fromMoto));
    });

    it('rejects describing a missing template like moto', async () => {
      const sim = createSim();
      const byNames = { LaunchTemplateNames: ['nope'] };
      const fromMoto = await outcome(() => moto.send(new DescribeLaunchTemplatesCommand(byNames)));
      expect(errorOf(await sim.call('DescribeLaunchTemplates', byNames))).toEqual(errorOf(fromMoto));
      const versions = { LaunchTemplateName: 'nope' };
      const motoVersions = await outcome(() =>
        moto.send(new DescribeLaunchTemplateVersionsCommand(versions)),
      );
      expect(errorOf(await sim.call('DescribeLaunchTemplateVersions', versions))).toEqual(
        errorOf(motoVersions),
      );
    });

    it('rejects a missing version like moto (the message names each side’s template id)', async () => {
      const sim = createSim();
      const create = { LaunchTemplateName: 'web', LaunchTemplateData: data };
      const motoId =
        (await moto.send(new CreateLaunchTemplateCommand(create))).LaunchTemplate?.LaunchTemplateId ?? '';
      const simOut = (await sim.ec2.handle('CreateLaunchTemplate', create)) as {
        LaunchTemplate?: { LaunchTemplateId?: string };
      };
      const simId = simOut.LaunchTemplate?.LaunchTemplateId ?? '';
      const input = { LaunchTemplateName: 'web', Versions: ['9'] };
      const fromMoto = errorOf(
        await outcome(() => moto.send(new DescribeLaunchTemplateVersionsCommand(input))),
      );
      const fromSim = errorOf(await sim.call('DescribeLaunchTemplateVersions', input));
      expect({ ...fromSim, message: fromSim.message.replace(simId, '<lt>') }).toEqual({
        ...fromMoto,
        message: fromMoto.message.replace(motoId, '<lt>'),
      });
    });
  });

  describe('tags', () => {
    it('creates and describes tags on an instance and an image like moto', async () => {
      const sim = createSim();
      const ids = await imageOnBoth(sim);
      const tags = [
        { Key: 'team', Value: 'core' },
        { Key: 'stage', Value: '' },
      ];
      await moto.send(
        new CreateTagsCommand({ Resources: [ids.moto.instanceId, ids.moto.imageId], Tags: tags }),
      );
      expect(
        await sim.call('CreateTags', { Resources: [ids.sim.instanceId, ids.sim.imageId], Tags: tags }),
      ).toEqual({
        ok: true,
        value: {},
      });
      // AWS documents no order for DescribeTags (moto lists resources in the order they were first
      // tagged), so the lists are compared sorted.
      const normalise = (list: TagDescription[] | undefined, instanceId: string, imageId: string) =>
        (list ?? [])
          .map((tag) => ({
            ...tag,
            ResourceId:
              tag.ResourceId === instanceId
                ? '<instance>'
                : tag.ResourceId === imageId
                  ? '<image>'
                  : tag.ResourceId,
          }))
          .sort((a, b) => `${a.ResourceId}/${a.Key}`.localeCompare(`${b.ResourceId}/${b.Key}`));
      for (const filter of [
        { Name: 'resource-id', Values: ['<instance>', '<image>'] },
        { Name: 'key', Values: ['team'] },
        { Name: 'resource-type', Values: ['image'] },
      ]) {
        const motoValues = filter.Values.map((v) =>
          v.replace('<instance>', ids.moto.instanceId).replace('<image>', ids.moto.imageId),
        );
        const simValues = filter.Values.map((v) =>
          v.replace('<instance>', ids.sim.instanceId).replace('<image>', ids.sim.imageId),
        );
        const fromMoto = await moto.send(
          new DescribeTagsCommand({ Filters: [{ Name: filter.Name, Values: motoValues }] }),
        );
        const fromSim = (await sim.ec2.handle('DescribeTags', {
          Filters: [{ Name: filter.Name, Values: simValues }],
        })) as {
          Tags?: TagDescription[];
        };
        expect(normalise(fromSim.Tags, ids.sim.instanceId, ids.sim.imageId)).toEqual(
          normalise(fromMoto.Tags, ids.moto.instanceId, ids.moto.imageId),
        );
      }
    });

    it('differs from moto on tagging a missing instance, which AWS rejects', async () => {
      const sim = createSim();
      const input = { Resources: ['i-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] };
      // moto accepts the call; AWS answers InvalidInstanceID.NotFound for a resource that does not exist.
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
      expect((await outcome(() => moto.send(new CreateTagsCommand(input)))).ok).toBe(true);
      expect(errorOf(await sim.call('CreateTags', input)).name).toBe('InvalidInstanceID.NotFound');
    });

    // Not compared: a tag without Value makes moto 5.2.1 answer HTTP 500 (an HTML page); AWS stores
    // the empty string (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html),
    // which test/unit/sandbox/ec2.test.ts holds the sim to.
  });

  describe('invalid instance ids', () => {
    it.each([
      [
        'DescribeInstances',
        (InstanceIds: string[]) => moto.send(new DescribeInstancesCommand({ InstanceIds })),
      ],
      [
        'TerminateInstances',
        (InstanceIds: string[]) => moto.send(new TerminateInstancesCommand({ InstanceIds })),
      ],
    ] as const)('rejects an unknown id in %s like moto', async (operation, command) => {
      const sim = createSim();
      const ids = ['i-0123456789abcdef0'];
      const fromMoto = await outcome(() => command(ids));
      expect(errorOf(await sim.call(operation, { InstanceIds: ids }))).toEqual(errorOf(fromMoto));
    });

    it('differs from moto on a malformed id, which AWS rejects as InvalidInstanceID.Malformed', async () => {
      const sim = createSim();
      const fromMoto = errorOf(
        await outcome(() => moto.send(new DescribeInstancesCommand({ InstanceIds: ['bogus'] }))),
      );
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (InvalidInstanceID.Malformed)
      expect(fromMoto.name).toBe('InvalidInstanceID.NotFound');
      expect(errorOf(await sim.call('DescribeInstances', { InstanceIds: ['bogus'] })).name).toBe(
        'InvalidInstanceID.Malformed',
      );
    });
  });
});
