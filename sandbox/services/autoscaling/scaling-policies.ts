/**
 * Scaling policies: PutScalingPolicy, DescribePolicies and DeletePolicy store and describe a
 * group's target tracking, step, simple and predictive policies as AWS answers them. Simple and
 * step policies run when their alarms call (policy-execution.ts); target tracking and predictive
 * ones are not run (no alarms are created for them).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutScalingPolicy.html
 */
import type {
  DeletePolicyType,
  DescribePoliciesType,
  PoliciesType,
  PolicyARNType,
  PutScalingPolicyType,
  ScalingPolicy,
} from '@aws-sdk/client-auto-scaling';
import { required, validationError } from './errors';
import type { Group } from './model';
import type { AutoScaling } from './parts';

const POLICY_TYPES = ['TargetTrackingScaling', 'StepScaling', 'SimpleScaling', 'PredictiveScaling'] as const;
const ADJUSTMENT_TYPES = ['ChangeInCapacity', 'ExactCapacity', 'PercentChangeInCapacity'];

/**
 * What each policy type needs (the API reference: AdjustmentType "Required if the policy type is
 * StepScaling or SimpleScaling", ScalingAdjustment "Required if the policy type is SimpleScaling",
 * StepAdjustments "Required if the policy type is StepScaling", TargetTrackingConfiguration
 * "Required if the policy type is TargetTrackingScaling", PredictiveScalingConfiguration "Required
 * if the policy type is PredictiveScaling"). AWS does not document its messages: the wording is
 * the sandbox's.
 */
const REQUIRED_BY_TYPE: Record<(typeof POLICY_TYPES)[number], Array<keyof PutScalingPolicyType>> = {
  TargetTrackingScaling: ['TargetTrackingConfiguration'],
  StepScaling: ['AdjustmentType', 'StepAdjustments'],
  SimpleScaling: ['AdjustmentType', 'ScalingAdjustment'],
  PredictiveScaling: ['PredictiveScalingConfiguration'],
};

export class ScalingPolicies {
  constructor(private readonly asg: AutoScaling) {}

  /**
   * Creates or updates the group's policy of that name: "Creates or updates a scaling policy";
   * PolicyType defaults to SimpleScaling. An update keeps the policy's ARN.
   */
  putScalingPolicy(input: PutScalingPolicyType): PolicyARNType {
    const group = this.asg.groups.get(required(input.AutoScalingGroupName, 'autoScalingGroupName'));
    const name = required(input.PolicyName, 'policyName');
    const type = input.PolicyType ?? 'SimpleScaling';
    const known = POLICY_TYPES.find((candidate) => candidate === type);
    if (!known) throw validationError(`PolicyType: ${type} is not one of ${POLICY_TYPES.join(', ')}`);
    for (const field of REQUIRED_BY_TYPE[known]) {
      if (input[field] === undefined)
        throw validationError(`${field} is required for a policy of type ${known}`);
    }
    if (input.AdjustmentType !== undefined && !ADJUSTMENT_TYPES.includes(input.AdjustmentType)) {
      throw validationError(
        `AdjustmentType: ${input.AdjustmentType} is not one of ${ADJUSTMENT_TYPES.join(', ')}`,
      );
    }
    const arn =
      group.policies.get(name)?.PolicyARN ??
      `arn:aws:autoscaling:${this.asg.ctx.region}:${this.asg.ctx.accountId}:scalingPolicy:${this.asg.ctx.ids.uuid()}:autoScalingGroupName/${group.name}:policyName/${name}`;
    const { AutoScalingGroupName: _group, PolicyName: _name, PolicyType: _type, ...parameters } = input;
    const policy: ScalingPolicy = {
      ...structuredClone(parameters),
      AutoScalingGroupName: group.name,
      PolicyName: name,
      PolicyARN: arn,
      PolicyType: known,
      // AWS answers an empty list for a policy without steps (its DescribePolicies example:
      // https://docs.aws.amazon.com/code-library/latest/ug/auto-scaling_example_auto-scaling_DescribePolicies_section.html).
      StepAdjustments: structuredClone(input.StepAdjustments ?? []),
      Alarms: [],
      // "The default is enabled."
      Enabled: input.Enabled ?? true,
    };
    group.policies.set(name, policy);
    return { PolicyARN: arn, Alarms: [] };
  }

  /**
   * The policies of one group or of every group, narrowed by names and types, paged by MaxRecords
   * (default 50, at most 100). https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribePolicies.html
   */
  describePolicies(input: DescribePoliciesType): PoliciesType {
    const groups: Group[] =
      input.AutoScalingGroupName !== undefined
        ? [this.asg.groups.get(input.AutoScalingGroupName)]
        : this.asg.groups.all();
    const names = input.PolicyNames ?? [];
    const types = input.PolicyTypes ?? [];
    const all = groups
      .flatMap((group) => [...group.policies.values()])
      .filter(
        (policy) =>
          (names.length === 0 ||
            names.includes(policy.PolicyName ?? '') ||
            names.includes(policy.PolicyARN ?? '')) &&
          (types.length === 0 || types.includes(policy.PolicyType ?? '')),
      );
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 50, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    if (!Number.isInteger(start) || start < 0) throw validationError('NextToken is invalid');
    const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
    return {
      ScalingPolicies: all.slice(start, start + pageSize).map((policy) => structuredClone(policy)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  /**
   * Deletes a policy named by name (with its group) or by ARN.
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeletePolicy.html
   */
  deletePolicy(input: DeletePolicyType): object {
    const nameOrArn = required(input.PolicyName, 'policyName');
    const groups =
      input.AutoScalingGroupName !== undefined
        ? [this.asg.groups.get(input.AutoScalingGroupName)]
        : this.asg.groups.all();
    for (const group of groups) {
      for (const [name, policy] of group.policies) {
        if (name === nameOrArn || policy.PolicyARN === nameOrArn) {
          group.policies.delete(name);
          return {};
        }
      }
    }
    // AWS does not document the error for a missing policy; the sandbox answers a ValidationError.
    throw validationError(`Policy ${nameOrArn} not found`);
  }
}
