/**
 * Scaling activities (what DescribeScalingActivities lists) and the EventBridge events Auto Scaling
 * sends when an instance launch or termination succeeds or fails.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 */
import type { Activity, ActivitiesType, DescribeScalingActivitiesType } from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import { isoTime as iso } from '../shared';
import type { Group, Member } from './model';
import { EVENT_SOURCE } from './model';
import type { ActivitiesPart, AutoScaling } from './parts';

export class Activities implements ActivitiesPart {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- what the other parts use

  newActivity(
    group: Group,
    description: string,
    cause: string,
    member?: { az: string; subnet: string },
  ): Activity {
    const now = this.ctx.clock.now();
    const activity: Activity = {
      ActivityId: this.ctx.ids.uuid(),
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: group.arn,
      Description: description,
      Cause: `At ${iso(now).replace(/\.\d{3}Z$/, 'Z')} ${cause}.`,
      StartTime: new Date(now),
      StatusCode: 'InProgress',
      Progress: 0,
      Details: JSON.stringify(member ? { 'Subnet ID': member.subnet, 'Availability Zone': member.az } : {}),
    };
    group.activities.unshift(activity);
    return activity;
  }

  endActivity(activity: Activity, status: 'Successful' | 'Failed' | 'Cancelled', message?: string): void {
    activity.StatusCode = status;
    activity.Progress = 100;
    activity.EndTime = new Date(this.ctx.clock.now());
    if (message !== undefined) activity.StatusMessage = message;
  }

  emitInstanceEvent(
    group: Group,
    detailType: string,
    activity: Activity,
    member: Member | undefined,
    route: { origin: string; destination: string; az?: string; subnet?: string },
  ): void {
    // Shapes: https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
    const instanceId = member?.instanceId ?? '';
    const failed = activity.StatusCode === 'Failed' || activity.StatusCode === 'Cancelled';
    this.ctx.emit({
      source: EVENT_SOURCE,
      detailType,
      resources: member
        ? [group.arn, `arn:aws:ec2:${this.ctx.region}:${this.ctx.accountId}:instance/${instanceId}`]
        : [group.arn],
      detail: {
        StatusCode: failed ? 'Failed' : 'InProgress',
        ...(failed ? {} : { Description: activity.Description ?? '' }),
        AutoScalingGroupName: group.name,
        ActivityId: activity.ActivityId ?? '',
        Details: {
          'Availability Zone': member?.availabilityZone ?? route.az ?? '',
          'Subnet ID': member?.subnetId ?? route.subnet ?? '',
        },
        RequestId: activity.ActivityId ?? '',
        StatusMessage: activity.StatusMessage ?? '',
        EndTime: iso(activity.EndTime?.getTime() ?? this.ctx.clock.now()),
        EC2InstanceId: instanceId,
        StartTime: iso(activity.StartTime?.getTime() ?? this.ctx.clock.now()),
        Cause: activity.Cause ?? '',
        Origin: route.origin,
        Destination: route.destination,
      },
    });
  }

  // ---------------------------------------------------------------- operations

  describeActivities(input: DescribeScalingActivitiesType): ActivitiesType {
    const groups = input.AutoScalingGroupName
      ? [this.asg.groups.get(input.AutoScalingGroupName)]
      : this.asg.groups.all();
    let activities = groups.flatMap((group) => group.activities);
    if (input.ActivityIds && input.ActivityIds.length > 0) {
      const wanted = input.ActivityIds;
      activities = activities.filter(
        (activity) => activity.ActivityId !== undefined && wanted.includes(activity.ActivityId),
      );
    }
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 100, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    const page = activities.slice(start, start + pageSize).map((activity) => ({ ...activity }));
    const next = start + pageSize < activities.length ? String(start + pageSize) : undefined;
    return { Activities: page, ...(next ? { NextToken: next } : {}) };
  }
}
