import {
  AutoScalingClient,
  AutoScalingServiceException,
  CreateOrUpdateTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingGroups } from '../../../shared/aws/autoscaling';
import { AwsRequestRefusedError } from '../../../shared/domain/step-errors';

const asgMock = mockClient(AutoScalingClient);

describe('AutoScalingGroups.tagGroup', () => {
  let groups: AutoScalingGroups;
  beforeEach(() => {
    asgMock.reset();
    groups = new AutoScalingGroups(new AutoScalingClient({ region: 'us-east-1', maxAttempts: 1 }));
  });

  it('sends every tag for the group, not propagated to its instances', async () => {
    asgMock.on(CreateOrUpdateTagsCommand).resolves({});

    await groups.tagGroup('web-prod', {
      'kiln:role': 'retired',
      'kiln:retired-at': '2026-03-01T12:00:00.000Z',
    });

    expect(asgMock.commandCalls(CreateOrUpdateTagsCommand)[0]?.args[0].input).toEqual({
      Tags: [
        {
          ResourceId: 'web-prod',
          ResourceType: 'auto-scaling-group',
          Key: 'kiln:role',
          Value: 'retired',
          PropagateAtLaunch: false,
        },
        {
          ResourceId: 'web-prod',
          ResourceType: 'auto-scaling-group',
          Key: 'kiln:retired-at',
          Value: '2026-03-01T12:00:00.000Z',
          PropagateAtLaunch: false,
        },
      ],
    });
  });

  it('names the group when AWS refuses', async () => {
    asgMock.on(CreateOrUpdateTagsCommand).rejects(
      new AutoScalingServiceException({
        name: 'ValidationError',
        $fault: 'client',
        message: 'AutoScalingGroup name not found - web-prod',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const error = await groups
      .tagGroup('web-prod', { 'kiln:role': 'retired' })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AwsRequestRefusedError);
    expect(String(error)).toContain('tag group web-prod');
  });
});
