import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  InvalidTargetException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { LifecycleActions, TargetDrain } from '../../../shared/aws/lifecycle';
import { AwsRequestRefusedError } from '../../../shared/domain/step-errors';

const asgMock = mockClient(AutoScalingClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1111';
const action = { groupName: 'web', hookName: 'kiln-drain', instanceId: 'i-0123456789abcdef0', token: 't-1' };

const validationError = (message: string) =>
  new AutoScalingServiceException({
    name: 'ValidationError',
    $fault: 'client',
    message,
    $metadata: { httpStatusCode: 400 },
  });

describe('LifecycleActions', () => {
  let actions: LifecycleActions;
  beforeEach(() => {
    asgMock.reset();
    actions = new LifecycleActions(new AutoScalingClient({ region: 'us-east-1', maxAttempts: 1 }));
  });

  it('completes by instance id and token with the result asked for', async () => {
    asgMock.on(CompleteLifecycleActionCommand).resolves({});
    await expect(actions.complete(action, 'CONTINUE')).resolves.toBe('completed');
    expect(asgMock.commandCalls(CompleteLifecycleActionCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'web',
      LifecycleHookName: 'kiln-drain',
      InstanceId: 'i-0123456789abcdef0',
      LifecycleActionToken: 't-1',
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('answers "No active Lifecycle Action" as already done, for completions and heartbeats', async () => {
    const gone = validationError('No active Lifecycle Action found with instance ID i-0123456789abcdef0');
    asgMock.on(CompleteLifecycleActionCommand).rejects(gone);
    asgMock.on(RecordLifecycleActionHeartbeatCommand).rejects(gone);
    await expect(actions.complete(action, 'ABANDON')).resolves.toBe('no-active-action');
    await expect(actions.heartbeat(action)).resolves.toBe('no-active-action');
  });

  it('refuses any other validation error, naming the call', async () => {
    asgMock.on(CompleteLifecycleActionCommand).rejects(validationError('AutoScalingGroup name not found'));
    const failure = actions.complete(action, 'CONTINUE');
    await expect(failure).rejects.toBeInstanceOf(AwsRequestRefusedError);
    await expect(failure).rejects.toThrow(/complete the lifecycle action of i-0123456789abcdef0/);
  });
});

describe('TargetDrain', () => {
  let drain: TargetDrain;
  beforeEach(() => {
    elbMock.reset();
    drain = new TargetDrain(new ElasticLoadBalancingV2Client({ region: 'us-east-1', maxAttempts: 1 }));
  });

  it('answers a target that is not registered as not-registered', async () => {
    elbMock
      .on(DeregisterTargetsCommand)
      .rejects(new InvalidTargetException({ message: 'The specified target does not exist', $metadata: {} }));
    await expect(drain.deregister(TG, 'i-1')).resolves.toBe('not-registered');
  });

  it('reads an unregistered target as unused', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    await expect(drain.targetState(TG, 'i-1')).resolves.toBe('unused');
  });

  it('reads the deregistration delay once per target group, 300 s when unset', async () => {
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [] });
    await expect(drain.deregistrationDelaySeconds(TG)).resolves.toBe(300);
    await expect(drain.deregistrationDelaySeconds(TG)).resolves.toBe(300);
    expect(elbMock.commandCalls(DescribeTargetGroupAttributesCommand)).toHaveLength(1);
  });
});
