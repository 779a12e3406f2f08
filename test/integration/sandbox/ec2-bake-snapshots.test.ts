/**
 * The EC2 bake adapter against the sandbox's snapshot model: the image it makes has one snapshot
 * per builder volume, tagged like the image from CreateImage on (so clean-up may delete them while
 * the image is pending), `tagImage` puts the lineage on those snapshots, and `deleteImage` leaves
 * no snapshot behind, for an available image and for a failed one.
 */
import { DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { Ec2Bake } from '../../../shared/aws/ec2';
import { clientToken, imageName } from '../../../shared/domain/ids';
import { createEngine } from '../../../sandbox/core/engine';
import { Ec2Sim } from '../../../sandbox/services/ec2';
import { sleep } from '../../../sandbox/stories/fleet';

interface World {
  sim: Ec2Sim;
  ec2: EC2Client;
  bake: Ec2Bake;
  baseImageId: string;
  subnetId: string;
}

async function withWorld(test: (world: World) => Promise<void>): Promise<void> {
  const engine = await createEngine({ seed: 7, dynamodb: false });
  try {
    const sim = new Ec2Sim(engine.context);
    engine.register(sim);
    const baseImageId = sim.seedImage({ name: 'al2023-ami-x86_64', ownerAlias: 'amazon' });
    const subnetId = sim.subnets()[0]?.subnetId ?? '';
    await engine.run(async () => {
      const { ec2 } = engine.clientsFor('test:bake');
      await test({ sim, ec2, bake: new Ec2Bake(ec2), baseImageId, subnetId });
    });
  } finally {
    await engine.dispose();
  }
}

async function until(seconds: number, check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < seconds; waited += 5) {
    if (await check()) return;
    await sleep(5);
  }
  throw new Error(`not within ${seconds} virtual seconds`);
}

const artifact = { service: 'checkout', version: '1.4.2', digest: 'sha256:abc' };

/** A builder with a 16 GiB root volume, stopped and imaged; the image id once it has settled. */
async function bakedImage(world: World): Promise<string> {
  const { instanceId } = await world.bake.launchBuilder({
    imageId: world.baseImageId,
    instanceType: 't3.small',
    subnetId: world.subnetId,
    securityGroupIds: [],
    volumeSizeGiB: 16,
    tags: { 'kiln:deployment': 'd-1' },
    clientToken: clientToken(['d-1', 'launch-builder', 'us-east-1']),
  });
  await until(120, async () => (await world.bake.instanceState(instanceId)) === 'running');
  await world.bake.stopInstance(instanceId);
  await until(120, async () => (await world.bake.instanceState(instanceId)) === 'stopped');
  const { imageId } = await world.bake.createImage({ instanceId, name: imageName(artifact), tags: {} });
  await until(900, async () => (await world.bake.describeImage(imageId))?.state !== 'pending');
  return imageId;
}

async function ownSnapshots(world: World, tag?: [string, string]) {
  const { Snapshots = [] } = await world.ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ['self'],
      ...(tag ? { Filters: [{ Name: `tag:${tag[0]}`, Values: [tag[1]] }] } : {}),
    }),
  );
  return Snapshots;
}

describe('Ec2Bake and the sandbox’s snapshots', () => {
  it('finds the snapshot of the builder’s volume behind the image', async () => {
    await withWorld(async (world) => {
      const image = await world.bake.describeImage(await bakedImage(world));

      expect(image?.snapshotIds).toHaveLength(1);
      expect((await ownSnapshots(world)).map((s) => [s.SnapshotId, s.VolumeSize, s.State])).toEqual([
        [image?.snapshotIds[0], 16, 'completed'],
      ]);
    });
  });

  it('tags the image’s snapshots with the lineage', async () => {
    await withWorld(async (world) => {
      const image = await world.bake.describeImage(await bakedImage(world));
      if (!image) throw new Error('no image');

      await world.bake.tagImage(image, { 'kiln:digest': 'sha256:abc' });

      expect((await ownSnapshots(world, ['kiln:digest', 'sha256:abc'])).map((s) => s.SnapshotId)).toEqual(
        image.snapshotIds,
      );
    });
  });

  it('tags the snapshots with the image’s tags from CreateImage, while the image is still pending', async () => {
    await withWorld(async (world) => {
      world.sim.planImages([{ minutes: 30 }]);
      const { instanceId } = await world.bake.launchBuilder({
        imageId: world.baseImageId,
        instanceType: 't3.small',
        subnetId: world.subnetId,
        securityGroupIds: [],
        tags: { 'kiln:deployment': 'd-1' },
        clientToken: clientToken(['d-1', 'launch-builder', 'us-east-1']),
      });
      await until(120, async () => (await world.bake.instanceState(instanceId)) === 'running');

      const { imageId } = await world.bake.createImage({
        instanceId,
        name: imageName(artifact),
        tags: { 'kiln:role': 'image', 'kiln:digest': 'sha256:abc' },
      });

      const image = await world.bake.describeImage(imageId);
      expect(image?.state).toBe('pending');
      expect((await ownSnapshots(world)).map((s) => [s.SnapshotId, s.State, s.Tags])).toEqual([
        [
          image?.snapshotIds[0],
          'pending',
          [
            { Key: 'kiln:role', Value: 'image' },
            { Key: 'kiln:digest', Value: 'sha256:abc' },
          ],
        ],
      ]);
    });
  });

  it('deletes an image with its snapshots, twice without error', async () => {
    await withWorld(async (world) => {
      const imageId = await bakedImage(world);

      await world.bake.deleteImage(imageId);
      await world.bake.deleteImage(imageId);

      expect(await ownSnapshots(world)).toEqual([]);
    });
  });

  it('leaves no snapshot when a retry follows a crash right after DeregisterImage', async () => {
    await withWorld(async (world) => {
      const imageId = await bakedImage(world);
      // The invocation dies once DeregisterImage has taken effect (a Lambda timeout, a lost
      // answer): whatever the adapter meant to do next for this image never happens.
      let crashed = false;
      world.ec2.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeregisterImageCommand' && !crashed) {
            crashed = true;
            throw new Error('the invocation died after DeregisterImage');
          }
          return result;
        },
        { step: 'initialize', name: 'crashAfterDeregister' },
      );

      await expect(world.bake.deleteImage(imageId)).rejects.toThrow('died after DeregisterImage');
      await world.bake.deleteImage(imageId);

      expect(crashed).toBe(true);
      expect(await world.bake.describeImage(imageId)).toBeUndefined();
      expect(await ownSnapshots(world)).toEqual([]);
    });
  });

  it('deletes a failed image with its snapshots', async () => {
    await withWorld(async (world) => {
      world.sim.planImages([{ outcome: 'failed' }]);
      const imageId = await bakedImage(world);
      expect((await world.bake.describeImage(imageId))?.state).toBe('failed');

      await world.bake.deleteImage(imageId);

      expect(await world.bake.describeImage(imageId)).toBeUndefined();
      expect(await ownSnapshots(world)).toEqual([]);
    });
  });
});
