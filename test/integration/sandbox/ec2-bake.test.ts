/**
 * The EC2 bake adapter against the sandbox's EC2 (through the real EC2Client, on the virtual
 * clock): the behaviour a bake relies on — one builder per client token, IMDSv2 required, one
 * image per name, one copy per token, and clean-up that treats "already gone" as done.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Ec2Bake } from '../../../shared/aws/ec2';
import { clientToken, imageName } from '../../../shared/domain/ids';
import {
  AwsRequestRefusedError,
  BaseImageNotFoundError,
  InstanceNotReadyError,
} from '../../../shared/domain/step-errors';
import { createEngine, type SandboxEngine } from '../../../sandbox/core/engine';
import { Ec2Sim } from '../../../sandbox/services/ec2';
import { sleep } from '../../../sandbox/stories/fleet';

interface World {
  engine: SandboxEngine;
  sim: Ec2Sim;
  bake: Ec2Bake;
  baseImageId: string;
  subnetId: string;
}

/** A fresh region with EC2 only, one base image and the adapter on a real client. */
async function withWorld(test: (world: World) => Promise<void>): Promise<void> {
  const engine = await createEngine({ seed: 7, dynamodb: false });
  try {
    const sim = new Ec2Sim(engine.context);
    engine.register(sim);
    const baseImageId = sim.seedImage({ name: 'al2023-ami-x86_64', ownerAlias: 'amazon' });
    const subnetId = sim.subnets()[0]?.subnetId ?? '';
    await engine.run(async () => {
      const { ec2 } = engine.clientsFor('test:bake');
      await test({ engine, sim, bake: new Ec2Bake(ec2), baseImageId, subnetId });
    });
  } finally {
    await engine.dispose();
  }
}

const artifact = { service: 'checkout', version: '1.4.2', digest: 'sha256:abc' };

function builder(world: World, token = clientToken(['d-1', 'launch-builder', 'us-east-1'])) {
  return {
    imageId: world.baseImageId,
    instanceType: 't3.small',
    subnetId: world.subnetId,
    securityGroupIds: ['sg-0123456789abcdef0'],
    tags: { 'kiln:deployment-id': 'd-1', 'kiln:service': 'checkout' },
    clientToken: token,
  };
}

/** Waits (virtual time) until `check` holds, at most `seconds`. */
async function until(seconds: number, check: () => Promise<boolean>): Promise<void> {
  for (let waited = 0; waited < seconds; waited += 5) {
    if (await check()) return;
    await sleep(5);
  }
  throw new Error(`not within ${seconds} virtual seconds`);
}

/** A builder launched, running, stopped: ready to image. */
async function stoppedBuilder(world: World): Promise<string> {
  const { instanceId } = await world.bake.launchBuilder(builder(world));
  await until(120, async () => (await world.bake.instanceState(instanceId)) === 'running');
  await world.bake.stopInstance(instanceId);
  await until(120, async () => (await world.bake.instanceState(instanceId)) === 'stopped');
  return instanceId;
}

describe('Ec2Bake against the sandbox', () => {
  describe('launchBuilder', () => {
    it('launches one builder per client token, tagged from creation', async () => {
      await withWorld(async (world) => {
        const first = await world.bake.launchBuilder(builder(world));
        const again = await world.bake.launchBuilder(builder(world));

        expect(again.instanceId).toBe(first.instanceId);
        expect(world.sim.listInstances()).toHaveLength(1);
        expect(world.sim.get(first.instanceId)?.tags).toMatchObject({ 'kiln:deployment-id': 'd-1' });
      });
    });

    it('launches another builder for another token', async () => {
      await withWorld(async (world) => {
        const first = await world.bake.launchBuilder(builder(world));
        const second = await world.bake.launchBuilder(builder(world, clientToken(['d-2', 'launch-builder'])));

        expect(second.instanceId).not.toBe(first.instanceId);
      });
    });

    it('requires IMDSv2 on the builder', async () => {
      await withWorld(async (world) => {
        const { instanceId } = await world.bake.launchBuilder(builder(world));

        const { ec2 } = world.engine.clientsFor('test:check');
        const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
        expect(described.Reservations?.[0]?.Instances?.[0]?.MetadataOptions).toMatchObject({
          HttpTokens: 'required',
        });
      });
    });

    it('refuses a subnet EC2 does not know with AwsRequestRefusedError naming the code', async () => {
      await withWorld(async (world) => {
        const attempt = world.bake.launchBuilder({ ...builder(world), subnetId: 'subnet-0000000000000dead' });

        await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
        await expect(attempt).rejects.toMatchObject({ code: 'InvalidSubnetID.NotFound' });
      });
    });
  });

  describe('stopInstance', () => {
    it('says a pending builder is not ready to stop', async () => {
      await withWorld(async (world) => {
        const { instanceId } = await world.bake.launchBuilder(builder(world));

        await expect(world.bake.stopInstance(instanceId)).rejects.toBeInstanceOf(InstanceNotReadyError);
      });
    });

    it('treats stopping a stopped builder as done', async () => {
      await withWorld(async (world) => {
        const instanceId = await stoppedBuilder(world);

        await expect(world.bake.stopInstance(instanceId)).resolves.toBeUndefined();
        expect(await world.bake.instanceState(instanceId)).toBe('stopped');
      });
    });
  });

  describe('createImage', () => {
    it('makes one image per name: a second call answers with the first image', async () => {
      await withWorld(async (world) => {
        const instanceId = await stoppedBuilder(world);
        const request = { instanceId, name: imageName(artifact), tags: { 'kiln:release': '1.4.2' } };

        const first = await world.bake.createImage(request);
        const second = await world.bake.createImage(request);

        expect(first.created).toBe(true);
        expect(second).toEqual({ imageId: first.imageId, created: false });
        expect(await world.bake.describeImage(first.imageId)).toMatchObject({
          name: imageName(artifact),
          state: 'pending',
          tags: { 'kiln:release': '1.4.2' },
        });
      });
    });

    it('reports the image available once EC2 has made it', async () => {
      await withWorld(async (world) => {
        const instanceId = await stoppedBuilder(world);
        const { imageId } = await world.bake.createImage({ instanceId, name: imageName(artifact), tags: {} });

        await until(900, async () => (await world.bake.describeImage(imageId))?.state === 'available');
      });
    });
  });

  describe('requireBaseImage', () => {
    it('answers with an available base image', async () => {
      await withWorld(async (world) => {
        expect(await world.bake.requireBaseImage(world.baseImageId)).toMatchObject({ state: 'available' });
      });
    });

    it.each(['ami-0000000000000dead', 'not-an-ami'])(
      'refuses %s with BaseImageNotFoundError',
      async (imageId) => {
        await withWorld(async (world) => {
          await expect(world.bake.requireBaseImage(imageId)).rejects.toBeInstanceOf(BaseImageNotFoundError);
        });
      },
    );
  });

  describe('tagImage', () => {
    it('adds tags to the image and keeps those it had', async () => {
      await withWorld(async (world) => {
        const instanceId = await stoppedBuilder(world);
        const { imageId } = await world.bake.createImage({
          instanceId,
          name: imageName(artifact),
          tags: { a: '1' },
        });
        const image = await world.bake.describeImage(imageId);

        await world.bake.tagImage(image ?? { imageId, snapshotIds: [] }, { 'kiln:digest': 'sha256:abc' });

        expect((await world.bake.describeImage(imageId))?.tags).toEqual({
          a: '1',
          'kiln:digest': 'sha256:abc',
        });
      });
    });
  });

  describe('copyImage', () => {
    it('makes one copy per client token', async () => {
      await withWorld(async (world) => {
        const copy = {
          sourceImageId: world.baseImageId,
          sourceRegion: 'us-east-1',
          name: imageName(artifact),
          clientToken: clientToken(['d-1', 'copy-image', 'us-east-1']),
          tags: { 'kiln:release': '1.4.2' },
        };

        const first = await world.bake.copyImage(copy);
        const second = await world.bake.copyImage(copy);

        expect(second.imageId).toBe(first.imageId);
        expect(await world.bake.describeImage(first.imageId)).toMatchObject({
          tags: { 'kiln:release': '1.4.2' },
        });
      });
    });
  });

  describe('clean-up', () => {
    it('deletes an image, and deleting it again is done', async () => {
      await withWorld(async (world) => {
        const instanceId = await stoppedBuilder(world);
        const { imageId } = await world.bake.createImage({ instanceId, name: imageName(artifact), tags: {} });
        await until(900, async () => (await world.bake.describeImage(imageId))?.state === 'available');

        await world.bake.deleteImage(imageId);
        await world.bake.deleteImage(imageId);

        expect(await world.bake.describeImage(imageId)).toBeUndefined();
      });
    });

    it('terminates the builder, and terminating it again (or one EC2 never knew) is done', async () => {
      await withWorld(async (world) => {
        const { instanceId } = await world.bake.launchBuilder(builder(world));

        await world.bake.terminateInstance(instanceId);
        await world.bake.terminateInstance(instanceId);
        await world.bake.terminateInstance('i-0000000000000dead');

        await until(120, async () => (await world.bake.instanceState(instanceId)) === 'terminated');
      });
    });
  });
});
