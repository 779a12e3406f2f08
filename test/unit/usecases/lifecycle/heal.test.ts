import type { GroupsPort, LifecycleActionsPort } from '../../../../shared/usecases/lifecycle/deps';
import { healLifecycleActions } from '../../../../shared/usecases/lifecycle/heal';
import type {
  LifecycleExecutionInput,
  LifecycleExecutionsPort,
} from '../../../../shared/usecases/lifecycle/start';
import type { GroupDescription } from '../../../../shared/usecases/rollout/deps';
import { seededCheckout } from '../../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';

function staging(instances: GroupDescription['instances']): GroupDescription {
  return {
    name: 'checkout-staging',
    arn: 'arn',
    capacity: { min: 0, max: 8, desired: 2 },
    subnets: [],
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 60,
    targetGroupArns: [],
    tags: {},
    suspendedProcesses: [],
    instances,
  };
}

describe('healLifecycleActions', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(() => dynamo.stop());

  async function setup(executions: Map<string, string>) {
    const { store, clock } = await seededCheckout(dynamo);
    const started: Array<{ name: string; input: LifecycleExecutionInput }> = [];
    const completed: string[] = [];
    const groups: GroupsPort = {
      describeGroup: async (name) =>
        name === 'checkout-staging'
          ? staging([
              {
                instanceId: 'i-0000000000000000a',
                lifecycleState: 'Terminating:Wait',
                healthStatus: 'Healthy',
              },
              { instanceId: 'i-0000000000000000b', lifecycleState: 'Pending:Wait', healthStatus: 'Healthy' },
              { instanceId: 'i-0000000000000000c', lifecycleState: 'InService', healthStatus: 'Healthy' },
            ] as GroupDescription['instances'])
          : undefined,
      findGroupsByTags: async () => [],
      lifecycleHooks: async () => [
        { name: 'kiln-drain', transition: 'autoscaling:EC2_INSTANCE_TERMINATING' },
        { name: 'kiln-verify', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' },
      ],
    };
    const actions: LifecycleActionsPort = {
      complete: async (action, result) => {
        completed.push(`${action.instanceId} ${result}`);
        return 'completed';
      },
      heartbeat: async () => 'recorded',
    };
    const port: LifecycleExecutionsPort = {
      start: async (name, input) => {
        if (executions.has(name)) return { outcome: 'already-started' };
        started.push({ name, input });
        return { outcome: 'started' };
      },
      status: async (name) => executions.get(name),
    };
    const deps = {
      store,
      now: clock.now,
      region: 'us-east-1',
      groups: () => groups,
      actions: () => actions,
      executions: port,
    };
    return { deps, started, completed };
  }

  it('starts handling for waiting instances nobody handles, under the event’s execution name', async () => {
    const { deps, started } = await setup(new Map());
    const report = await healLifecycleActions(deps);
    expect(report).toMatchObject({ waiting: 2, started: 2, inProgress: 0, completed: 0 });
    expect(started.map((s) => s.name)).toEqual([
      'i-0000000000000000a-terminate-kiln-drain',
      'i-0000000000000000b-launch-kiln-verify',
    ]);
    expect(started[0]?.input.action.source).toBe('reconciler');
  });

  it('leaves actions whose handling runs, and completes those whose handling ended with the action open', async () => {
    const { deps, started, completed } = await setup(
      new Map([
        ['i-0000000000000000a-terminate-kiln-drain', 'RUNNING'],
        ['i-0000000000000000b-launch-kiln-verify', 'FAILED'],
      ]),
    );
    const report = await healLifecycleActions(deps);
    expect(report).toMatchObject({ started: 0, inProgress: 1, completed: 1 });
    expect(started).toEqual([]);
    expect(completed).toEqual(['i-0000000000000000b ABANDON']);
  });
});
