import { join } from 'node:path';
import { DescribeExecutionCommand, SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { createRegion, type Region } from '../../../sandbox/region';

/**
 * State machines declared in serverless.yml as native AWS::StepFunctions::StateMachine resources
 * run in the sandbox from their ASL files, with DefinitionSubstitutions naming the functions.
 */
describe('sandbox Step Functions from serverless.yml', () => {
  let region: Region;
  const tokens: string[] = [];

  beforeEach(async () => {
    tokens.length = 0;
    region = await createRegion({
      seed: 5,
      serverlessFile: join(__dirname, '../../fixtures/serverless/state-machine.yml'),
      functions: {
        record: async () => async (event) => ({ seen: (event as { service: string }).service }),
        'ask-approval': async () => async (event) => {
          tokens.push((event as { taskToken: string }).taskToken);
          return null;
        },
      },
    });
  });

  afterEach(() => region.dispose());

  it('runs the ASL file: a task, a 30-minute wait on the virtual clock, then a callback resumed by SendTaskSuccess', async () => {
    const arn = region.stateMachineArns.get('ReleaseStateMachine');
    expect(arn).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:kiln-sandbox-release');
    const { sfn } = region.clientsFor('story');
    const result = await region.engine.run(async () => {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: arn,
          name: 'checkout-1.1.0',
          input: '{"service":"checkout"}',
        }),
      );
      const started = region.engine.clock.now();
      while (tokens.length === 0) await new Promise((r) => setTimeout(r, 60_000));
      const waitedSeconds = (region.engine.clock.now() - started) / 1000;
      await sfn.send(
        new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{"approvedBy":"U0LEAD0001"}' }),
      );
      for (;;) {
        const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (execution.status !== 'RUNNING') return { execution, waitedSeconds };
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
    expect(result.execution.status).toBe('SUCCEEDED');
    expect(result.waitedSeconds).toBeGreaterThanOrEqual(1800);
    expect(JSON.parse(result.execution.output ?? '{}')).toEqual({
      service: 'checkout',
      recorded: { seen: 'checkout' },
      approval: { approvedBy: 'U0LEAD0001' },
    });
    const machineStates = region.engine.timeline.entries.filter(
      (e) => e.kind === 'state' && e.resource.endsWith('#state'),
    );
    expect(machineStates.map((e) => (e.kind === 'state' ? e.to : ''))).toEqual([
      'Record',
      'BakeTime',
      'WaitForApproval',
    ]);
  });
});
