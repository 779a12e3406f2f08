import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateImageCommand, DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createRegion, type Region } from '../../../sandbox/region';
import { KilnStore } from '../../../shared/store';

/**
 * on-progress end to end in the sandbox: a task waiting for an image stores its token keyed by the
 * image id; CreateImage's image becomes available on the virtual clock; EC2's "EC2 AMI State
 * Change" event reaches on-progress through serverless.yml's own rule; the execution resumes with
 * the wake-up as its task's output, at the moment the image became available (not at a timeout).
 */
describe('on-progress in the sandbox', () => {
  let region: Region;
  const IMAGE_CREATE_SECONDS = 300;

  beforeEach(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    region = await createRegion({ seed: 11 });
    // A tiny machine with the bake's wait shape, and the task function that stores its token.
    region.lambda.register({
      name: 'kiln-sandbox-wait-for-image',
      key: 'waitForImage',
      timeoutSeconds: 30,
      memorySizeMb: 512,
      load: async () => {
        const { doc } = region.clientsFor('fn:waitForImage');
        const store = new KilnStore({ client: doc, tableName: region.tableName });
        return async (event) => {
          const { taskToken, imageId } = event as { taskToken: string; imageId: string };
          await store.putTaskToken({
            waitKind: 'image',
            key: imageId,
            token: taskToken,
            deploymentId: 'checkout-1_4_2-0123456789abcdef',
            expiresAt: region.engine.clock.now() + 7_200_000,
          });
          return null;
        };
      },
    });
  });
  afterEach(() => region.dispose());

  const startMachine = (): string =>
    region.stepFunctions.createStateMachine({
      name: 'kiln-sandbox-wait-for-image',
      definition: readFileSync(
        join(__dirname, '../../fixtures/statemachines/wait-for-image.asl.json'),
        'utf8',
      ),
      substitutions: {
        WaitFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-wait-for-image',
      },
    });

  it('resumes the execution waiting for an image when the image becomes available', async () => {
    const stateMachineArn = startMachine();
    const baseImageId = region.ec2.seedImage({ name: 'al2023-ami-base', ownerAlias: 'amazon' });
    const subnetId = region.ec2.subnets()[0]?.subnetId;
    const { ec2, sfn } = region.clientsFor('story', 'operator');

    const outcome = await region.engine.run(async () => {
      const launched = await ec2.send(
        new RunInstancesCommand({ ImageId: baseImageId, MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
      );
      const instanceId = launched.Instances?.[0]?.InstanceId ?? '';
      for (;;) {
        const { Reservations = [] } = await ec2.send(
          new DescribeInstancesCommand({ InstanceIds: [instanceId] }),
        );
        if (Reservations[0]?.Instances?.[0]?.State?.Name === 'running') break;
        await new Promise((r) => setTimeout(r, 5000));
      }
      const { ImageId: imageId = '' } = await ec2.send(
        new CreateImageCommand({ InstanceId: instanceId, Name: 'checkout-1.4.2-baked' }),
      );
      const createdAt = region.engine.clock.now();
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: 'bake-1', input: JSON.stringify({ imageId }) }),
      );
      for (;;) {
        const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (execution.status !== 'RUNNING') {
          return { execution, imageId, waitedMs: (execution.stopDate?.getTime() ?? 0) - createdAt };
        }
        await new Promise((r) => setTimeout(r, 60_000));
      }
    });

    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(outcome.execution.output ?? '{}')).toEqual({
      imageId: outcome.imageId,
      woken: { woken: 'event', detailType: 'EC2 AMI State Change', state: 'available' },
    });
    // Woken by the event when the image became available (seconds after), not by the 2-hour timeout.
    expect(outcome.waitedMs).toBeGreaterThanOrEqual(IMAGE_CREATE_SECONDS * 1000);
    expect(outcome.waitedMs).toBeLessThan((IMAGE_CREATE_SECONDS + 60) * 1000);
    const wakes = region.engine.timeline.entries.filter(
      (e) => e.kind === 'api' && e.operation === 'SendTaskSuccess',
    );
    expect(wakes.map((e) => (e.kind === 'api' ? e.caller : ''))).toEqual(['fn:onProgress']);
    const store = new KilnStore({ client: region.clientsFor('check').doc, tableName: region.tableName });
    expect((await region.engine.run(() => store.listTaskTokens())).items).toEqual([]);
  });
});
