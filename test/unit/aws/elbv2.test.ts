import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { TargetGroups } from '../../../shared/aws/elbv2';
import { AwsRequestRefusedError } from '../../../shared/domain/step-errors';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const arn = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1111';

describe('TargetGroups', () => {
  let targetGroups: TargetGroups;
  beforeEach(() => {
    elbMock.reset();
    targetGroups = new TargetGroups(
      new ElasticLoadBalancingV2Client({ region: 'us-east-1', maxAttempts: 1 }),
    );
  });

  it('answers every target with its state and reason', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-1', Port: 80 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: 'i-2', Port: 80 },
          TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress' },
        },
      ],
    });

    expect(await targetGroups.targetHealth(arn)).toEqual([
      { instanceId: 'i-1', state: 'healthy' },
      { instanceId: 'i-2', state: 'draining', reason: 'Target.DeregistrationInProgress' },
    ]);
    expect(elbMock.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: arn,
    });
  });

  it('reports a state it does not know as unavailable, never as healthy', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-1' }, TargetHealth: { State: 'something-new' as 'healthy' } },
      ],
    });
    expect(await targetGroups.targetHealth(arn)).toEqual([{ instanceId: 'i-1', state: 'unavailable' }]);
  });

  it('refuses a target group that does not exist, naming the code', async () => {
    elbMock
      .on(DescribeTargetHealthCommand)
      .rejects(
        new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }),
      );
    const attempt = targetGroups.targetHealth(arn);
    await expect(attempt).rejects.toBeInstanceOf(AwsRequestRefusedError);
    await expect(attempt).rejects.toMatchObject({ code: 'TargetGroupNotFoundException' });
  });

  describe('deregistrationDelaySeconds', () => {
    it("reads the target group's deregistration_delay.timeout_seconds", async () => {
      elbMock.on(DescribeTargetGroupAttributesCommand).resolves({
        Attributes: [
          { Key: 'stickiness.enabled', Value: 'false' },
          { Key: 'deregistration_delay.timeout_seconds', Value: '45' },
        ],
      });

      expect(await targetGroups.deregistrationDelaySeconds(arn)).toBe(45);
      expect(elbMock.commandCalls(DescribeTargetGroupAttributesCommand)[0]?.args[0].input).toEqual({
        TargetGroupArn: arn,
      });
    });

    it("takes ELB's default of 300 s when the attribute is missing or not a number of seconds", async () => {
      elbMock
        .on(DescribeTargetGroupAttributesCommand)
        .resolvesOnce({ Attributes: [{ Key: 'stickiness.enabled', Value: 'false' }] })
        .resolvesOnce({ Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: 'soon' }] });

      expect(await targetGroups.deregistrationDelaySeconds(arn)).toBe(300);
      expect(await targetGroups.deregistrationDelaySeconds(arn)).toBe(300);
    });
  });
});
