/**
 * The EC2 bake adapter against moto: its requests are ones EC2's API accepts (moto validates
 * shapes and parameters) and it reads moto's AWS-shaped answers correctly, including the error
 * codes it turns into "already done" or into Kiln's step errors. Behaviour over time (instances
 * booting, images becoming available) is tested against the sandbox
 * (test/integration/sandbox/ec2-bake.test.ts): moto makes images available at once.
 */
import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { Ec2Bake } from '../../shared/aws/ec2';
import { clientToken, imageName } from '../../shared/domain/ids';
import {
  AwsRequestRefusedError,
  BaseImageNotFoundError,
  TransientAwsError,
} from '../../shared/domain/step-errors';
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
const imageTags = { 'kiln:role': 'image', 'kiln:release': '1.4.2' };

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

  /**
   * The adapter's CreateImage tags the image and its snapshots from creation (TagSpecifications of
   * type `image` and `snapshot`, API_CreateImage.html); moto 5.2.1 raises NotImplementedError for a
   * `snapshot` TagSpecification (moto/ec2/models/amis.py, create_image) and answers HTTP 500 with an
   * HTML page. So the adapter's CreateImage cannot run here: this case pins the crash (and fails
   * once moto accepts the request, when the next case should image through the adapter again), and
   * the next one makes the image with the SDK, as the adapter would but with the image's tags only,
   * to run the rest of the adapter's image calls against moto. The adapter's CreateImage itself
   * runs against the sandbox (test/integration/sandbox/ec2-bake-snapshots.test.ts).
   */
  describe('imaging the builder', () => {
    it('cannot tag snapshots at CreateImage on moto 5.2.1: moto fails the request with a 500', async () => {
      const { instanceId } = await w.bake.launchBuilder(builder(w));
      await w.bake.stopInstance(instanceId);

      const attempt = w.bake.createImage({ instanceId, name: imageName(artifact), tags: imageTags });

      await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
      await expect(attempt).rejects.toMatchObject({ cause: { $metadata: { httpStatusCode: 500 } } });
      expect(await w.bake.findImageByName(imageName(artifact))).toBeUndefined();
    });

    it('reaches moto with the adapter’s CreateImage request: an unknown builder is refused by name', async () => {
      // moto looks the instance up before it reads the TagSpecifications.
      const attempt = w.bake.createImage({
        instanceId: 'i-0000000000000dead',
        name: imageName(artifact),
        tags: imageTags,
      });

      await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
      await expect(attempt).rejects.toMatchObject({ code: 'InvalidInstanceID.NotFound' });
    });

    it('finds the image by name, describes it with its snapshots, and tags image and snapshots', async () => {
      const { instanceId } = await w.bake.launchBuilder(builder(w));
      await w.bake.stopInstance(instanceId);
      await w.bake.stopInstance(instanceId);
      // CreateImage as the adapter sends it, less the `snapshot` TagSpecification moto cannot take.
      const createImage = new CreateImageCommand({
        InstanceId: instanceId,
        Name: imageName(artifact),
        TagSpecifications: [
          { ResourceType: 'image', Tags: Object.entries(imageTags).map(([Key, Value]) => ({ Key, Value })) },
        ],
      });
      const { ImageId: imageId = '' } = await w.client.send(createImage);
      // moto 5.2.1 makes a second image of a name in use; AWS refuses it InvalidAMIName.Duplicate
      // (API_CreateImage.html), which the adapter answers with the first image (tested against the
      // sandbox). If moto closes the gap, this fails: expect InvalidAMIName.Duplicate.
      const { ImageId: secondId } = await w.client.send(createImage);
      expect(secondId).not.toBe(imageId);

      const image = await w.bake.describeImage(imageId);
      if (!image) throw new Error(`moto does not describe ${imageId}`);
      await w.bake.tagImage(image, { 'kiln:digest': 'sha256:abc' });

      expect(await w.bake.findImageByName(imageName(artifact))).toMatchObject({ name: imageName(artifact) });
      expect(image).toMatchObject({ name: imageName(artifact), state: 'available', tags: imageTags });
      expect(image.snapshotIds.length).toBeGreaterThan(0);
      expect((await w.bake.describeImage(imageId))?.tags).toMatchObject({
        ...imageTags,
        'kiln:digest': 'sha256:abc',
      });
      const { Snapshots = [] } = await w.client.send(
        new DescribeSnapshotsCommand({ SnapshotIds: image.snapshotIds }),
      );
      expect(Snapshots.map((snapshot) => snapshot.Tags)).toEqual(
        image.snapshotIds.map(() => [{ Key: 'kiln:digest', Value: 'sha256:abc' }]),
      );
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
    const { Snapshots = [] } = await w.client.send(
      new DescribeSnapshotsCommand({ SnapshotIds: copied?.snapshotIds ?? [] }),
    );
    // moto 5.2.1 accepts CopyImage's TagSpecifications (image and snapshot) and drops them; AWS
    // applies them to the new image and its new snapshots (API_CopyImage.html), as the sandbox
    // does. If moto closes the gap, this fails: expect the tags on both.
    expect(copied).toMatchObject({ name: imageName(artifact), tags: {} });
    expect(Snapshots).not.toHaveLength(0);
    expect(Snapshots.map((snapshot) => snapshot.Tags ?? [])).toEqual(Snapshots.map(() => []));

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
