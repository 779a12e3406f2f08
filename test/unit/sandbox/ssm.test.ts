import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import type { SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { createTestContext } from '../../../sandbox/core/testing';
import type { TestSimContext } from '../../../sandbox/core/testing';
import type { EventBridgeEnvelope } from '../../../sandbox/core/context';
import { Ec2Sim } from '../../../sandbox/services/ec2';
import { SsmSim } from '../../../sandbox/services/ssm';
import type { SsmSimOptions } from '../../../sandbox/services/ssm';

const SECOND = 1000;
const AL2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const COMMAND_EVENT = 'EC2 Command Status-change Notification';
const INVOCATION_EVENT = 'EC2 Command Invocation Status-change Notification';

function sample(file: string): EventBridgeEnvelope {
  return JSON.parse(
    readFileSync(path.join(__dirname, '../../fixtures/events/ssm', file), 'utf8'),
  ) as EventBridgeEnvelope;
}

function keys(value: object): string[] {
  return Object.keys(value).sort();
}

interface Setup {
  ctx: TestSimContext;
  ec2: Ec2Sim;
  ssm: SsmSim;
  imageId: string;
}

// Boot 30 s; delivery 1 s; execution 5 s exactly.
function setup(options: SsmSimOptions = {}): Setup {
  const ctx = createTestContext(11);
  const ec2 = new Ec2Sim(ctx, {
    bootSeconds: 30,
    bootJitterSeconds: 0,
    stopSeconds: 10,
    shutdownSeconds: 10,
  });
  const imageId = ec2.seedImage({ name: 'al2023-ami-x86_64', ownerAlias: 'amazon', publicParameter: AL2023 });
  const ssm = new SsmSim(ctx, ec2, {
    deliverySeconds: 1,
    executionSeconds: 5,
    executionJitterSeconds: 0,
    ...options,
  });
  return { ctx, ec2, ssm, imageId };
}

async function launch(s: Setup, tags: Record<string, string> = {}, boot = true): Promise<string> {
  const output = await s.ec2.instances.runInstances({
    ImageId: s.imageId,
    MinCount: 1,
    MaxCount: 1,
    TagSpecifications: [
      { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    ],
  });
  const id = output.Instances?.[0]?.InstanceId ?? '';
  if (boot) await s.ctx.fakeClock.tickAsync(30 * SECOND);
  return id;
}

function send(s: Setup, input: Partial<SendCommandCommandInput>): string {
  const output = s.ssm.sendCommand({
    DocumentName: 'AWS-RunShellScript',
    Parameters: { commands: ['systemctl is-active app'] },
    ...input,
  });
  return output.Command?.CommandId ?? '';
}

async function errorOf(promise: Promise<unknown>): Promise<SSMServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SSMServiceException) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

function statuses(ctx: TestSimContext, detailType: string): string[] {
  return ctx.events.filter((e) => e['detail-type'] === detailType).map((e) => String(e.detail.status));
}

describe('SsmSim', () => {
  describe('SendCommand', () => {
    it('runs a command Pending → InProgress → Success on a running instance', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const commandId = send(s, { InstanceIds: [instanceId] });
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId }).Status).toBe(
        'Pending',
      );
      await s.ctx.fakeClock.tickAsync(1 * SECOND);
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId }).Status).toBe(
        'InProgress',
      );
      await s.ctx.fakeClock.tickAsync(5 * SECOND);
      const invocation = s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId });
      expect(invocation).toMatchObject({
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        PluginName: 'aws:runShellScript',
        ExecutionElapsedTime: 'PT5.000S',
      });
      expect(statuses(s.ctx, INVOCATION_EVENT)).toEqual(['Pending', 'InProgress', 'Success']);
      expect(statuses(s.ctx, COMMAND_EVENT)).toEqual(['Pending', 'InProgress', 'Success']);
    });

    it('emits command and invocation events in the documented sample shapes', async () => {
      const s = setup();
      const instanceId = await launch(s);
      send(s, { InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(6 * SECOND);
      const command = s.ctx.events.find((e) => e['detail-type'] === COMMAND_EVENT);
      const invocation = s.ctx.events.find((e) => e['detail-type'] === INVOCATION_EVENT);
      const commandSample = sample('command-status-change.json');
      const invocationSample = sample('command-invocation-status-change.json');
      expect(keys(command ?? {})).toEqual(keys(commandSample));
      expect(keys(command?.detail ?? {})).toEqual(keys(commandSample.detail));
      expect(keys(invocation ?? {})).toEqual(keys(invocationSample));
      expect(keys(invocation?.detail ?? {})).toEqual(keys(invocationSample.detail));
      expect(command?.source).toBe('aws.ssm');
      expect(command?.detail.parameters).toEqual({
        commands: ['systemctl is-active app'],
        executionTimeout: ['3600'],
      });
      expect(invocation?.resources).toEqual([`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`]);
    });

    it('fails the invocation on the ssm-command-failure fault', async () => {
      const s = setup();
      const instanceId = await launch(s);
      s.ctx.activeFaults.add(`ssm-command-failure:${instanceId}`);
      const commandId = send(s, { InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(6 * SECOND);
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId })).toMatchObject({
        Status: 'Failed',
        ResponseCode: 1,
      });
      expect(s.ssm.listCommands({ CommandId: commandId }).Commands?.[0]).toMatchObject({
        Status: 'Failed',
        ErrorCount: 1,
        CompletedCount: 1,
      });
    });

    it('fails a running invocation when its instance is terminated', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const commandId = send(s, { InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(2 * SECOND);
      await s.ec2.instances.terminateInstances({ InstanceIds: [instanceId] });
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId })).toMatchObject({
        Status: 'Failed',
        ResponseCode: -1,
      });
    });

    it('waits for a pending instance to run, then delivers', async () => {
      const s = setup();
      const instanceId = await launch(s, {}, false);
      const commandId = send(s, { InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(30 * SECOND);
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId }).Status).toBe(
        'Pending',
      );
      await s.ctx.fakeClock.tickAsync(6 * SECOND);
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId }).Status).toBe(
        'Success',
      );
    });

    it('times out delivery to a stopped instance after TimeoutSeconds', async () => {
      const s = setup();
      const instanceId = await launch(s);
      await s.ec2.instances.stopInstances({ InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(10 * SECOND);
      const commandId = send(s, { InstanceIds: [instanceId], TimeoutSeconds: 60 });
      await s.ctx.fakeClock.tickAsync(60 * SECOND);
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId })).toMatchObject({
        Status: 'TimedOut',
        StatusDetails: 'DeliveryTimedOut',
      });
      expect(s.ssm.listCommands({ CommandId: commandId }).Commands?.[0]).toMatchObject({
        Status: 'TimedOut',
        DeliveryTimedOutCount: 1,
      });
    });

    it('times out execution that outlasts the executionTimeout parameter', async () => {
      const s = setup({ executionSeconds: 120 });
      const instanceId = await launch(s);
      const commandId = send(s, {
        InstanceIds: [instanceId],
        Parameters: { commands: ['sleep 120'], executionTimeout: ['60'] },
      });
      await s.ctx.fakeClock.tickAsync(61 * SECOND);
      expect(s.ssm.getCommandInvocation({ CommandId: commandId, InstanceId: instanceId })).toMatchObject({
        Status: 'TimedOut',
        StatusDetails: 'ExecutionTimedOut',
      });
    });

    it('sends to every live instance matching a tag target', async () => {
      const s = setup();
      const web1 = await launch(s, { app: 'web' });
      const web2 = await launch(s, { app: 'web' });
      await launch(s, { app: 'api' });
      const commandId = send(s, { Targets: [{ Key: 'tag:app', Values: ['web'] }] });
      const invocations = s.ssm.listCommandInvocations({ CommandId: commandId }).CommandInvocations ?? [];
      expect(invocations.map((i) => i.InstanceId)).toEqual([web1, web2]);
      expect(s.ssm.listCommands({ CommandId: commandId }).Commands?.[0]?.TargetCount).toBe(2);
    });

    it('rejects an unknown or terminated instance with InvalidInstanceId', async () => {
      const s = setup();
      const instanceId = await launch(s);
      await s.ec2.instances.terminateInstances({ InstanceIds: [instanceId] });
      for (const id of [instanceId, 'i-0123456789abcdef0']) {
        const error = await errorOf(
          s.ssm.handle('SendCommand', {
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: [id],
            Parameters: { commands: ['true'] },
          }),
        );
        expect(error).toBeInstanceOf(SSMServiceException);
        expect(error.name).toBe('InvalidInstanceId');
      }
    });

    it('rejects an unknown document with InvalidDocument', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const error = await errorOf(
        s.ssm.handle('SendCommand', {
          DocumentName: 'My-Doc',
          InstanceIds: [instanceId],
          Parameters: { commands: ['x'] },
        }),
      );
      expect(error.name).toBe('InvalidDocument');
    });

    it('rejects a command without the commands parameter with InvalidParameters', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const error = await errorOf(
        s.ssm.handle('SendCommand', { DocumentName: 'AWS-RunShellScript', InstanceIds: [instanceId] }),
      );
      expect(error.name).toBe('InvalidParameters');
      expect(error.message).toContain('commands');
    });

    it('rejects a TimeoutSeconds below 30 with ValidationException', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const error = await errorOf(
        s.ssm.handle('SendCommand', {
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [instanceId],
          Parameters: { commands: ['x'] },
          TimeoutSeconds: 5,
        }),
      );
      expect(error.name).toBe('ValidationException');
      expect(error.message).toContain('timeoutSeconds');
    });
  });

  describe('GetCommandInvocation', () => {
    it('answers InvocationDoesNotExist for an unknown command or instance', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const commandId = send(s, { InstanceIds: [instanceId] });
      for (const input of [
        { CommandId: '00000000-0000-4000-a000-000000000000', InstanceId: instanceId },
        { CommandId: commandId, InstanceId: 'i-0123456789abcdef0' },
      ]) {
        const error = await errorOf(s.ssm.handle('GetCommandInvocation', input));
        expect(error.name).toBe('InvocationDoesNotExist');
      }
    });

    it('answers InvocationDoesNotExist until the invocation becomes visible', async () => {
      const s = setup({ invocationVisibleAfterMs: 500 });
      const instanceId = await launch(s);
      const commandId = send(s, { InstanceIds: [instanceId] });
      const input = { CommandId: commandId, InstanceId: instanceId };
      expect((await errorOf(s.ssm.handle('GetCommandInvocation', input))).name).toBe(
        'InvocationDoesNotExist',
      );
      await s.ctx.fakeClock.tickAsync(500);
      expect(s.ssm.getCommandInvocation(input).Status).toBe('Pending');
    });
  });

  describe('ListCommands and ListCommandInvocations', () => {
    it('rejects an unknown command id with InvalidCommandId', async () => {
      const s = setup();
      const error = await errorOf(
        s.ssm.handle('ListCommands', { CommandId: '00000000-0000-4000-a000-000000000000' }),
      );
      expect(error.name).toBe('InvalidCommandId');
    });

    it('filters commands by status', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const done = send(s, { InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(6 * SECOND);
      const waiting = send(s, { InstanceIds: [instanceId] });
      const ids = (status: string) =>
        (s.ssm.listCommands({ Filters: [{ key: 'Status', value: status }] }).Commands ?? []).map(
          (c) => c.CommandId,
        );
      expect(ids('Success')).toEqual([done]);
      expect(ids('Pending')).toEqual([waiting]);
    });

    it('includes the plugin details when Details is set', async () => {
      const s = setup();
      const instanceId = await launch(s);
      const commandId = send(s, { InstanceIds: [instanceId] });
      await s.ctx.fakeClock.tickAsync(6 * SECOND);
      const [invocation] =
        s.ssm.listCommandInvocations({ CommandId: commandId, Details: true }).CommandInvocations ?? [];
      expect(invocation?.CommandPlugins).toMatchObject([
        { Name: 'aws:runShellScript', Status: 'Success', ResponseCode: 0 },
      ]);
    });
  });

  describe('parameters', () => {
    it('stores a String parameter and versions each overwrite', () => {
      const s = setup();
      expect(s.ssm.putParameter({ Name: '/kiln/web/release', Value: '1.0.0', Type: 'String' })).toEqual({
        Version: 1,
        Tier: 'Standard',
      });
      expect(s.ssm.putParameter({ Name: '/kiln/web/release', Value: '1.1.0', Overwrite: true }).Version).toBe(
        2,
      );
      expect(s.ssm.getParameter({ Name: '/kiln/web/release' }).Parameter).toMatchObject({
        Name: '/kiln/web/release',
        Type: 'String',
        Value: '1.1.0',
        Version: 2,
        ARN: 'arn:aws:ssm:us-east-1:123456789012:parameter/kiln/web/release',
      });
      expect(s.ssm.getParameter({ Name: '/kiln/web/release:1' }).Parameter?.Value).toBe('1.0.0');
    });

    it('rejects overwriting without Overwrite with ParameterAlreadyExists', async () => {
      const s = setup();
      s.ssm.putParameter({ Name: 'p1', Value: 'a', Type: 'String' });
      const error = await errorOf(s.ssm.handle('PutParameter', { Name: 'p1', Value: 'b', Type: 'String' }));
      expect(error.name).toBe('ParameterAlreadyExists');
    });

    it('rejects a new parameter without a Type, and a reserved prefix, with ValidationException', async () => {
      const s = setup();
      expect((await errorOf(s.ssm.handle('PutParameter', { Name: 'p1', Value: 'a' }))).name).toBe(
        'ValidationException',
      );
      const reserved = await errorOf(
        s.ssm.handle('PutParameter', { Name: '/aws/x', Value: 'a', Type: 'String' }),
      );
      expect(reserved.name).toBe('ValidationException');
    });

    it('answers ParameterNotFound for a missing parameter', async () => {
      const s = setup();
      expect((await errorOf(s.ssm.handle('GetParameter', { Name: '/nope' }))).name).toBe('ParameterNotFound');
    });

    it('resolves the public Amazon Linux parameter to the seeded base image', () => {
      const s = setup();
      expect(s.ssm.getParameter({ Name: AL2023 }).Parameter).toMatchObject({
        Value: s.imageId,
        Type: 'String',
        DataType: 'text',
        ARN: `arn:aws:ssm:us-east-1::parameter${AL2023}`,
      });
    });

    describe('SecureString', () => {
      it('returns the value decrypted only WithDecryption, its ciphertext otherwise', () => {
        const s = setup();
        s.ssm.putParameter({
          Name: '/kiln/notifications/web',
          Value: 'https://hooks.example/T1',
          Type: 'SecureString',
        });
        expect(
          s.ssm.getParameter({ Name: '/kiln/notifications/web', WithDecryption: true }).Parameter,
        ).toMatchObject({ Type: 'SecureString', Value: 'https://hooks.example/T1' });
        const encrypted = s.ssm.getParameter({ Name: '/kiln/notifications/web' }).Parameter?.Value;
        expect(encrypted).not.toContain('hooks.example');
        expect(
          s.ssm.getParameters({ Names: ['/kiln/notifications/web'], WithDecryption: true }).Parameters?.[0]
            ?.Value,
        ).toBe('https://hooks.example/T1');
      });

      it('ignores WithDecryption for a String parameter', () => {
        const s = setup();
        s.ssm.putParameter({ Name: 'p1', Value: 'a', Type: 'String' });
        expect(s.ssm.getParameter({ Name: 'p1', WithDecryption: true }).Parameter?.Value).toBe('a');
      });

      it('refuses a KeyId on a String parameter', async () => {
        const s = setup();
        const error = await errorOf(
          s.ssm.handle('PutParameter', { Name: 'p1', Value: 'a', Type: 'String', KeyId: 'alias/mine' }),
        );
        expect(error.name).toBe('UnsupportedParameterType');
      });
    });

    it('returns found and invalid names separately from GetParameters', () => {
      const s = setup();
      s.ssm.putParameter({ Name: 'p1', Value: 'a', Type: 'String' });
      const output = s.ssm.getParameters({ Names: ['p1', 'missing', AL2023] });
      expect(output.Parameters?.map((p) => p.Value)).toEqual(['a', s.imageId]);
      expect(output.InvalidParameters).toEqual(['missing']);
    });
  });
});
