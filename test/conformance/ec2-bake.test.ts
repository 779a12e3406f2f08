/**
 * The EC2 bake adapter against moto: its requests are ones EC2's API accepts (moto validates
 * shapes and parameters) and it reads moto's AWS-shaped answers correctly, including the error
 * codes it turns into "already done" or into Kiln's step errors. Behaviour over time (instances
 * booting, images becoming available) is tested against the sandbox
 * (test/integration/sandbox/ec2-bake.test.ts): moto makes images available at once.
 */
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { Ec2Bake } from '../../shared/aws/ec2';
import { clientToken, imageName } from '../../shared/domain/ids';
import { AwsRequestRefusedError, BaseImageNotFoundError } from '../../shared/domain/step-errors';
import { motoClientConfig, resetMoto } from './moto';

interface World {
  client: EC2Client;
  bake: Ec2Bake;
  baseImageId: string;
  subnetId: string;
}

async function world(): Promise<World> {
  const client = new EC2Client(motoClientConfig());
  const { Subnets = [] } = await client.send(new DescribeSubnetsCommand({}));
  const { Images = [] } = await client.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const subnetId = Subnets[0]?.SubnetId;
  const baseImageId = Images.find((image) => image.State === 'available')?.ImageId;
  if (subnetId === undefined || baseImageId === undefined)
    throw new Error('moto has no default subnet or AMI');
  return { client, bake: new Ec2Bake(client), baseImageId, subnetId };
}

const artifact = { service: 'checkout', version: '1.4.2', digest: 'sha256:abc' };
const tags = { 'kiln:deployment-id': 'd-1', 'kiln:service': 'checkout' };

function builder(w: World) {
  return {
    imageId: w.baseImageId,
    instanceType: 't3.small',
    subnetId: w.subnetId,
    securityGroupIds: [],
    volumeSizeGiB: 16,
    tags,
    clientToken: clientToken(['d-1', 'launch-builder', 'us-east-1']),
  };
}

describe('Ec2Bake against moto', () => {
  let w: World;
  beforeEach(async () => {
    await resetMoto();
    w = await world();
  });
  afterEach(() => {
    w.client.destroy();
  });

  it('launches a builder with IMDSv2 required and its tags (moto ignores the client token)', async () => {
    const first = await w.bake.launchBuilder(builder(w));
    const again = await w.bake.launchBuilder(builder(w));

    // moto 5.2.1 launches a second instance for a repeated ClientToken; AWS answers with the first
    // (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html), as the sandbox
    // does (test/integration/sandbox/ec2-bake.test.ts). If moto closes the gap, this fails: flip it.
    expect(again.instanceId).not.toBe(first.instanceId);
    const { Reservations = [] } = await w.client.send(
      new DescribeInstancesCommand({ InstanceIds: [first.instanceId] }),
    );
    const instance = Reservations[0]?.Instances?.[0];
    expect(instance?.MetadataOptions?.HttpTokens).toBe('required');
    expect(instance?.Tags).toEqual(expect.arrayContaining([{ Key: 'kiln:deployment-id', Value: 'd-1' }]));
  });

  it('stops the builder, images it once per name, and tags image and snapshots', async () => {
    const { instanceId } = await w.bake.launchBuilder(builder(w));
    await w.bake.stopInstance(instanceId);
    await w.bake.stopInstance(instanceId);
    const request = { instanceId, name: imageName(artifact), tags: { 'kiln:release': '1.4.2' } };

    const first = await w.bake.createImage(request);
    const second = await w.bake.createImage(request);
    const image = await w.bake.describeImage(first.imageId);
    await w.bake.tagImage(image ?? { imageId: first.imageId, snapshotIds: [] }, {
      'kiln:digest': 'sha256:abc',
    });

    expect(first.created).toBe(true);
    // moto 5.2.1 makes a second image of the same name; AWS refuses it InvalidAMIName.Duplicate
    // (API_CreateImage.html) and the adapter answers with the first, as against the sandbox. If
    // moto closes the gap, this fails: expect { imageId: first.imageId, created: false }.
    expect(second.created).toBe(true);
    expect(await w.bake.findImageByName(imageName(artifact))).toMatchObject({ name: imageName(artifact) });
    expect(image).toMatchObject({ name: imageName(artifact), state: 'available' });
    expect(image?.snapshotIds.length).toBeGreaterThan(0);
    expect((await w.bake.describeImage(first.imageId))?.tags).toMatchObject({
      'kiln:release': '1.4.2',
      'kiln:digest': 'sha256:abc',
    });
  });

  it('copies an image with a client token and deletes image and snapshots, twice without error', async () => {
    const copy = await w.bake.copyImage({
      sourceImageId: w.baseImageId,
      sourceRegion: 'us-east-1',
      name: imageName(artifact),
      clientToken: clientToken(['d-1', 'copy-image', 'us-east-1']),
      tags,
    });
    const copied = await w.bake.describeImage(copy.imageId);
    // moto 5.2.1 drops CopyImage's TagSpecifications; AWS applies them (API_CopyImage.html), as the
    // sandbox does. If moto closes the gap, this fails: expect the tags.
    expect(copied).toMatchObject({ name: imageName(artifact), tags: {} });

    await w.bake.deleteImage(copy.imageId);
    await w.bake.deleteImage(copy.imageId);

    expect(await w.bake.describeImage(copy.imageId)).toBeUndefined();
  });

  it('terminates the builder, and one never known, without error', async () => {
    const { instanceId } = await w.bake.launchBuilder(builder(w));

    await w.bake.terminateInstance(instanceId);
    await w.bake.terminateInstance(instanceId);
    await w.bake.terminateInstance('i-0000000000000dead');

    expect(await w.bake.instanceState(instanceId)).toBe('terminated');
  });

  it('maps a missing base image and a missing subnet to Kiln errors', async () => {
    await expect(w.bake.requireBaseImage('ami-0000000000000dead')).rejects.toBeInstanceOf(
      BaseImageNotFoundError,
    );
    const attempt = w.bake.launchBuilder({ ...builder(w), subnetId: 'subnet-0000000000000dead' });
    await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
    await expect(attempt).rejects.toMatchObject({ code: 'InvalidSubnetID.NotFound' });
  });
});
