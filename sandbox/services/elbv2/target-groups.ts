/**
 * Target groups: create (idempotent for the same settings), describe, attributes, delete.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
 */
import {
  DuplicateTargetGroupNameException,
  ResourceInUseException,
  TargetGroupNotFoundException,
  TooManyTargetGroupsException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type {
  CreateTargetGroupInput,
  DeleteTargetGroupInput,
  DescribeTargetGroupAttributesInput,
  DescribeTargetGroupsInput,
  ModifyTargetGroupAttributesInput,
  TargetGroup,
  TargetGroupAttribute,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimContext } from '../../core/context';
import { badRequest } from '../shared';
import type { Draining } from './draining';
import { ALL_PROTOCOLS, checkName, checkRange, hexId, validationError } from './model';
import type { TargetGroupRecord } from './model';
import { loadBalancersUsing } from './routing';
import type { Elbv2Store } from './store';

export class TargetGroups {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Elbv2Store,
    private readonly draining: Draining,
    private readonly vpcExists: (vpcId: string) => boolean,
  ) {}

  // ---------------------------------------------------------------- operations

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
  createTargetGroup(input: CreateTargetGroupInput): object {
    if (!input.Name) throw validationError('A target group name must be specified');
    checkName('Target group', input.Name);
    const targetType = input.TargetType ?? 'instance';
    if (targetType !== 'instance' && targetType !== 'ip') {
      throw validationError(
        `TargetType '${targetType}' is not simulated by the sandbox (instance or ip only)`,
      );
    }
    if (input.Protocol !== undefined && !ALL_PROTOCOLS.includes(input.Protocol)) {
      throw validationError(
        `1 validation error detected: Value '${input.Protocol}' at 'protocol' failed to satisfy constraint: Member must satisfy enum value set: [${ALL_PROTOCOLS.join(', ')}]`,
      );
    }
    if (input.HealthCheckProtocol !== undefined && !ALL_PROTOCOLS.includes(input.HealthCheckProtocol)) {
      throw validationError(
        `1 validation error detected: Value '${input.HealthCheckProtocol}' at 'healthCheckProtocol' failed to satisfy constraint: Member must satisfy enum value set: [${ALL_PROTOCOLS.join(', ')}]`,
      );
    }
    // "If the target is a Lambda function, this parameter does not apply. Otherwise, this parameter is required."
    if (!input.Protocol) throw validationError('A protocol must be specified');
    if (input.Port === undefined) throw validationError('A port must be specified');
    checkRange('port', input.Port, 1, 65535);
    if (!input.VpcId) throw validationError('A VPC ID must be specified');
    if (!this.vpcExists(input.VpcId)) throw validationError(`The VPC ID '${input.VpcId}' is not found`);
    // Ranges from the API reference: interval 5-300, timeout 2-120, thresholds 2-10.
    checkRange('healthCheckIntervalSeconds', input.HealthCheckIntervalSeconds, 5, 300);
    checkRange('healthCheckTimeoutSeconds', input.HealthCheckTimeoutSeconds, 2, 120);
    checkRange('healthyThresholdCount', input.HealthyThresholdCount, 2, 10);
    checkRange('unhealthyThresholdCount', input.UnhealthyThresholdCount, 2, 10);

    const http = input.Protocol === 'HTTP' || input.Protocol === 'HTTPS';
    // Defaults for instance/ip targets from the ALB guide's health check settings table: interval 30,
    // timeout 5, healthy 5, unhealthy 2. (The API reference now says 6 s for HTTP and 10 s for HTTPS
    // timeouts; the guide, moto and this brief agree on 5, and Kiln never relies on the value.)
    const interval = input.HealthCheckIntervalSeconds ?? 30;
    const timeout = input.HealthCheckTimeoutSeconds ?? (http ? 5 : 10);
    if (timeout >= interval) {
      throw validationError(
        `Health check timeout '${timeout}' must be smaller than the interval '${interval}'`,
      );
    }
    const description: TargetGroup = {
      TargetGroupName: input.Name,
      Protocol: input.Protocol,
      Port: input.Port,
      VpcId: input.VpcId,
      HealthCheckProtocol: input.HealthCheckProtocol ?? (http ? input.Protocol : 'TCP'),
      HealthCheckPort: input.HealthCheckPort ?? 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: interval,
      HealthCheckTimeoutSeconds: timeout,
      HealthyThresholdCount: input.HealthyThresholdCount ?? 5,
      UnhealthyThresholdCount: input.UnhealthyThresholdCount ?? 2,
      TargetType: targetType,
      IpAddressType: input.IpAddressType ?? 'ipv4',
      LoadBalancerArns: [],
    };
    if (http) {
      description.HealthCheckPath = input.HealthCheckPath ?? '/';
      description.Matcher = input.Matcher ?? { HttpCode: '200' };
      description.ProtocolVersion = input.ProtocolVersion ?? 'HTTP1';
    }

    const existing = [...this.store.targetGroups.values()].find((tg) => tg.name === input.Name);
    if (existing) {
      // "This operation is idempotent … If you attempt to create multiple target groups with the same
      // settings, each call succeeds." A different setting under the same name is a duplicate.
      const same = (Object.keys(description) as Array<keyof TargetGroup>)
        .filter((key) => key !== 'LoadBalancerArns')
        .every((key) => JSON.stringify(description[key]) === JSON.stringify(existing.description[key]));
      if (!same) {
        throw new DuplicateTargetGroupNameException({
          message: 'A target group with the same name exists, but with different settings',
          ...badRequest(),
        });
      }
      return { TargetGroups: [this.describeTargetGroup(existing)] };
    }
    // Default quota: 3000 target groups per Region.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
    if (this.store.targetGroups.size >= 3000) {
      throw new TooManyTargetGroupsException({
        message: 'You have reached the limit on the number of target groups',
        ...badRequest(),
      });
    }
    const dimension = `targetgroup/${input.Name}/${hexId(this.ctx)}`;
    const arn = `arn:aws:elasticloadbalancing:${this.ctx.region}:${this.ctx.accountId}:${dimension}`;
    description.TargetGroupArn = arn;
    const record: TargetGroupRecord = {
      arn,
      dimension,
      name: input.Name,
      description,
      attributes: new Map([
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-group-attributes
        ['deregistration_delay.timeout_seconds', '300'],
        ['slow_start.duration_seconds', '0'],
        ['stickiness.enabled', 'false'],
        ['stickiness.type', 'lb_cookie'],
        ['stickiness.lb_cookie.duration_seconds', '86400'],
        ['load_balancing.algorithm.type', 'round_robin'],
      ]),
      targets: new Map(),
      inUse: false,
      version: 0,
    };
    this.store.targetGroups.set(arn, record);
    return { TargetGroups: [this.describeTargetGroup(record)] };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html
  describeTargetGroups(input: DescribeTargetGroupsInput): object {
    let groups = [...this.store.targetGroups.values()];
    if (input.LoadBalancerArn !== undefined) {
      this.store.findLoadBalancer(input.LoadBalancerArn);
      groups = groups.filter((tg) =>
        loadBalancersUsing(this.store, tg.arn).includes(input.LoadBalancerArn as string),
      );
    }
    if (input.TargetGroupArns?.length) {
      const wanted = input.TargetGroupArns.map((arn) => this.store.findTargetGroup(arn));
      groups = groups.filter((tg) => wanted.includes(tg));
    }
    if (input.Names?.length) {
      for (const name of input.Names) {
        if (!groups.some((tg) => tg.name === name)) {
          throw new TargetGroupNotFoundException({
            message: 'One or more target groups not found',
            ...badRequest(),
          });
        }
      }
      groups = groups.filter((tg) => input.Names?.includes(tg.name));
    }
    groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { TargetGroups: groups.map((tg) => this.describeTargetGroup(tg)) };
  }

  describeTargetGroupAttributes(input: DescribeTargetGroupAttributesInput): object {
    return { Attributes: this.attributesOf(this.store.findTargetGroup(input.TargetGroupArn)) };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyTargetGroupAttributes.html
  modifyTargetGroupAttributes(input: ModifyTargetGroupAttributesInput): object {
    const tg = this.store.findTargetGroup(input.TargetGroupArn);
    if (!input.Attributes?.length) throw validationError('Attributes must be specified');
    const next = new Map(tg.attributes);
    for (const attribute of input.Attributes) {
      if (!attribute.Key || !tg.attributes.has(attribute.Key)) {
        throw validationError(`Target group attribute key '${attribute.Key ?? ''}' is not recognized`);
      }
      const value = attribute.Value ?? '';
      if (attribute.Key === 'deregistration_delay.timeout_seconds') {
        // "The range is 0-3600 seconds. The default value is 300 seconds."
        const seconds = Number(value);
        if (!/^\d+$/.test(value) || seconds > 3600) {
          throw validationError(
            `'deregistration_delay.timeout_seconds' value '${value}' must be an integer between 0 and 3600`,
          );
        }
      }
      next.set(attribute.Key, value);
    }
    tg.attributes = next;
    return { Attributes: this.attributesOf(tg) };
  }

  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html
  deleteTargetGroup(input: DeleteTargetGroupInput): object {
    if (!input.TargetGroupArn) throw validationError('A target group ARN must be specified');
    const tg = this.store.targetGroups.get(input.TargetGroupArn);
    if (!tg) return {};
    if (tg.inUse) {
      throw new ResourceInUseException({
        message: `Target group '${tg.arn}' is currently in use by a listener or a rule`,
        ...badRequest(),
      });
    }
    for (const target of tg.targets.values()) this.draining.removeTarget(tg, target);
    this.store.targetGroups.delete(tg.arn);
    return {};
  }

  // ---------------------------------------------------------------- helpers

  private describeTargetGroup(tg: TargetGroupRecord): TargetGroup {
    return structuredClone({ ...tg.description, LoadBalancerArns: loadBalancersUsing(this.store, tg.arn) });
  }

  private attributesOf(tg: TargetGroupRecord): TargetGroupAttribute[] {
    return [...tg.attributes.entries()].map(([Key, Value]) => ({ Key, Value }));
  }
}
