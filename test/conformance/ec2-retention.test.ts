/**
 * The retention calls of the EC2 adapter against moto 5.2.1: describing this account's images by
 * id (an unknown id answers nothing, not an error) and deregistering with
 * DeleteAssociatedSnapshots (moto accepts the flag and ignores it). moto 5.2.1 implements neither
 * EnableImageDeprecation nor DisableImageDeprecation (and shows no DeprecationTime), so the
 * deprecation rules are held to AWS's pages by the sandbox's unit tests
 * (test/unit/sandbox/ec2-deprecation.test.ts); the last test here fails once moto gains them.
 */
import {
  CreateImageCommand,
  DescribeImagesCommand,
  EC2Client,
  EnableImageDeprecationCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { Ec2Bake } from '../../shared/aws/ec2';
import { motoClientConfig, resetMoto } from './moto';

async function ownImage(client: EC2Client): Promise<string> {
  const { Images = [] } = await client.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const base = Images.find((image) => image.State === 'available')?.ImageId;
  const run = await client.send(new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1 }));
  const instanceId = run.Instances?.[0]?.InstanceId;
  const created = await client.send(
    new CreateImageCommand({
      InstanceId: instanceId,
      Name: 'kiln-checkout-1.0.0-0123456789ab',
      TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'kiln:service', Value: 'checkout' }] }],
    }),
  );
  return created.ImageId ?? '';
}

describe('EC2 retention calls against moto', () => {
  let client: EC2Client;
  let adapter: Ec2Bake;
  beforeEach(async () => {
    await resetMoto();
    client = new EC2Client(motoClientConfig());
    adapter = new Ec2Bake(client);
  });

  it("describes this account's images among the ids, answering nothing for an unknown one", async () => {
    const imageId = await ownImage(client);
    const found = await adapter.describeOwnImages([imageId, 'ami-0123456789abcdef0']);
    expect(found.map((i) => [i.imageId, i.tags['kiln:service']])).toEqual([[imageId, 'checkout']]);
    expect(found[0]?.deprecationTime).toBeUndefined();
  });

  it('deregisters with DeleteAssociatedSnapshots, and a second time finds it already gone', async () => {
    const imageId = await ownImage(client);
    expect((await adapter.deregisterImageAndSnapshots(imageId)).change).toBe('done');
    expect(await adapter.describeOwnImages([imageId])).toEqual([]);
    expect((await adapter.deregisterImageAndSnapshots(imageId)).change).toBe('already-gone');
  });

  it('does not implement EnableImageDeprecation (moto 5.2.1): expect this to fail when it does', async () => {
    const imageId = await ownImage(client);
    await expect(
      client.send(
        new EnableImageDeprecationCommand({
          ImageId: imageId,
          DeprecateAt: new Date(Date.now() + 3_600_000),
        }),
      ),
    ).rejects.toThrow();
  });
});
