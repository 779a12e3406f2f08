import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type { RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { createTestContext } from '../../../sandbox/core/testing';
import type { TestSimContext } from '../../../sandbox/core/testing';
import type { EventBridgeEnvelope } from '../../../sandbox/core/context';
import { DEFAULT_APP_BEHAVIOUR, Ec2Regions, Ec2Sim } from '../../../sandbox/services/ec2';
import type { Ec2SimOptions } from '../../../sandbox/services/ec2';
import type { InstanceState } from '../../../sandbox/services/fleet';

const SECOND = 1000;
const AL2023 = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

function sample(file: string): EventBridgeEnvelope {
  const text = readFileSync(path.join(__dirname, '../../fixtures/events/ec2', file), 'utf8');
  return JSON.parse(text) as EventBridgeEnvelope;
}

function keys(value: object): string[] {
  return Object.keys(value).sort();
}

interface Setup {
  ctx: TestSimContext;
  ec2: Ec2Sim;
  baseImageId: string;
}

function setup(options: Ec2SimOptions = {}, seed = 7): Setup {
  const ctx = createTestContext(seed);
  const ec2 = new Ec2Sim(ctx, { bootSeconds: 30, bootJitterSeconds: 0, ...options });
  const baseImageId = ec2.seedImage({
    name: 'al2023-ami-2023.6.20250115.0-kernel-6.1-x86_64',
    ownerAlias: 'amazon',
    publicParameter: AL2023,
  });
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

async function run(s: Setup, input: Partial<RunInstancesCommandInput> = {}): Promise<string[]> {
  const output = (await s.ec2.handle('RunInstances', {
    ImageId: s.baseImageId,
    MinCount: 1,
    MaxCount: 1,
    ...input,
  })) as { Instances?: Array<{ InstanceId?: string }> };
  return (output.Instances ?? []).map((instance) => instance.InstanceId ?? '');
}

async function runOne(s: Setup, input: Partial<RunInstancesCommandInput> = {}): Promise<string> {
  const [id] = await run(s, input);
  if (id === undefined) throw new Error('no instance launched');
  return id;
}

async function describeStates(s: Setup, ids: string[]): Promise<string[]> {
  const output = await s.ec2.instances.describeInstances({ InstanceIds: ids });
  return (output.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.State?.Name ?? ''));
}

function instanceEvents(ctx: TestSimContext, id: string): string[] {
  return ctx.events
    .filter(
      (e) => e['detail-type'] === 'EC2 Instance State-change Notification' && e.detail['instance-id'] === id,
    )
    .map((e) => String(e.detail.state));
}

async function createImage(
  s: Setup,
  name = 'kiln-web-1.0.0',
  tags: Record<string, string> = {},
): Promise<string> {
  const instanceId = await runOne(s);
  await s.ctx.fakeClock.tickAsync(30 * SECOND);
  const output = await s.ec2.images.createImage({
    InstanceId: instanceId,
    Name: name,
    TagSpecifications: [
      { ResourceType: 'image', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
    ],
  });
  return output.ImageId ?? '';
}

describe('Ec2Sim', () => {
  describe('handle', () => {
    it('rejects a DryRun request with DryRunOperation', async () => {
      const s = setup();
      const error = await errorOf(s.ec2.handle('DescribeInstances', { DryRun: true }));
      expect(error.name).toBe('DryRunOperation');
    });

    it('rejects an operation it does not simulate with InvalidAction', async () => {
      const s = setup();
      const error = await errorOf(s.ec2.handle('AttachVolume', {}));
      expect(error.name).toBe('InvalidAction');
      expect(error.$fault).toBe('client');
      expect(error.$metadata.httpStatusCode).toBe(400);
    });
  });

  describe('RunInstances', () => {
    it('shows the metadata options a launch asked for (IMDSv2 required), and none when it asked none', async () => {
      const s = setup();
      const [strict] = await run(s, { MetadataOptions: { HttpTokens: 'required' } });
      const [plain] = await run(s);

      const described = await s.ec2.instances.describeInstances({ InstanceIds: [strict ?? '', plain ?? ''] });
      const instances = described.Reservations?.flatMap((r) => r.Instances ?? []) ?? [];

      expect(instances.find((i) => i.InstanceId === strict)?.MetadataOptions).toEqual({
        State: 'applied',
        HttpTokens: 'required',
        HttpEndpoint: 'enabled',
      });
      expect(instances.find((i) => i.InstanceId === plain)?.MetadataOptions).toBeUndefined();
    });

    it('launches MaxCount pending instances in one reservation', async () => {
      const s = setup();
      const output = await s.ec2.instances.runInstances({ ImageId: s.baseImageId, MinCount: 1, MaxCount: 3 });
      expect(output.OwnerId).toBe('123456789012');
      expect(output.Instances).toHaveLength(3);
      expect(output.Instances?.map((i) => i.State)).toEqual(Array(3).fill({ Code: 0, Name: 'pending' }));
      expect(output.Instances?.map((i) => i.AmiLaunchIndex)).toEqual([0, 1, 2]);
      expect(output.Instances?.[0]?.InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
    });

    it('moves an instance to running after its boot time and emits both state events', async () => {
      const s = setup();
      const id = await runOne(s);
      await s.ctx.fakeClock.tickAsync(29 * SECOND);
      expect(await describeStates(s, [id])).toEqual(['pending']);
      await s.ctx.fakeClock.tickAsync(1 * SECOND);
      expect(await describeStates(s, [id])).toEqual(['running']);
      expect(instanceEvents(s.ctx, id)).toEqual(['pending', 'running']);
      expect(s.ctx.entries.filter((e) => e.kind === 'state' && e.resource === id)).toMatchObject([
        { from: null, to: 'pending', t: 0 },
        { from: 'pending', to: 'running', t: 30 },
      ]);
    });

    it('draws the boot jitter from the seed', async () => {
      const bootTimes: number[] = [];
      for (const seed of [3, 3]) {
        const s = setup({ bootJitterSeconds: 10 }, seed);
        const id = await runOne(s);
        await s.ctx.fakeClock.tickAsync(41 * SECOND);
        bootTimes.push(
          s.ctx.entries.find((e) => e.kind === 'state' && e.resource === id && e.to === 'running')?.t ?? -1,
        );
      }
      expect(bootTimes[0]).toBeGreaterThanOrEqual(30);
      expect(bootTimes[0]).toBeLessThanOrEqual(40);
      expect(bootTimes[1]).toBe(bootTimes[0]);
    });

    it('emits state events in the documented sample shape', async () => {
      const s = setup();
      const id = await runOne(s);
      const event = s.ctx.events.find((e) => e['detail-type'] === 'EC2 Instance State-change Notification');
      const expected = sample('instance-state-change-terminated.json');
      expect(event).toBeDefined();
      expect(keys(event ?? {})).toEqual(keys(expected));
      expect(keys(event?.detail ?? {})).toEqual(keys(expected.detail));
      expect(event?.source).toBe('aws.ec2');
      expect(event?.resources).toEqual([`arn:aws:ec2:us-east-1:123456789012:instance/${id}`]);
    });

    it('terminates an instance whose boot fails, with Server.InternalError as the state reason', async () => {
      const s = setup();
      s.ctx.activeFaults.add('instance-boot-failure:*');
      const id = await runOne(s);
      await s.ctx.fakeClock.tickAsync(30 * SECOND);
      const output = await s.ec2.instances.describeInstances({ InstanceIds: [id] });
      const instance = output.Reservations?.[0]?.Instances?.[0];
      expect(instance?.State).toEqual({ Code: 48, Name: 'terminated' });
      expect(instance?.StateReason?.Code).toBe('Server.InternalError');
      expect(instanceEvents(s.ctx, id)).toEqual(['pending', 'terminated']);
    });

    it('applies instance TagSpecifications', async () => {
      const s = setup();
      const id = await runOne(s, {
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
      });
      expect(s.ec2.get(id)?.tags).toEqual({ Name: 'web' });
    });

    it('rejects a request without MinCount with MissingParameter', async () => {
      const s = setup();
      const error = await errorOf(s.ec2.handle('RunInstances', { ImageId: s.baseImageId, MaxCount: 1 }));
      expect(error.name).toBe('MissingParameter');
      expect(error.message).toContain('MinCount');
    });

    it('rejects MaxCount below MinCount with InvalidParameterValue', async () => {
      const s = setup();
      const error = await errorOf(run(s, { MinCount: 2, MaxCount: 1 }));
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toContain('MaxCount');
    });

    it('rejects a request without an image (none given, none in a template) with MissingParameter', async () => {
      const s = setup();
      const error = await errorOf(s.ec2.handle('RunInstances', { MinCount: 1, MaxCount: 1 }));
      expect(error.name).toBe('MissingParameter');
      expect(error.message).toContain('ImageId');
    });

    it('rejects an unknown image with InvalidAMIID.NotFound and a malformed one with InvalidAMIID.Malformed', async () => {
      const s = setup();
      expect((await errorOf(run(s, { ImageId: 'ami-0123456789abcdef0' }))).name).toBe(
        'InvalidAMIID.NotFound',
      );
      expect((await errorOf(run(s, { ImageId: 'image-1' }))).name).toBe('InvalidAMIID.Malformed');
    });

    it('rejects an image that is still pending with InvalidAMIID.Unavailable', async () => {
      const s = setup();
      const imageId = await createImage(s);
      expect((await errorOf(run(s, { ImageId: imageId }))).name).toBe('InvalidAMIID.Unavailable');
    });

    it('rejects an unknown subnet with InvalidSubnetID.NotFound', async () => {
      const s = setup();
      const error = await errorOf(run(s, { SubnetId: 'subnet-0123456789abcdef0' }));
      expect(error.name).toBe('InvalidSubnetID.NotFound');
    });

    it('places the instance in the given subnet and its availability zone', async () => {
      const s = setup();
      const subnet = s.ec2.subnets()[1];
      const id = await runOne(s, { SubnetId: subnet?.subnetId ?? '' });
      expect(s.ec2.get(id)).toMatchObject({ subnetId: subnet?.subnetId, availabilityZone: 'us-east-1b' });
    });

    it('returns the original reservation for a repeated ClientToken', async () => {
      const s = setup();
      const first = await s.ec2.instances.runInstances({
        ImageId: s.baseImageId,
        MinCount: 1,
        MaxCount: 1,
        ClientToken: 'tok',
      });
      const second = await s.ec2.instances.runInstances({
        ImageId: s.baseImageId,
        MinCount: 1,
        MaxCount: 1,
        ClientToken: 'tok',
      });
      expect(second.ReservationId).toBe(first.ReservationId);
      expect(second.Instances?.[0]?.InstanceId).toBe(first.Instances?.[0]?.InstanceId);
      expect(s.ec2.listInstances()).toHaveLength(1);
    });

    it('rejects a repeated ClientToken with different parameters with IdempotentParameterMismatch', async () => {
      const s = setup();
      await run(s, { ClientToken: 'tok' });
      const error = await errorOf(run(s, { ClientToken: 'tok', MaxCount: 2 }));
      expect(error.name).toBe('IdempotentParameterMismatch');
    });

    describe('from a launch template', () => {
      async function template(s: Setup): Promise<string> {
        const output = await s.ec2.launchTemplates.createLaunchTemplate({
          LaunchTemplateName: 'web',
          LaunchTemplateData: {
            ImageId: s.baseImageId,
            InstanceType: 't3.small',
            TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'web' }] }],
          },
        });
        return output.LaunchTemplate?.LaunchTemplateId ?? '';
      }

      it('takes image, type and tags from the version and adds the launch template system tags', async () => {
        const s = setup();
        const templateId = await template(s);
        const id = await runOne(s, {
          ImageId: undefined,
          LaunchTemplate: { LaunchTemplateName: 'web', Version: '1' },
        });
        const instance = s.ec2.get(id);
        expect(instance).toMatchObject({ imageId: s.baseImageId, instanceType: 't3.small' });
        expect(instance?.tags).toEqual({
          app: 'web',
          'aws:ec2launchtemplate:id': templateId,
          'aws:ec2launchtemplate:version': '1',
        });
        expect(instance?.launchTemplate).toEqual({
          launchTemplateId: templateId,
          launchTemplateName: 'web',
          version: 1,
        });
      });

      it('lets explicit parameters override the template', async () => {
        const s = setup();
        await template(s);
        const id = await runOne(s, {
          ImageId: undefined,
          InstanceType: 'm5.large',
          LaunchTemplate: { LaunchTemplateName: 'web' },
        });
        expect(s.ec2.get(id)?.instanceType).toBe('m5.large');
      });

      it('rejects an unknown template with InvalidLaunchTemplateName.NotFoundException', async () => {
        const s = setup();
        const error = await errorOf(run(s, { LaunchTemplate: { LaunchTemplateName: 'nope' } }));
        expect(error.name).toBe('InvalidLaunchTemplateName.NotFoundException');
      });
    });
  });

  describe('StopInstances, StartInstances and TerminateInstances', () => {
    async function running(s: Setup): Promise<string> {
      const id = await runOne(s);
      await s.ctx.fakeClock.tickAsync(30 * SECOND);
      return id;
    }

    it('stops a running instance through stopping to stopped', async () => {
      const s = setup({ stopSeconds: 20 });
      const id = await running(s);
      const output = await s.ec2.instances.stopInstances({ InstanceIds: [id] });
      expect(output.StoppingInstances).toEqual([
        {
          InstanceId: id,
          CurrentState: { Code: 64, Name: 'stopping' },
          PreviousState: { Code: 16, Name: 'running' },
        },
      ]);
      await s.ctx.fakeClock.tickAsync(20 * SECOND);
      expect(await describeStates(s, [id])).toEqual(['stopped']);
      expect(s.ec2.get(id)?.runningSince).toBeUndefined();
    });

    it('rejects stopping a pending instance with IncorrectInstanceState', async () => {
      const s = setup();
      const id = await runOne(s);
      expect((await errorOf(s.ec2.handle('StopInstances', { InstanceIds: [id] }))).name).toBe(
        'IncorrectInstanceState',
      );
    });

    it('starts a stopped instance through pending to running', async () => {
      const s = setup({ stopSeconds: 20 });
      const id = await running(s);
      await s.ec2.instances.stopInstances({ InstanceIds: [id] });
      await s.ctx.fakeClock.tickAsync(20 * SECOND);
      const output = await s.ec2.instances.startInstances({ InstanceIds: [id] });
      expect(output.StartingInstances?.[0]?.CurrentState?.Name).toBe('pending');
      await s.ctx.fakeClock.tickAsync(30 * SECOND);
      expect(instanceEvents(s.ctx, id)).toEqual([
        'pending',
        'running',
        'stopping',
        'stopped',
        'pending',
        'running',
      ]);
    });

    it('rejects starting a terminated instance with IncorrectInstanceState', async () => {
      const s = setup({ shutdownSeconds: 15 });
      const id = await running(s);
      await s.ec2.instances.terminateInstances({ InstanceIds: [id] });
      await s.ctx.fakeClock.tickAsync(15 * SECOND);
      expect((await errorOf(s.ec2.handle('StartInstances', { InstanceIds: [id] }))).name).toBe(
        'IncorrectInstanceState',
      );
    });

    it('terminates through shutting-down, and a repeated terminate reports terminated → terminated', async () => {
      const s = setup({ shutdownSeconds: 15 });
      const id = await running(s);
      const first = await s.ec2.instances.terminateInstances({ InstanceIds: [id] });
      expect(first.TerminatingInstances?.[0]?.CurrentState).toEqual({ Code: 32, Name: 'shutting-down' });
      await s.ctx.fakeClock.tickAsync(15 * SECOND);
      const again = await s.ec2.instances.terminateInstances({ InstanceIds: [id] });
      expect(again.TerminatingInstances?.[0]).toMatchObject({
        CurrentState: { Name: 'terminated' },
        PreviousState: { Name: 'terminated' },
      });
      expect(instanceEvents(s.ctx, id)).toEqual(['pending', 'running', 'shutting-down', 'terminated']);
    });

    it('terminates a pending instance without it ever running', async () => {
      const s = setup({ shutdownSeconds: 15 });
      const id = await runOne(s);
      await s.ec2.instances.terminateInstances({ InstanceIds: [id] });
      await s.ctx.fakeClock.tickAsync(60 * SECOND);
      expect(instanceEvents(s.ctx, id)).toEqual(['pending', 'shutting-down', 'terminated']);
    });

    it('forgets a terminated instance after about an hour', async () => {
      const s = setup({ shutdownSeconds: 15 });
      const id = await running(s);
      await s.ec2.instances.terminateInstances({ InstanceIds: [id] });
      await s.ctx.fakeClock.tickAsync(15 * SECOND + 59 * 60 * SECOND);
      expect(await describeStates(s, [id])).toEqual(['terminated']);
      await s.ctx.fakeClock.tickAsync(60 * SECOND);
      expect((await errorOf(describeStates(s, [id]))).name).toBe('InvalidInstanceID.NotFound');
    });

    it('rejects the whole call with InvalidInstanceID.NotFound when one id is unknown', async () => {
      const s = setup();
      const id = await running(s);
      const error = await errorOf(
        s.ec2.handle('TerminateInstances', { InstanceIds: [id, 'i-0123456789abcdef0'] }),
      );
      expect(error.name).toBe('InvalidInstanceID.NotFound');
      expect(s.ec2.get(id)?.state).toBe('running');
    });
  });

  describe('DescribeInstances', () => {
    it('groups instances by reservation', async () => {
      const s = setup();
      await run(s, { MaxCount: 2 });
      await run(s);
      const output = await s.ec2.instances.describeInstances({});
      expect(output.Reservations?.map((r) => r.Instances?.length)).toEqual([2, 1]);
    });

    it('filters by instance-state-name, tag:K, tag-key and image-id (values ORed, filters ANDed)', async () => {
      const s = setup();
      const web = await runOne(s, {
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'web' }] }],
      });
      const api = await runOne(s, {
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'api' }] }],
      });
      await s.ctx.fakeClock.tickAsync(30 * SECOND);
      const bare = await runOne(s);
      const ids = async (Filters: Array<{ Name: string; Values: string[] }>) =>
        ((await s.ec2.instances.describeInstances({ Filters })).Reservations ?? []).flatMap((r) =>
          (r.Instances ?? []).map((i) => i.InstanceId),
        );
      expect(await ids([{ Name: 'instance-state-name', Values: ['running'] }])).toEqual([web, api]);
      expect(await ids([{ Name: 'instance-state-name', Values: ['pending', 'running'] }])).toEqual([
        web,
        api,
        bare,
      ]);
      expect(await ids([{ Name: 'tag:app', Values: ['w*'] }])).toEqual([web]);
      expect(await ids([{ Name: 'tag-key', Values: ['app'] }])).toEqual([web, api]);
      expect(
        await ids([
          { Name: 'image-id', Values: [s.baseImageId] },
          { Name: 'tag:app', Values: ['api'] },
        ]),
      ).toEqual([api]);
    });

    it('rejects a malformed id with InvalidInstanceID.Malformed', async () => {
      const s = setup();
      expect((await errorOf(s.ec2.handle('DescribeInstances', { InstanceIds: ['bogus'] }))).name).toBe(
        'InvalidInstanceID.Malformed',
      );
    });

    it('rejects an unknown filter with InvalidParameterValue naming it', async () => {
      const s = setup();
      const error = await errorOf(
        s.ec2.handle('DescribeInstances', { Filters: [{ Name: 'colour', Values: ['x'] }] }),
      );
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toContain('colour');
    });
  });

  describe('images', () => {
    it('creates an image pending, then available after the configured duration, with one event', async () => {
      const s = setup({ imageCreateSeconds: 300 });
      const imageId = await createImage(s);
      expect((await s.ec2.images.describeImages({ ImageIds: [imageId] })).Images?.[0]?.State).toBe('pending');
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      expect((await s.ec2.images.describeImages({ ImageIds: [imageId] })).Images?.[0]?.State).toBe(
        'available',
      );
      const events = s.ctx.events.filter((e) => e['detail-type'] === 'EC2 AMI State Change');
      expect(events.map((e) => e.detail.State)).toEqual(['available']);
      const expected = sample('ami-state-change-available.json');
      expect(keys(events[0] ?? {})).toEqual(keys(expected));
      expect(keys(events[0]?.detail ?? {})).toEqual(keys(expected.detail));
      expect(events[0]?.resources).toEqual([`arn:aws:ec2:us-east-1::image/${imageId}`]);
      expect(events[0]?.detail.ErrorMessage).toBe('');
    });

    it('fails the image on the create-image-failure fault, with an error message', async () => {
      const s = setup({ imageCreateSeconds: 300 });
      s.ctx.activeFaults.add('create-image-failure:*');
      const imageId = await createImage(s);
      await s.ctx.fakeClock.tickAsync(300 * SECOND);
      const image = (await s.ec2.images.describeImages({ ImageIds: [imageId] })).Images?.[0];
      expect(image?.State).toBe('failed');
      expect(image?.StateReason?.Code).toBe('Server.InternalError');
      const event = s.ctx.events.find((e) => e['detail-type'] === 'EC2 AMI State Change');
      expect(keys(event?.detail ?? {})).toEqual(keys(sample('ami-state-change-failed.json').detail));
      expect(event?.detail.State).toBe('failed');
      expect(event?.detail.ErrorMessage).not.toBe('');
    });

    it('rejects a duplicate image name with InvalidAMIName.Duplicate', async () => {
      const s = setup();
      await createImage(s, 'kiln-web-1');
      const instanceId = s.ec2.listInstances()[0]?.instanceId ?? '';
      const error = await errorOf(
        s.ec2.handle('CreateImage', { InstanceId: instanceId, Name: 'kiln-web-1' }),
      );
      expect(error.name).toBe('InvalidAMIName.Duplicate');
    });

    it('rejects imaging a pending instance with IncorrectInstanceState', async () => {
      const s = setup();
      const id = await runOne(s);
      const error = await errorOf(s.ec2.handle('CreateImage', { InstanceId: id, Name: 'kiln-web-1' }));
      expect(error.name).toBe('IncorrectInstanceState');
    });

    describe('DescribeImages', () => {
      it('tells own images (self) from Amazon’s (amazon)', async () => {
        const s = setup();
        const own = await createImage(s);
        const ids = async (Owners: string[]) =>
          ((await s.ec2.images.describeImages({ Owners })).Images ?? []).map((i) => i.ImageId);
        expect(await ids(['self'])).toEqual([own]);
        expect(await ids(['amazon'])).toEqual([s.baseImageId]);
        expect(await ids(['123456789012', 'amazon'])).toEqual([s.baseImageId, own]);
      });

      it('filters by name with wildcards, state, tag:K and tag-key', async () => {
        const s = setup({ imageCreateSeconds: 300 });
        const web = await createImage(s, 'kiln-web-1', { service: 'web' });
        await s.ctx.fakeClock.tickAsync(300 * SECOND);
        const api = await createImage(s, 'kiln-api-1', { service: 'api' });
        const ids = async (Filters: Array<{ Name: string; Values: string[] }>) =>
          ((await s.ec2.images.describeImages({ Filters })).Images ?? []).map((i) => i.ImageId);
        expect(await ids([{ Name: 'name', Values: ['kiln-*'] }])).toEqual([web, api]);
        expect(await ids([{ Name: 'name', Values: ['kiln-?eb-1'] }])).toEqual([web]);
        expect(await ids([{ Name: 'state', Values: ['pending'] }])).toEqual([api]);
        expect(await ids([{ Name: 'tag:service', Values: ['web'] }])).toEqual([web]);
        expect(await ids([{ Name: 'tag-key', Values: ['service'] }])).toEqual([web, api]);
      });

      it('rejects an unknown image id with InvalidAMIID.NotFound', async () => {
        const s = setup();
        const error = await errorOf(s.ec2.handle('DescribeImages', { ImageIds: ['ami-0123456789abcdef0'] }));
        expect(error.name).toBe('InvalidAMIID.NotFound');
        expect(error.message).toBe("The image id '[ami-0123456789abcdef0]' does not exist");
      });
    });

    describe('CopyImage', () => {
      it('copies from another region through the registry: new id, pending then available', async () => {
        const regions = new Ec2Regions();
        const source = setup({ regions, imageCreateSeconds: 60 });
        const targetCtx = createTestContext(9, 'eu-west-1');
        const target = new Ec2Sim(targetCtx, { regions, imageCopySeconds: 600 });
        const sourceImage = await createImage(source, 'kiln-web-1', { service: 'web' });
        await source.ctx.fakeClock.tickAsync(60 * SECOND);
        const output = await target.images.copyImage({
          Name: 'kiln-web-1',
          SourceImageId: sourceImage,
          SourceRegion: 'us-east-1',
          CopyImageTags: true,
        });
        expect(output.ImageId).not.toBe(sourceImage);
        const copied = (await target.images.describeImages({ ImageIds: [output.ImageId ?? ''] })).Images?.[0];
        expect(copied).toMatchObject({
          State: 'pending',
          SourceImageId: sourceImage,
          SourceImageRegion: 'us-east-1',
        });
        expect(copied?.Tags).toEqual([{ Key: 'service', Value: 'web' }]);
        await targetCtx.fakeClock.tickAsync(600 * SECOND);
        expect(
          (await target.images.describeImages({ ImageIds: [output.ImageId ?? ''] })).Images?.[0]?.State,
        ).toBe('available');
        expect(targetCtx.events.map((e) => [e.region, e.detail.State])).toEqual([['eu-west-1', 'available']]);
      });

      it('answers a repeated request with the same ClientToken with the first copy', async () => {
        const s = setup();
        const request = {
          Name: 'copy-1',
          SourceImageId: s.baseImageId,
          SourceRegion: 'us-east-1',
          ClientToken: 'kiln-token-1',
        };

        const first = await s.ec2.images.copyImage(request);
        const second = await s.ec2.images.copyImage(structuredClone(request));

        expect(second.ImageId).toBe(first.ImageId);
        expect(
          (await s.ec2.images.describeImages({ Filters: [{ Name: 'name', Values: ['copy-1'] }] })).Images,
        ).toHaveLength(1);
      });

      it('refuses the same ClientToken with other parameters with IdempotentParameterMismatch', async () => {
        const s = setup();
        await s.ec2.images.copyImage({
          Name: 'copy-1',
          SourceImageId: s.baseImageId,
          SourceRegion: 'us-east-1',
          ClientToken: 'kiln-token-1',
        });

        const error = await errorOf(
          s.ec2.handle('CopyImage', {
            Name: 'copy-2',
            SourceImageId: s.baseImageId,
            SourceRegion: 'us-east-1',
            ClientToken: 'kiln-token-1',
          }),
        );

        expect(error.name).toBe('IdempotentParameterMismatch');
      });

      it('leaves tags behind unless CopyImageTags is set', async () => {
        const s = setup({ imageCreateSeconds: 60 });
        const imageId = await createImage(s, 'kiln-web-1', { service: 'web' });
        await s.ctx.fakeClock.tickAsync(60 * SECOND);
        const output = await s.ec2.images.copyImage({
          Name: 'copy-1',
          SourceImageId: imageId,
          SourceRegion: 'us-east-1',
        });
        expect(
          (await s.ec2.images.describeImages({ ImageIds: [output.ImageId ?? ''] })).Images?.[0]?.Tags,
        ).toBeUndefined();
      });

      it('rejects a region that is not simulated with InvalidParameterValue', async () => {
        const s = setup();
        const error = await errorOf(
          s.ec2.handle('CopyImage', {
            Name: 'x-1',
            SourceImageId: s.baseImageId,
            SourceRegion: 'ap-south-1',
          }),
        );
        expect(error.name).toBe('InvalidParameterValue');
        expect(error.message).toContain('ap-south-1');
      });

      it('rejects a missing source image with InvalidAMIID.NotFound', async () => {
        const s = setup();
        const error = await errorOf(
          s.ec2.handle('CopyImage', {
            Name: 'x-1',
            SourceImageId: 'ami-0123456789abcdef0',
            SourceRegion: 'us-east-1',
          }),
        );
        expect(error.name).toBe('InvalidAMIID.NotFound');
      });
    });

    describe('DeregisterImage', () => {
      it('removes the image and emits a deregistered event', async () => {
        const s = setup({ imageCreateSeconds: 60 });
        const imageId = await createImage(s);
        await s.ctx.fakeClock.tickAsync(60 * SECOND);
        await s.ec2.images.deregisterImage({ ImageId: imageId });
        expect((await errorOf(s.ec2.handle('DescribeImages', { ImageIds: [imageId] }))).name).toBe(
          'InvalidAMIID.NotFound',
        );
        const states = s.ctx.events
          .filter((e) => e['detail-type'] === 'EC2 AMI State Change')
          .map((e) => e.detail.State);
        expect(states).toEqual(['available', 'deregistered']);
      });

      it('rejects deregistering Amazon’s image with AuthFailure', async () => {
        const s = setup();
        expect((await errorOf(s.ec2.handle('DeregisterImage', { ImageId: s.baseImageId }))).name).toBe(
          'AuthFailure',
        );
      });
    });

    it('resolves a seeded public AMI parameter to its image', () => {
      const s = setup();
      expect(s.ec2.publicAmiParameter(AL2023)).toBe(s.baseImageId);
      expect(s.ec2.publicAmiParameter('/aws/service/unknown')).toBeUndefined();
    });
  });

  describe('tags', () => {
    it('tags instances and images, and DescribeTags filters them by resource and key', async () => {
      const s = setup();
      const imageId = await createImage(s);
      const instanceId = s.ec2.listInstances()[0]?.instanceId ?? '';
      await s.ec2.tags.createTags({
        Resources: [instanceId, imageId],
        Tags: [{ Key: 'team', Value: 'core' }, { Key: 'empty' }],
      });
      const output = await s.ec2.tags.describeTags({
        Filters: [{ Name: 'resource-id', Values: [instanceId] }],
      });
      expect(output.Tags).toEqual([
        { Key: 'team', ResourceId: instanceId, ResourceType: 'instance', Value: 'core' },
        { Key: 'empty', ResourceId: instanceId, ResourceType: 'instance', Value: '' },
      ]);
      const byKey = await s.ec2.tags.describeTags({ Filters: [{ Name: 'key', Values: ['team'] }] });
      expect(byKey.Tags?.map((t) => t.ResourceType)).toEqual(['instance', 'image']);
    });

    it('rejects keys with the reserved aws: prefix with InvalidParameterValue', async () => {
      const s = setup();
      const id = await runOne(s);
      const error = await errorOf(
        s.ec2.handle('CreateTags', { Resources: [id], Tags: [{ Key: 'aws:x', Value: '1' }] }),
      );
      expect(error.name).toBe('InvalidParameterValue');
    });

    it('rejects a missing instance with InvalidInstanceID.NotFound and an unknown kind of id with InvalidID', async () => {
      const s = setup();
      const tags = [{ Key: 'k', Value: 'v' }];
      expect(
        (await errorOf(s.ec2.handle('CreateTags', { Resources: ['i-0123456789abcdef0'], Tags: tags }))).name,
      ).toBe('InvalidInstanceID.NotFound');
      expect((await errorOf(s.ec2.handle('CreateTags', { Resources: ['vol-0123'], Tags: tags }))).name).toBe(
        'InvalidID',
      );
    });

    it('rejects a 51st tag with TagLimitExceeded and changes nothing', async () => {
      const s = setup();
      const id = await runOne(s);
      const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      await s.ec2.tags.createTags({ Resources: [id], Tags: fifty });
      const error = await errorOf(
        s.ec2.handle('CreateTags', { Resources: [id], Tags: [{ Key: 'one-more', Value: 'v' }] }),
      );
      expect(error.name).toBe('TagLimitExceeded');
      expect(Object.keys(s.ec2.get(id)?.tags ?? {})).toHaveLength(50);
    });

    it('deletes a tag given with a value only when the value matches', async () => {
      const s = setup();
      const id = await runOne(s);
      await s.ec2.tags.createTags({
        Resources: [id],
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
          { Key: 'c', Value: '3' },
        ],
      });
      await s.ec2.tags.deleteTags({
        Resources: [id],
        Tags: [{ Key: 'a', Value: 'other' }, { Key: 'b', Value: '2' }, { Key: 'c' }],
      });
      expect(s.ec2.get(id)?.tags).toEqual({ a: '1' });
    });
  });

  describe('launch templates', () => {
    async function create(s: Setup, name = 'web'): Promise<string> {
      const output = await s.ec2.launchTemplates.createLaunchTemplate({
        LaunchTemplateName: name,
        VersionDescription: 'first',
        LaunchTemplateData: { ImageId: s.baseImageId, InstanceType: 't3.micro', SecurityGroupIds: ['sg-1'] },
      });
      return output.LaunchTemplate?.LaunchTemplateId ?? '';
    }

    it('creates a template at version 1, default and latest', async () => {
      const s = setup();
      const output = await s.ec2.launchTemplates.createLaunchTemplate({
        LaunchTemplateName: 'web',
        LaunchTemplateData: {},
      });
      expect(output.LaunchTemplate).toMatchObject({
        LaunchTemplateName: 'web',
        DefaultVersionNumber: 1,
        LatestVersionNumber: 1,
        CreatedBy: 'arn:aws:iam::123456789012:root',
      });
      expect(output.LaunchTemplate?.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{17}$/);
    });

    it('rejects a duplicate name with InvalidLaunchTemplateName.AlreadyExistsException', async () => {
      const s = setup();
      await create(s);
      const error = await errorOf(
        s.ec2.handle('CreateLaunchTemplate', { LaunchTemplateName: 'web', LaunchTemplateData: {} }),
      );
      expect(error.name).toBe('InvalidLaunchTemplateName.AlreadyExistsException');
    });

    it('rejects a malformed name with InvalidLaunchTemplateName.MalformedException', async () => {
      const s = setup();
      const error = await errorOf(
        s.ec2.handle('CreateLaunchTemplate', { LaunchTemplateName: 'a b', LaunchTemplateData: {} }),
      );
      expect(error.name).toBe('InvalidLaunchTemplateName.MalformedException');
    });

    describe('CreateLaunchTemplateVersion', () => {
      it('inherits the SourceVersion’s parameters and overrides the given ones', async () => {
        const s = setup();
        await create(s);
        const output = await s.ec2.launchTemplates.createLaunchTemplateVersion({
          LaunchTemplateName: 'web',
          SourceVersion: '1',
          LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa' },
        });
        expect(output.LaunchTemplateVersion).toMatchObject({ VersionNumber: 2, DefaultVersion: false });
        expect(output.LaunchTemplateVersion?.LaunchTemplateData).toEqual({
          ImageId: 'ami-0aaaaaaaaaaaaaaaa',
          InstanceType: 't3.micro',
          SecurityGroupIds: ['sg-1'],
        });
      });

      it('holds only the given parameters without a SourceVersion', async () => {
        const s = setup();
        await create(s);
        const output = await s.ec2.launchTemplates.createLaunchTemplateVersion({
          LaunchTemplateName: 'web',
          LaunchTemplateData: { ImageId: 'ami-0aaaaaaaaaaaaaaaa' },
        });
        expect(output.LaunchTemplateVersion?.LaunchTemplateData).toEqual({
          ImageId: 'ami-0aaaaaaaaaaaaaaaa',
        });
      });

      it('rejects a SourceVersion that does not exist with InvalidLaunchTemplateId.VersionNotFound', async () => {
        const s = setup();
        await create(s);
        const error = await errorOf(
          s.ec2.handle('CreateLaunchTemplateVersion', {
            LaunchTemplateName: 'web',
            SourceVersion: '7',
            LaunchTemplateData: {},
          }),
        );
        expect(error.name).toBe('InvalidLaunchTemplateId.VersionNotFound');
      });

      it('rejects an unknown template id with InvalidLaunchTemplateId.NotFound', async () => {
        const s = setup();
        const error = await errorOf(
          s.ec2.handle('CreateLaunchTemplateVersion', {
            LaunchTemplateId: 'lt-0123456789abcdef0',
            LaunchTemplateData: {},
          }),
        );
        expect(error.name).toBe('InvalidLaunchTemplateId.NotFound');
      });
    });

    describe('DescribeLaunchTemplateVersions', () => {
      async function threeVersions(s: Setup): Promise<void> {
        await create(s);
        for (const type of ['t3.small', 't3.large'] as const) {
          await s.ec2.launchTemplates.createLaunchTemplateVersion({
            LaunchTemplateName: 'web',
            SourceVersion: '$Latest',
            LaunchTemplateData: { InstanceType: type },
          });
        }
      }

      it('resolves $Latest and $Default, and follows ModifyLaunchTemplate’s DefaultVersion', async () => {
        const s = setup();
        await threeVersions(s);
        const numbers = async () =>
          (
            await s.ec2.launchTemplates.describeLaunchTemplateVersions({
              LaunchTemplateName: 'web',
              Versions: ['$Latest', '$Default'],
            })
          ).LaunchTemplateVersions?.map((v) => v.VersionNumber);
        expect(await numbers()).toEqual([3, 1]);
        const modified = await s.ec2.launchTemplates.modifyLaunchTemplate({
          LaunchTemplateName: 'web',
          DefaultVersion: '2',
        });
        expect(modified.LaunchTemplate?.DefaultVersionNumber).toBe(2);
        expect(await numbers()).toEqual([3, 2]);
      });

      it('lists the versions between MinVersion and MaxVersion in order', async () => {
        const s = setup();
        await threeVersions(s);
        const output = await s.ec2.launchTemplates.describeLaunchTemplateVersions({
          LaunchTemplateName: 'web',
          MinVersion: '2',
          MaxVersion: '3',
        });
        expect(output.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([2, 3]);
      });

      it('describes $Latest across all templates when no template is named', async () => {
        const s = setup();
        await threeVersions(s);
        await create(s, 'api');
        const output = await s.ec2.launchTemplates.describeLaunchTemplateVersions({ Versions: ['$Latest'] });
        expect(output.LaunchTemplateVersions?.map((v) => [v.LaunchTemplateName, v.VersionNumber])).toEqual([
          ['web', 3],
          ['api', 1],
        ]);
      });

      it('rejects version numbers without a template with InvalidParameterValue', async () => {
        const s = setup();
        const error = await errorOf(s.ec2.handle('DescribeLaunchTemplateVersions', { Versions: ['1'] }));
        expect(error.name).toBe('InvalidParameterValue');
      });

      it('rejects a missing version with InvalidLaunchTemplateId.VersionNotFound', async () => {
        const s = setup();
        await create(s);
        const error = await errorOf(
          s.ec2.handle('DescribeLaunchTemplateVersions', { LaunchTemplateName: 'web', Versions: ['9'] }),
        );
        expect(error.name).toBe('InvalidLaunchTemplateId.VersionNotFound');
      });
    });

    it('deletes a template, after which it is not found', async () => {
      const s = setup();
      const id = await create(s);
      const output = await s.ec2.launchTemplates.deleteLaunchTemplate({ LaunchTemplateId: id });
      expect(output.LaunchTemplate?.LaunchTemplateName).toBe('web');
      const error = await errorOf(s.ec2.handle('DescribeLaunchTemplates', { LaunchTemplateNames: ['web'] }));
      expect(error.name).toBe('InvalidLaunchTemplateName.NotFoundException');
    });
  });

  describe('as an Ec2Fleet', () => {
    async function fleetSetup(): Promise<Setup & { templateId: string }> {
      const s = setup();
      const output = await s.ec2.launchTemplates.createLaunchTemplate({
        LaunchTemplateName: 'web',
        LaunchTemplateData: {
          ImageId: s.baseImageId,
          InstanceType: 't3.micro',
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'app', Value: 'web' }] }],
        },
      });
      await s.ec2.launchTemplates.createLaunchTemplateVersion({
        LaunchTemplateName: 'web',
        SourceVersion: '1',
        LaunchTemplateData: {},
      });
      return { ...s, templateId: output.LaunchTemplate?.LaunchTemplateId ?? '' };
    }

    it('resolves $Latest and $Default to version numbers', async () => {
      const s = await fleetSetup();
      expect(s.ec2.resolveLaunchTemplate({ launchTemplateName: 'web', version: '$Latest' }).version).toBe(2);
      expect(s.ec2.resolveLaunchTemplate({ launchTemplateId: s.templateId }).version).toBe(1);
      expect(s.ec2.resolveLaunchTemplate({ launchTemplateName: 'web' })).toMatchObject({
        imageId: s.baseImageId,
        instanceType: 't3.micro',
        tags: { app: 'web' },
      });
    });

    it('launches through the fleet and tells listeners of each state change', async () => {
      const s = await fleetSetup();
      const seen: Array<[string, InstanceState | null, InstanceState]> = [];
      s.ec2.onStateChange((instance, from, to) => seen.push([instance.instanceId, from, to]));
      const template = s.ec2.resolveLaunchTemplate({ launchTemplateName: 'web', version: '2' });
      const subnetId = s.ec2.subnets()[2]?.subnetId ?? '';
      const instance = s.ec2.launch({
        launchTemplate: template,
        subnetId,
        tags: { 'aws:autoscaling:groupName': 'g' },
      });
      expect(instance).toMatchObject({ state: 'pending', subnetId, availabilityZone: 'us-east-1c' });
      expect(instance.tags).toMatchObject({
        app: 'web',
        'aws:autoscaling:groupName': 'g',
        'aws:ec2launchtemplate:version': '2',
      });
      await s.ctx.fakeClock.tickAsync(30 * SECOND);
      s.ec2.terminate(instance.instanceId);
      await s.ctx.fakeClock.tickAsync(15 * SECOND);
      expect(seen).toEqual([
        [instance.instanceId, null, 'pending'],
        [instance.instanceId, 'pending', 'running'],
        [instance.instanceId, 'running', 'shutting-down'],
        [instance.instanceId, 'shutting-down', 'terminated'],
      ]);
    });

    it('adopts a subnet it has not seen when Auto Scaling launches into it', async () => {
      const s = await fleetSetup();
      const template = s.ec2.resolveLaunchTemplate({ launchTemplateName: 'web' });
      const instance = s.ec2.launch({
        launchTemplate: template,
        subnetId: 'subnet-0feedfeedfeedfeed',
        tags: {},
      });
      expect(instance.subnetId).toBe('subnet-0feedfeedfeedfeed');
      expect(s.ec2.subnets().map((subnet) => subnet.subnetId)).toContain('subnet-0feedfeedfeedfeed');
    });

    describe('appHealth', () => {
      it('is down while pending, starting until appStartSeconds, then healthy', async () => {
        const s = await fleetSetup();
        const id = s.ec2.launch({
          launchTemplate: s.ec2.resolveLaunchTemplate({ launchTemplateName: 'web' }),
          subnetId: '',
          tags: {},
        }).instanceId;
        expect(s.ec2.appHealth(id)).toBe('down');
        await s.ctx.fakeClock.tickAsync(30 * SECOND);
        expect(s.ec2.appHealth(id)).toBe('starting');
        await s.ctx.fakeClock.tickAsync(DEFAULT_APP_BEHAVIOUR.appStartSeconds * SECOND);
        expect(s.ec2.appHealth(id)).toBe('healthy');
      });

      it('is unhealthy when the image’s behaviour fails health checks', async () => {
        const s = setup();
        const seen: Array<{ imageId: string; name: string }> = [];
        s.ec2.setBehaviourResolver((image) => {
          seen.push({ imageId: image.imageId, name: image.name });
          return { ...DEFAULT_APP_BEHAVIOUR, appStartSeconds: 0, mode: 'failing-health' };
        });
        const id = await runOne(s);
        await s.ctx.fakeClock.tickAsync(30 * SECOND);
        expect(s.ec2.appHealth(id)).toBe('unhealthy');
        expect(s.ec2.behaviourOf(id).mode).toBe('failing-health');
        expect(seen[0]).toEqual({
          imageId: s.baseImageId,
          name: 'al2023-ami-2023.6.20250115.0-kernel-6.1-x86_64',
        });
      });

      it('is down for an unknown instance', () => {
        const s = setup();
        expect(s.ec2.appHealth('i-0123456789abcdef0')).toBe('down');
      });
    });
  });
});
