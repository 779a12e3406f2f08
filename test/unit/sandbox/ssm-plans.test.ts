import type { SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { createTestContext, type TestSimContext } from '../../../sandbox/core/testing';
import { Ec2Sim } from '../../../sandbox/services/ec2';
import { SsmSim } from '../../../sandbox/services/ssm';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const COMMAND_EVENT = 'EC2 Command Status-change Notification';

interface Setup {
  ctx: TestSimContext;
  ec2: Ec2Sim;
  ssm: SsmSim;
  imageId: string;
}

// Boot 30 s; delivery 1 s; execution 5 s exactly unless a plan says otherwise.
function setup(): Setup {
  const ctx = createTestContext(12);
  const ec2 = new Ec2Sim(ctx, { bootSeconds: 30, bootJitterSeconds: 0 });
  const imageId = ec2.seedImage({ name: 'al2023-ami-x86_64', ownerAlias: 'amazon' });
  const ssm = new SsmSim(ctx, ec2, { deliverySeconds: 1, executionSeconds: 5, executionJitterSeconds: 0 });
  return { ctx, ec2, ssm, imageId };
}

async function launch(s: Setup, tags: Record<string, string> = {}): Promise<string> {
  const output = await s.ec2.instances.runInstances({
    ImageId: s.imageId,
    MinCount: 1,
    MaxCount: 1,
    TagSpecifications: [
      { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    ],
  });
  await s.ctx.fakeClock.tickAsync(30 * SECOND);
  return output.Instances?.[0]?.InstanceId ?? '';
}

function send(s: Setup, instanceId: string, input: Partial<SendCommandCommandInput> = {}): string {
  const output = s.ssm.sendCommand({
    DocumentName: 'AWS-RunShellScript',
    Parameters: { commands: ['/opt/kiln/install.sh'] },
    InstanceIds: [instanceId],
    ...input,
  });
  return output.Command?.CommandId ?? '';
}

const statusOf = (s: Setup, commandId: string, instanceId: string) =>
  s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId }).Status;

describe('SsmSim command plans', () => {
  it('fails a command on the instances a plan names by tag, with exit code 1, and a Failed event', async () => {
    const s = setup();
    s.ssm.planCommands([{ instanceTags: { 'kiln:deployment': 'd-1' }, outcome: 'Failed' }]);
    const builder = await launch(s, { 'kiln:deployment': 'd-1' });
    const other = await launch(s, { 'kiln:deployment': 'd-2' });
    const failed = send(s, builder);
    const fine = send(s, other);
    await s.ctx.fakeClock.tickAsync(6 * SECOND);

    expect(s.ssm.getCommandInvocation({ CommandId: failed, InstanceId: builder })).toMatchObject({
      Status: 'Failed',
      ResponseCode: 1,
    });
    expect(statusOf(s, fine, other)).toBe('Success');
    const events = s.ctx.events.filter(
      (e) => e['detail-type'] === COMMAND_EVENT && e.detail['command-id'] === failed,
    );
    expect(events.map((e) => e.detail.status)).toEqual(['Pending', 'InProgress', 'Failed']);
  });

  it('runs a planned command for its minutes of virtual time', async () => {
    const s = setup();
    s.ssm.planCommands([{ commandContains: 'install.sh', minutes: 20 }]);
    const instanceId = await launch(s);
    const commandId = send(s, instanceId);

    await s.ctx.fakeClock.tickAsync(20 * MINUTE);
    expect(statusOf(s, commandId, instanceId)).toBe('InProgress');
    await s.ctx.fakeClock.tickAsync(1 * SECOND);
    expect(statusOf(s, commandId, instanceId)).toBe('Success');
  });

  it('ends a command that runs past its execution timeout TimedOut', async () => {
    const s = setup();
    s.ssm.planCommands([{ minutes: 90 }]);
    const instanceId = await launch(s);
    const commandId = send(s, instanceId, {
      Parameters: { commands: ['sleep'], executionTimeout: ['3600'] },
    });

    await s.ctx.fakeClock.tickAsync(61 * MINUTE);

    expect(statusOf(s, commandId, instanceId)).toBe('TimedOut');
  });

  it('applies a plan only to the document and commands it names', async () => {
    const s = setup();
    s.ssm.planCommands([{ documentName: 'AWS-RunPowerShellScript', outcome: 'Failed' }]);
    const instanceId = await launch(s);
    const commandId = send(s, instanceId);
    await s.ctx.fakeClock.tickAsync(6 * SECOND);
    expect(statusOf(s, commandId, instanceId)).toBe('Success');
  });

  it('refuses a plan with negative minutes, naming it', () => {
    const s = setup();
    expect(() => s.ssm.planCommands([{ minutes: -2 }])).toThrow('command plan 0: minutes');
  });
});
