import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type { BlockDeviceMapping, Image, Snapshot } from '@aws-sdk/client-ec2';
import { createTestContext, type TestSimContext } from '../../../sandbox/core/testing';
import { Ec2Regions, Ec2Sim, type Ec2SimOptions } from '../../../sandbox/services/ec2';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface Setup {
  ctx: TestSimContext;
  ec2: Ec2Sim;
  baseImageId: string;
}

function setup(options: Ec2SimOptions = {}, ctx = createTestContext(3)): Setup {
  const ec2 = new Ec2Sim(ctx, { bootSeconds: 30, bootJitterSeconds: 0, imageCreateSeconds: 300, ...options });
  const baseImageId = ec2.seedImage({ name: 'al2023-ami-2023.6-x86_64', ownerAlias: 'amazon' });
  return { ctx, ec2, baseImageId };
}

async function errorOf(promise: Promise<unknown>): Promise<EC2ServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EC2ServiceException) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A running builder with the given extra mappings, imaged under `name`. */
async function bake(
  s: Setup,
  options: { name?: string; mappings?: BlockDeviceMapping[]; snapshotTags?: Record<string, string> } = {},
): Promise<string> {
  const run = (await s.ec2.handle('RunInstances', {
    ImageId: s.baseImageId,
    MinCount: 1,
    MaxCount: 1,
    ...(options.mappings ? { BlockDeviceMappings: options.mappings } : {}),
  })) as { Instances?: Array<{ InstanceId?: string }> };
  await s.ctx.fakeClock.tickAsync(30 * SECOND);
  const tags = Object.entries(options.snapshotTags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const output = (await s.ec2.handle('CreateImage', {
    InstanceId: run.Instances?.[0]?.InstanceId,
    Name: options.name ?? 'kiln-web-1.0.0',
    ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags }] } : {}),
  })) as { ImageId?: string };
  return output.ImageId ?? '';
}

async function image(s: Setup, imageId: string): Promise<Image | undefined> {
  const output = (await s.ec2.handle('DescribeImages', { ImageIds: [imageId] })) as { Images?: Image[] };
  return output.Images?.[0];
}

const snapshotIdsOf = (img: Image | undefined): string[] =>
  (img?.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId ?? '');

async function ownSnapshots(s: Setup, input: object = {}): Promise<Snapshot[]> {
  const output = (await s.ec2.handle('DescribeSnapshots', { OwnerIds: ['self'], ...input })) as {
    Snapshots?: Snapshot[];
  };
  return output.Snapshots ?? [];
}

describe('sandbox EC2 snapshots', () => {
  describe('CreateImage', () => {
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/creating-an-ami-ebs.html
    it('snapshots each EBS volume of the instance, named by the image’s block device mappings', async () => {
      const s = setup();
      const imageId = await bake(s, {
        mappings: [
          { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 16 } },
          { DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 50, VolumeType: 'io2' } },
        ],
      });

      const mappings = (await image(s, imageId))?.BlockDeviceMappings ?? [];

      expect(mappings.map((m) => [m.DeviceName, m.Ebs?.VolumeSize, m.Ebs?.VolumeType])).toEqual([
        ['/dev/xvda', 16, 'gp3'],
        ['/dev/xvdb', 50, 'io2'],
      ]);
      const ids = snapshotIdsOf(await image(s, imageId));
      expect(ids.every((id) => /^snap-[0-9a-f]{17}$/.test(id))).toBe(true);
      expect((await ownSnapshots(s)).map((snap) => [snap.SnapshotId, snap.VolumeSize])).toEqual([
        [ids[0], 16],
        [ids[1], 50],
      ]);
    });

    it('keeps the snapshots pending until the image is available, then completed', async () => {
      const s = setup();
      await bake(s);
      expect((await ownSnapshots(s)).map((snap) => [snap.State, snap.Progress])).toEqual([['pending', '0%']]);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      expect((await ownSnapshots(s)).map((snap) => [snap.State, snap.Progress])).toEqual([
        ['completed', '100%'],
      ]);
    });

    it('ends the snapshots in error when the image fails', async () => {
      const s = setup();
      s.ctx.activeFaults.add('create-image-failure:*');
      await bake(s);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      expect((await ownSnapshots(s)).map((snap) => snap.State)).toEqual(['error']);
    });

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html (TagSpecification)
    it('tags the snapshots with TagSpecifications of type snapshot', async () => {
      const s = setup();
      await bake(s, { snapshotTags: { 'kiln:service': 'web' } });
      const tagged = await ownSnapshots(s, { Filters: [{ Name: 'tag:kiln:service', Values: ['web'] }] });
      expect(tagged.map((snap) => snap.Tags)).toEqual([[{ Key: 'kiln:service', Value: 'web' }]]);
    });

    // "If you specify other values for ResourceType, the request fails."
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html (TagSpecification)
    it('refuses TagSpecifications of a type other than image or snapshot with InvalidParameterValue', async () => {
      const s = setup();
      const run = (await s.ec2.handle('RunInstances', {
        ImageId: s.baseImageId,
        MinCount: 1,
        MaxCount: 1,
      })) as {
        Instances?: Array<{ InstanceId?: string }>;
      };
      await s.ctx.fakeClock.tickAsync(30 * SECOND);

      const error = await errorOf(
        s.ec2.handle('CreateImage', {
          InstanceId: run.Instances?.[0]?.InstanceId,
          Name: 'kiln-web-1.0.0',
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'kiln:role', Value: 'image' }] }],
        }),
      );

      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toContain("'instance'");
      expect(await ownSnapshots(s)).toEqual([]);
    });
  });

  describe('base images', () => {
    it('show a root snapshot that is not the account’s to describe', async () => {
      const s = setup();
      expect(snapshotIdsOf(await image(s, s.baseImageId))).toHaveLength(1);
      expect(await ownSnapshots(s)).toEqual([]);
    });
  });

  describe('tags', () => {
    it('CreateTags and DescribeTags reach snapshots', async () => {
      const s = setup();
      const [snapshotId = ''] = snapshotIdsOf(await image(s, await bake(s)));
      await s.ec2.handle('CreateTags', {
        Resources: [snapshotId],
        Tags: [{ Key: 'kiln:digest', Value: 'sha256:ab' }],
      });
      const described = (await s.ec2.handle('DescribeTags', {
        Filters: [{ Name: 'resource-type', Values: ['snapshot'] }],
      })) as { Tags?: unknown[] };
      expect(described.Tags).toEqual([
        { Key: 'kiln:digest', ResourceId: snapshotId, ResourceType: 'snapshot', Value: 'sha256:ab' },
      ]);
    });

    it('refuses to tag a snapshot that does not exist with InvalidSnapshot.NotFound', async () => {
      const s = setup();
      const error = await errorOf(
        s.ec2.handle('CreateTags', {
          Resources: ['snap-0123456789abcdef0'],
          Tags: [{ Key: 'k', Value: 'v' }],
        }),
      );
      expect(error.name).toBe('InvalidSnapshot.NotFound');
    });
  });

  describe('DeleteSnapshot', () => {
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSnapshot.html
    it('refuses while a registered image uses the snapshot, with InvalidSnapshot.InUse', async () => {
      const s = setup();
      const imageId = await bake(s);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      const [snapshotId] = snapshotIdsOf(await image(s, imageId));

      const error = await errorOf(s.ec2.handle('DeleteSnapshot', { SnapshotId: snapshotId }));

      expect(error.name).toBe('InvalidSnapshot.InUse');
      expect(error.message).toContain(imageId);
      expect(await ownSnapshots(s)).toHaveLength(1);
    });

    it('deletes it once the image is deregistered; a second delete is InvalidSnapshot.NotFound', async () => {
      const s = setup();
      const imageId = await bake(s);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      const [snapshotId] = snapshotIdsOf(await image(s, imageId));
      await s.ec2.handle('DeregisterImage', { ImageId: imageId });

      // Deregistering leaves the snapshots (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/deregister-ami.html).
      expect(await ownSnapshots(s)).toHaveLength(1);
      await s.ec2.handle('DeleteSnapshot', { SnapshotId: snapshotId });
      expect(await ownSnapshots(s)).toEqual([]);
      const again = await errorOf(s.ec2.handle('DeleteSnapshot', { SnapshotId: snapshotId }));
      expect(again.name).toBe('InvalidSnapshot.NotFound');
    });

    it('refuses a malformed snapshot id with InvalidSnapshotID.Malformed', async () => {
      const s = setup();
      const error = await errorOf(s.ec2.handle('DeleteSnapshot', { SnapshotId: 'not-a-snapshot' }));
      expect(error.name).toBe('InvalidSnapshotID.Malformed');
    });
  });

  describe('DeregisterImage with DeleteAssociatedSnapshots', () => {
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html
    it('deletes the image’s snapshots in the same call and reports each one', async () => {
      const s = setup();
      const imageId = await bake(s);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      const [snapshotId] = snapshotIdsOf(await image(s, imageId));

      const output = (await s.ec2.handle('DeregisterImage', {
        ImageId: imageId,
        DeleteAssociatedSnapshots: true,
      })) as {
        Return?: boolean;
        DeleteSnapshotResults?: Array<{ SnapshotId?: string; ReturnCode?: string }>;
      };

      expect(output.Return).toBe(true);
      expect(output.DeleteSnapshotResults).toEqual([{ SnapshotId: snapshotId, ReturnCode: 'success' }]);
      expect(await ownSnapshots(s)).toEqual([]);
    });

    it('leaves the snapshots without the flag (its default)', async () => {
      const s = setup();
      const imageId = await bake(s);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);

      const output = (await s.ec2.handle('DeregisterImage', { ImageId: imageId })) as {
        DeleteSnapshotResults?: unknown;
      };

      expect(output.DeleteSnapshotResults).toBeUndefined();
      expect(await ownSnapshots(s)).toHaveLength(1);
    });
  });

  describe('CopyImage', () => {
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/CopyingAMIs.html
    it('makes new snapshots of the same volumes in the destination region', async () => {
      const regions = new Ec2Regions();
      const source = setup({ regions });
      const target = setup(
        { regions, imageCopySeconds: 600 },
        createTestContext(4, 'eu-west-1', source.ctx.fakeClock),
      );
      const imageId = await bake(source, {
        mappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20 } }],
      });
      await source.ctx.fakeClock.tickAsync(300 * SECOND);

      const copy = (await target.ec2.handle('CopyImage', {
        SourceImageId: imageId,
        SourceRegion: 'us-east-1',
        Name: 'kiln-web-1.0.0',
      })) as { ImageId?: string };
      await source.ctx.fakeClock.tickAsync(600 * SECOND);

      const copied = await image(target, copy.ImageId ?? '');
      expect(copied?.BlockDeviceMappings?.map((m) => m.Ebs?.VolumeSize)).toEqual([20]);
      expect(snapshotIdsOf(copied)).not.toEqual(snapshotIdsOf(await image(source, imageId)));
      expect((await ownSnapshots(target)).map((snap) => [snap.SnapshotId, snap.State])).toEqual([
        [snapshotIdsOf(copied)[0], 'completed'],
      ]);
      expect(await ownSnapshots(source)).toHaveLength(1);
    });

    // "To tag the new snapshots, the value for ResourceType must be snapshot. The same tag is
    // applied to all the new snapshots." https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html
    it('tags the new snapshots with TagSpecifications of type snapshot, from the start of the copy', async () => {
      const regions = new Ec2Regions();
      const source = setup({ regions });
      const target = setup(
        { regions, imageCopySeconds: 600 },
        createTestContext(4, 'eu-west-1', source.ctx.fakeClock),
      );
      const imageId = await bake(source, {
        mappings: [{ DeviceName: '/dev/xvdb', Ebs: { VolumeSize: 50 } }],
      });
      await source.ctx.fakeClock.tickAsync(300 * SECOND);

      await target.ec2.handle('CopyImage', {
        SourceImageId: imageId,
        SourceRegion: 'us-east-1',
        Name: 'kiln-web-1.0.0',
        TagSpecifications: [
          { ResourceType: 'image', Tags: [{ Key: 'kiln:role', Value: 'image' }] },
          { ResourceType: 'snapshot', Tags: [{ Key: 'kiln:role', Value: 'image' }] },
        ],
      });

      const pending = await ownSnapshots(target);
      expect(pending.map((snap) => [snap.State, snap.Tags])).toEqual([
        ['pending', [{ Key: 'kiln:role', Value: 'image' }]],
        ['pending', [{ Key: 'kiln:role', Value: 'image' }]],
      ]);
      expect((await ownSnapshots(source)).map((snap) => snap.Tags)).toEqual([undefined, undefined]);
    });

    it('refuses TagSpecifications of a type other than image or snapshot with InvalidParameterValue', async () => {
      const regions = new Ec2Regions();
      const source = setup({ regions });
      const target = setup({ regions }, createTestContext(4, 'eu-west-1', source.ctx.fakeClock));
      const imageId = await bake(source);
      await source.ctx.fakeClock.tickAsync(300 * SECOND);

      const error = await errorOf(
        target.ec2.handle('CopyImage', {
          SourceImageId: imageId,
          SourceRegion: 'us-east-1',
          Name: 'kiln-web-1.0.0',
          TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'kiln:role', Value: 'image' }] }],
        }),
      );

      expect(error.name).toBe('InvalidParameterValue');
      expect(await ownSnapshots(target)).toEqual([]);
    });
  });
});

describe('sandbox EC2 image plans', () => {
  const amiEvents = (s: Setup) =>
    s.ctx.events
      .filter((e) => e['detail-type'] === 'EC2 AMI State Change')
      .map((e) => ({ imageId: e.detail.ImageId, state: e.detail.State, at: Date.parse(e.time) }));

  it('keeps a planned image pending for its minutes of virtual time', async () => {
    const s = setup();
    s.ec2.planImages([{ name: 'kiln-web-*', minutes: 45 }]);
    const imageId = await bake(s);
    const created = s.ctx.clock.now();

    await s.ctx.fakeClock.tickAsync(44 * MINUTE);
    expect((await image(s, imageId))?.State).toBe('pending');
    await s.ctx.fakeClock.tickAsync(1 * MINUTE);

    expect((await image(s, imageId))?.State).toBe('available');
    expect(amiEvents(s)).toEqual([{ imageId, state: 'available', at: created + 45 * MINUTE }]);
  });

  it('ends a planned image failed, with a failed AMI State Change and a reason', async () => {
    const s = setup();
    s.ec2.planImages([{ outcome: 'failed' }]);
    const imageId = await bake(s);
    await s.ctx.fakeClock.tickAsync(300 * SECOND);

    expect((await image(s, imageId))?.StateReason?.Code).toBe('Server.InternalError');
    expect(amiEvents(s).map((e) => e.state)).toEqual(['failed']);
  });

  it('applies a plan only to the images it names, and the first matching plan wins', async () => {
    const s = setup();
    s.ec2.planImages([
      { name: 'kiln-api-*', outcome: 'failed' },
      { operation: 'copy', outcome: 'failed' },
      { minutes: 10 },
    ]);
    const web = await bake(s, { name: 'kiln-web-1' });
    const api = await bake(s, { name: 'kiln-api-1' });
    await s.ctx.fakeClock.tickAsync(10 * MINUTE);

    expect((await image(s, web))?.State).toBe('available');
    expect((await image(s, api))?.State).toBe('failed');
  });

  it('plans a copy in its destination region: one region fails, the other succeeds', async () => {
    const regions = new Ec2Regions();
    const source = setup({ regions });
    const west = setup({ regions }, createTestContext(4, 'eu-west-1', source.ctx.fakeClock));
    const south = setup({ regions }, createTestContext(5, 'ap-south-1', source.ctx.fakeClock));
    west.ec2.planImages([{ operation: 'copy', outcome: 'failed', minutes: 2 }]);
    const imageId = await bake(source);
    await source.ctx.fakeClock.tickAsync(300 * SECOND);

    const copyTo = async (s: Setup) =>
      (
        (await s.ec2.handle('CopyImage', {
          SourceImageId: imageId,
          SourceRegion: 'us-east-1',
          Name: 'kiln-web-1.0.0',
        })) as {
          ImageId?: string;
        }
      ).ImageId ?? '';
    const westCopy = await copyTo(west);
    const southCopy = await copyTo(south);
    await source.ctx.fakeClock.tickAsync(2 * MINUTE);
    expect((await image(west, westCopy))?.State).toBe('failed');
    expect((await image(south, southCopy))?.State).toBe('pending');
    await source.ctx.fakeClock.tickAsync(600 * SECOND);
    expect((await image(south, southCopy))?.State).toBe('available');
  });

  it('restores the defaults with an empty plan list', async () => {
    const s = setup();
    s.ec2.planImages([{ outcome: 'failed' }]);
    s.ec2.planImages([]);
    const imageId = await bake(s);
    await s.ctx.fakeClock.tickAsync(300 * SECOND);
    expect((await image(s, imageId))?.State).toBe('available');
  });

  it('refuses a plan with negative minutes, naming it', () => {
    const s = setup();
    expect(() => s.ec2.planImages([{ minutes: 5 }, { minutes: -1 }])).toThrow('image plan 1: minutes');
  });
});
