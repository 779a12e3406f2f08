/**
 * The SSM bake adapter against moto: its requests are ones Systems Manager's API accepts (moto
 * validates shapes) and it reads moto's answers. Where moto is faithful: GetParameter (a value, and
 * ParameterNotFound), SendCommand's answer and ListCommands filtered by InstanceId (what the
 * adapter's comment-based idempotency reads), and GetCommandInvocation's shape. Where it is not:
 * moto 5.2.1 runs no command, so every invocation reads Success at once (command outcomes over
 * time are tested against the sandbox, test/integration/sandbox), and it does not check that the
 * instance exists or runs an agent.
 */
import {
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SsmBake } from '../../shared/aws/ssm';
import { BaseImageNotFoundError } from '../../shared/domain/step-errors';
import { motoClientConfig, resetMoto } from './moto';

interface World {
  ssm: SSMClient;
  ec2: EC2Client;
  bake: SsmBake;
  instanceId: string;
}

async function world(): Promise<World> {
  const ec2 = new EC2Client(motoClientConfig());
  const ssm = new SSMClient(motoClientConfig());
  const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: Images[0]?.ImageId,
      SubnetId: Subnets[0]?.SubnetId,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.small',
    }),
  );
  const instanceId = run.Instances?.[0]?.InstanceId;
  if (instanceId === undefined) throw new Error('moto launched no instance');
  return { ssm, ec2, bake: new SsmBake(ssm), instanceId };
}

const install = (instanceId: string, comment: string) => ({
  instanceId,
  comment,
  documentName: 'AWS-RunShellScript',
  parameters: { commands: ['echo installing'] },
  deliveryTimeoutSeconds: 600,
});

describe('SsmBake against moto', () => {
  let w: World;
  beforeEach(async () => {
    await resetMoto();
    w = await world();
  });
  afterEach(() => {
    w.ssm.destroy();
    w.ec2.destroy();
  });

  describe('resolveImageParameter', () => {
    it('reads the AMI id a parameter holds', async () => {
      await w.ssm.send(
        new PutParameterCommand({
          Name: '/kiln/test/base-ami',
          Value: 'ami-0123456789abcdef0',
          Type: 'String',
        }),
      );
      await expect(w.bake.resolveImageParameter('/kiln/test/base-ami')).resolves.toBe(
        'ami-0123456789abcdef0',
      );
    });

    it('refuses a parameter that does not exist with BaseImageNotFoundError (ParameterNotFound)', async () => {
      await expect(w.bake.resolveImageParameter('/kiln/test/missing')).rejects.toBeInstanceOf(
        BaseImageNotFoundError,
      );
    });

    it('refuses a parameter whose value is not an AMI id', async () => {
      await w.ssm.send(
        new PutParameterCommand({ Name: '/kiln/test/not-ami', Value: 'hello', Type: 'String' }),
      );
      await expect(w.bake.resolveImageParameter('/kiln/test/not-ami')).rejects.toThrow(
        /does not name an AMI/,
      );
    });
  });

  describe('sendOnce', () => {
    it('sends a command and, asked again with the same comment, finds it instead of sending twice', async () => {
      const first = await w.bake.sendOnce(install(w.instanceId, 'kiln d-1 install'));
      const second = await w.bake.sendOnce(install(w.instanceId, 'kiln d-1 install'));

      expect(first.sent).toBe(true);
      expect(second).toEqual({ commandId: first.commandId, sent: false });
    });

    it('sends again for another comment (another purpose)', async () => {
      const install1 = await w.bake.sendOnce(install(w.instanceId, 'kiln d-1 install'));
      const smoke = await w.bake.sendOnce(install(w.instanceId, 'kiln d-1 smoke-check'));

      expect(smoke.sent).toBe(true);
      expect(smoke.commandId).not.toBe(install1.commandId);
    });
  });

  describe('commandResult', () => {
    it('reads the invocation’s status (moto reports Success at once)', async () => {
      const { commandId } = await w.bake.sendOnce(install(w.instanceId, 'kiln d-1 install'));
      await expect(w.bake.commandResult(commandId, w.instanceId)).resolves.toMatchObject({
        state: 'success',
        status: 'Success',
      });
    });
  });
});
