import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createReconcileHandler } from '../../../functions/reconcile';
import { parseServerlessDocument } from '../../../sandbox/core/routes';
import { KilnStore } from '../../../shared/store';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';

const ROOT = join(__dirname, '../../..');
const DEPLOY_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:kiln-test-deploy';
const LIFECYCLE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:kiln-test-lifecycle';
const T0 = Date.parse('2026-03-01T12:01:00.000Z');

const scheduled = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/events/events/scheduled-event.json'), 'utf8')) as Record<
    string,
    unknown
  >;

const context = { functionName: 'kiln-test-reconcile', awsRequestId: 'req-1' } as Context;
const sfnMock = mockClient(SFNClient);
const autoScalingMock = mockClient(AutoScalingClient);

describe('the reconcile function', () => {
  let dynamo: LocalDynamo;
  let store: KilnStore;
  let handler: ReturnType<typeof createReconcileHandler>;
  let loggedErrors: unknown[][];

  beforeAll(async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  beforeEach(async () => {
    const tableName = await dynamo.createTable();
    store = new KilnStore({ client: dynamo.client, tableName, now: () => T0 });
    sfnMock.reset();
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });
    autoScalingMock.reset();
    autoScalingMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    handler = createReconcileHandler(() => ({
      documentClient: dynamo.client,
      tableName,
      ec2For: () => new EC2Client({ region: 'us-east-1' }),
      cloudWatchFor: () => new CloudWatchClient({ region: 'us-east-1' }),
      autoScalingFor: () => new AutoScalingClient({ region: 'us-east-1' }),
      region: 'us-east-1',
      lifecycleStateMachineArn: LIFECYCLE_MACHINE,
      sfn: new SFNClient({ region: 'us-east-1', maxAttempts: 1 }),
      deployStateMachineArn: DEPLOY_MACHINE,
      now: () => T0,
    }));
    loggedErrors = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => {
      loggedErrors.push(args);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('runs once per scheduled event and answers what it did', async () => {
    const result = await handler({ ...scheduled(), time: '2026-03-01T12:01:00Z' }, context);
    expect(result).toEqual({
      outcome: 'reconciled',
      records: false,
      deployments: [],
      locks: [],
      woken: [],
      deleted: [],
      lifecycle: { groups: 0, waiting: 0, started: 0, inProgress: 0, completed: 0, deferred: 0 },
      alarms: { environments: 0, alarms: 0, inAlarm: 0, acted: 0 },
      truncated: false,
      errors: [],
    });
    expect(await store.getClaim('reconcile', 'run')).toBeUndefined();
  });

  it('refuses an event that is not a schedule, naming the field, and changes nothing', async () => {
    const result = await handler({ ...scheduled(), source: 'ci.github' }, context);
    expect(result).toEqual({ ignored: true, reason: expect.stringContaining('source') });
    expect(loggedErrors[0]?.[0]).toBe('rejected malformed input; nothing changed');
    expect(sfnMock.calls()).toHaveLength(0);
    expect((await store.listClaims('reconcile')).items).toEqual([]);
  });
});

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function reconcileStatements(): Statement[] {
  const doc = parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { iamRoleStatements?: unknown[] }>;
  };
  return (doc.functions.reconcile?.iamRoleStatements ?? []).filter(
    (s): s is Statement => typeof s === 'object' && s !== null && 'Effect' in s,
  );
}
const actionsOf = (s: Statement): string[] => [s.Action].flat();

describe("the reconcile function's IAM role", () => {
  const granted = () => reconcileStatements().flatMap(actionsOf);

  it('allows what the reconciler and the bake sweep it reuses call', () => {
    expect(granted()).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'states:SendTaskSuccess',
        'states:DescribeExecution',
        'ec2:DescribeInstances',
        'ec2:DescribeImages',
        'ec2:TerminateInstances',
        'ec2:DeregisterImage',
        'ec2:DeleteSnapshot',
        'cloudwatch:DescribeAlarms',
        'states:StartExecution',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:DescribeInstanceRefreshes',
        'autoscaling:RollbackInstanceRefresh',
      ]),
    );
  });

  it("never fails or stops an execution, and touches Auto Scaling only to describe, complete lifecycle actions and roll back a dead rollout's refresh", () => {
    const forbidden = granted().filter(
      (action) =>
        (action.startsWith('autoscaling:') &&
          ![
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeLifecycleHooks',
            'autoscaling:CompleteLifecycleAction',
            'autoscaling:DescribeInstanceRefreshes',
            'autoscaling:RollbackInstanceRefresh',
          ].includes(action)) ||
        ['states:SendTaskFailure', 'states:StopExecution'].includes(action) ||
        action.includes('*'),
    );
    expect(forbidden).toEqual([]);
  });

  it('rolls back instance refreshes only on groups tagged for Kiln', () => {
    const rollsBack = reconcileStatements().filter((s) =>
      actionsOf(s).includes('autoscaling:RollbackInstanceRefresh'),
    );
    expect(rollsBack.map((s) => s.Condition?.StringEquals?.['aws:ResourceTag/kiln:managed'])).toEqual([
      'true',
    ]);
  });

  it('completes lifecycle actions only on groups tagged for Kiln', () => {
    const completes = reconcileStatements().filter((s) =>
      actionsOf(s).includes('autoscaling:CompleteLifecycleAction'),
    );
    expect(completes.map((s) => s.Condition?.StringEquals?.['aws:ResourceTag/kiln:managed'])).toEqual([
      'true',
    ]);
  });

  it("starts only the deploy state machine's executions (an alarm's rollback) and the lifecycle machine's (a lost action's handling)", () => {
    const starts = reconcileStatements().filter((s) => actionsOf(s).includes('states:StartExecution'));
    expect(starts.map((s) => s.Resource).sort()).toEqual([
      '${self:custom.deployStateMachineArn}',
      '${self:custom.lifecycleStateMachineArn}',
    ]);
  });

  it('terminates, deregisters and deletes only what Kiln tagged as its builders and images', () => {
    const mutating = reconcileStatements().filter((s) =>
      actionsOf(s).some((a) =>
        ['ec2:TerminateInstances', 'ec2:DeregisterImage', 'ec2:DeleteSnapshot'].includes(a),
      ),
    );
    expect(mutating.map((s) => s.Condition?.StringEquals?.['aws:ResourceTag/kiln:role']).sort()).toEqual([
      'builder',
      'image',
    ]);
  });

  it('describes only the deploy state machine’s executions', () => {
    const describe = reconcileStatements().find((s) => actionsOf(s).includes('states:DescribeExecution'));
    expect(JSON.stringify(describe?.Resource)).toContain('execution:${self:custom.deployStateMachineName}:*');
  });
});
