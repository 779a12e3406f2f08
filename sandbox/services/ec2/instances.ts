/**
 * EC2 instances: RunInstances (with launch templates and client tokens), Describe, Stop, Start and
 * Terminate on the virtual clock with the "EC2 Instance State-change Notification" events, the
 * region's subnets, and the fleet face other services launch through and watch.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
 */
import type {
  BlockDeviceMapping,
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  Instance,
  InstanceStateChange,
  Reservation,
  RequestLaunchTemplateData,
  RunInstancesCommandInput,
  RunInstancesCommandOutput,
  StartInstancesCommandInput,
  StartInstancesCommandOutput,
  StopInstancesCommandInput,
  StopInstancesCommandOutput,
  TerminateInstancesCommandInput,
  TerminateInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import type { SimContext } from '../../core/context';
import type {
  AppBehaviour,
  InstanceState,
  LaunchRequest,
  ResolvedLaunchTemplate,
  SimInstance,
} from '../fleet';
import type { Out } from '../shared';
import { checkFilterNames, matchesFilters, tagFilterValues } from './filters';
import { toResolved } from './launch-templates';
import { ec2Error, required, STATE_CODES } from './model';
import { DEFAULT_ROOT_VOLUME_GIB } from './model';
import type {
  BlockDevice,
  Ec2Timings,
  ImageRecord,
  InstanceRecord,
  ReservationRecord,
  SubnetSpec,
  VolumeSpec,
} from './model';
import type { Ec2Store } from './store';
import { tagsFor, toTagList } from './tags';

export type BehaviourResolver = (image: {
  imageId: string;
  name: string;
  tags: Record<string, string>;
}) => AppBehaviour;

export const DEFAULT_APP_BEHAVIOUR: AppBehaviour = {
  appStartSeconds: 20,
  mode: 'healthy',
  errorRate: 0,
  latencySeconds: 0.05,
};

type StateListener = (instance: SimInstance, from: InstanceState | null, to: InstanceState) => void;

export class Instances {
  private readonly reservations = new Map<string, ReservationRecord>();
  private readonly clientTokens = new Map<string, { fingerprint: string; reservationId: string }>();
  private readonly listeners: StateListener[] = [];
  private readonly subnetList: SubnetSpec[];
  private readonly usedIps = new Set<string>();
  private behaviourResolver: BehaviourResolver = () => ({ ...DEFAULT_APP_BEHAVIOUR });
  private behaviours = new WeakMap<InstanceRecord, AppBehaviour>();

  constructor(
    private readonly ctx: SimContext,
    private readonly store: Ec2Store,
    private readonly opts: Pick<
      Ec2Timings,
      'bootSeconds' | 'bootJitterSeconds' | 'stopSeconds' | 'shutdownSeconds' | 'terminatedVisibleSeconds'
    >,
    subnets: readonly SubnetSpec[] | undefined,
  ) {
    this.subnetList =
      subnets?.map((subnet) => ({ ...subnet })) ??
      ['a', 'b', 'c'].map((zone, index) => ({
        subnetId: `subnet-0000000000000000${index + 1}`,
        availabilityZone: `${ctx.region}${zone}`,
        vpcId: 'vpc-00000000000000001',
      }));
  }

  // ---------------------------------------------------------------- operations

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
  runInstances(input: RunInstancesCommandInput): Out<RunInstancesCommandOutput> {
    const minCount = required(input.MinCount, 'MinCount');
    const maxCount = required(input.MaxCount, 'MaxCount');
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw ec2Error('InvalidParameterValue', `Value (${minCount}) for parameter MinCount is invalid.`);
    }
    if (!Number.isInteger(maxCount) || maxCount < minCount) {
      throw ec2Error(
        'InvalidParameterValue',
        `Value (${maxCount}) for parameter MaxCount is invalid. MaxCount must be at least MinCount.`,
      );
    }

    // Same ClientToken and same request: the original reservation; different request: an error.
    // https://docs.aws.amazon.com/AWSEC2/latest/devguide/ec2-api-idempotency.html
    if (input.ClientToken !== undefined) {
      const { ClientToken: _token, ...rest } = input;
      const fingerprint = JSON.stringify(rest);
      const previous = this.clientTokens.get(input.ClientToken);
      if (previous) {
        if (previous.fingerprint !== fingerprint) {
          throw ec2Error(
            'IdempotentParameterMismatch',
            'The client token you have provided is associated with a request that has different parameters.',
          );
        }
        return this.renderReservation(previous.reservationId);
      }
    }

    let template: ResolvedLaunchTemplate | undefined;
    let templateData: RequestLaunchTemplateData = {};
    if (input.LaunchTemplate) {
      const spec = input.LaunchTemplate;
      const resolved = this.store.resolveVersion(
        this.store.findTemplate(spec.LaunchTemplateId, spec.LaunchTemplateName),
        spec.Version ?? '$Default',
      );
      templateData = resolved.version.data;
      template = toResolved(resolved.template, resolved.version, false);
    }

    // Parameters given to RunInstances override the launch template's.
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/launch-instances-from-launch-template.html
    const imageId = required(input.ImageId ?? templateData.ImageId, 'ImageId');
    const image = this.store.requireLaunchableImage(imageId);
    const instanceType = input.InstanceType ?? templateData.InstanceType ?? 'm1.small';
    const subnetId = input.SubnetId ?? templateData.NetworkInterfaces?.[0]?.SubnetId;
    const subnet = this.requireSubnet(subnetId);
    const securityGroupIds = input.SecurityGroupIds ?? templateData.SecurityGroupIds ?? [];
    const tags = {
      ...tagsFor(templateData.TagSpecifications, 'instance'),
      ...tagsFor(input.TagSpecifications, 'instance'),
    };
    const keyName = input.KeyName ?? templateData.KeyName;
    // The instance metadata options as requested (RunInstances' own, else the template's); the
    // sandbox does not model an account default, so an instance launched without them shows none.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsRequest.html
    const requestedMetadata = input.MetadataOptions ?? templateData.MetadataOptions;
    const metadataOptions =
      requestedMetadata === undefined
        ? undefined
        : {
            httpTokens: requestedMetadata.HttpTokens ?? 'optional',
            httpEndpoint: requestedMetadata.HttpEndpoint ?? 'enabled',
          };

    const reservationId = this.ctx.ids.next('r');
    const instanceIds: string[] = [];
    for (let index = 0; index < maxCount; index++) {
      const record = this.createInstance({
        imageId,
        image,
        instanceType,
        subnet,
        securityGroupIds,
        tags,
        reservationId,
        amiLaunchIndex: index,
        blockDeviceMappings: input.BlockDeviceMappings ?? templateData.BlockDeviceMappings ?? [],
        ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}),
        ...(keyName !== undefined ? { keyName } : {}),
        ...(template ? { template } : {}),
        ...(metadataOptions !== undefined ? { metadataOptions } : {}),
      });
      instanceIds.push(record.instanceId);
    }
    this.reservations.set(reservationId, { reservationId, instanceIds });
    if (input.ClientToken !== undefined) {
      const { ClientToken: _token, ...rest } = input;
      this.clientTokens.set(input.ClientToken, { fingerprint: JSON.stringify(rest), reservationId });
    }
    for (const id of instanceIds) this.announceLaunch(this.store.mustGetInstance(id));
    return this.renderReservation(reservationId);
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
  describeInstances(input: DescribeInstancesCommandInput): Out<DescribeInstancesCommandOutput> {
    const filters = input.Filters ?? [];
    checkFilterNames(filters, [
      'instance-state-name',
      'instance-state-code',
      'instance-id',
      'image-id',
      'instance-type',
      'subnet-id',
      'vpc-id',
      'availability-zone',
      'reservation-id',
      'private-ip-address',
      'tag-key',
      'tag-value',
    ]);
    const wanted =
      input.InstanceIds && input.InstanceIds.length > 0
        ? this.store.requireInstances(input.InstanceIds)
        : null;
    const candidates = wanted ?? [...this.store.instances.values()];
    const matching = candidates.filter((record) =>
      matchesFilters(filters, (name) => this.instanceFilterValues(record, name)),
    );
    const byReservation = new Map<string, InstanceRecord[]>();
    for (const record of matching) {
      const list = byReservation.get(record.reservationId) ?? [];
      list.push(record);
      byReservation.set(record.reservationId, list);
    }
    const Reservations: Reservation[] = [...byReservation.entries()].map(([reservationId, records]) => ({
      ReservationId: reservationId,
      OwnerId: this.ctx.accountId,
      Groups: [],
      Instances: records.map((record) => this.renderInstance(record)),
    }));
    return { Reservations };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
  stopInstances(input: StopInstancesCommandInput): Out<StopInstancesCommandOutput> {
    const records = this.store.requireInstances(required(input.InstanceIds, 'InstanceIds'));
    for (const record of records) {
      if (['pending', 'shutting-down', 'terminated'].includes(record.state)) {
        throw ec2Error(
          'IncorrectInstanceState',
          `This instance '${record.instanceId}' is not in a state from which it can be stopped.`,
        );
      }
    }
    const StoppingInstances = records.map((record) => {
      const previous = record.state;
      if (record.state === 'running') {
        record.stateTransitionReason = `User initiated (${this.gmtStamp()})`;
        this.setState(record, 'stopping');
        record.timer = this.ctx.clock.setTimeout(() => {
          record.timer = undefined;
          record.stateReason = {
            code: 'Client.UserInitiatedShutdown',
            message: 'Client.UserInitiatedShutdown: User initiated shutdown',
          };
          this.setState(record, 'stopped');
        }, this.opts.stopSeconds * 1000);
      }
      return this.stateChange(record, previous);
    });
    return { StoppingInstances };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
  startInstances(input: StartInstancesCommandInput): Out<StartInstancesCommandOutput> {
    const records = this.store.requireInstances(required(input.InstanceIds, 'InstanceIds'));
    for (const record of records) {
      if (['stopping', 'shutting-down', 'terminated'].includes(record.state)) {
        throw ec2Error(
          'IncorrectInstanceState',
          `The instance '${record.instanceId}' is not in a state from which it can be started.`,
        );
      }
    }
    const StartingInstances = records.map((record) => {
      const previous = record.state;
      if (record.state === 'stopped') {
        delete record.stateReason;
        record.stateTransitionReason = '';
        this.setState(record, 'pending');
        this.scheduleBoot(record, false);
      }
      return this.stateChange(record, previous);
    });
    return { StartingInstances };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html
  terminateInstances(input: TerminateInstancesCommandInput): Out<TerminateInstancesCommandOutput> {
    const records = this.store.requireInstances(required(input.InstanceIds, 'InstanceIds'));
    const TerminatingInstances = records.map((record) => {
      const previous = record.state;
      this.beginTermination(record);
      return this.stateChange(record, previous);
    });
    return { TerminatingInstances };
  }

  // ---------------------------------------------------------------- the fleet other services use

  launch(request: LaunchRequest): SimInstance {
    const lt = request.launchTemplate;
    const image = this.store.requireLaunchableImage(lt.imageId);
    const subnet = this.adoptSubnet(request.subnetId);
    const reservationId = this.ctx.ids.next('r');
    const record = this.createInstance({
      imageId: lt.imageId,
      image,
      instanceType: lt.instanceType,
      subnet,
      securityGroupIds: [...lt.securityGroupIds],
      tags: { ...lt.tags, ...request.tags },
      reservationId,
      amiLaunchIndex: 0,
      template: lt,
    });
    this.reservations.set(reservationId, { reservationId, instanceIds: [record.instanceId] });
    this.announceLaunch(record);
    return this.toSim(record);
  }

  terminate(instanceId: string): void {
    const [record] = this.store.requireInstances([instanceId]);
    if (record) this.beginTermination(record);
  }

  /** Every instance still visible (terminated ones for about an hour), for SSM tag targets. */
  listInstances(): SimInstance[] {
    return [...this.store.instances.values()].map((record) => this.toSim(record));
  }

  /** The image an instance was launched from, as it was then (an observer's read: nothing is copied). */
  launchImage(
    instanceId: string,
  ): { imageId: string; name: string; tags: Readonly<Record<string, string>> } | undefined {
    return this.store.instances.get(instanceId)?.image;
  }

  get(instanceId: string): SimInstance | undefined {
    const record = this.store.instances.get(instanceId);
    return record ? this.toSim(record) : undefined;
  }

  /** Ids of the visible instances whose tag `key` is `value`, copying no instance. */
  idsTagged(key: string, value: string): string[] {
    const ids: string[] = [];
    for (const record of this.store.instances.values())
      if (record.tags[key] === value) ids.push(record.instanceId);
    return ids;
  }

  /** See Ec2Store.instancesVersion. */
  version(): number {
    return this.store.instancesVersion;
  }

  stateOf(instanceId: string): InstanceState | undefined {
    return this.store.instances.get(instanceId)?.state;
  }

  onStateChange(listener: StateListener): void {
    this.listeners.push(listener);
  }

  appHealth(instanceId: string): 'healthy' | 'unhealthy' | 'starting' | 'down' {
    const record = this.store.instances.get(instanceId);
    if (!record || record.state !== 'running' || record.runningSince === undefined) return 'down';
    const behaviour = this.behaviourOfRecord(record);
    if (this.ctx.clock.now() < record.runningSince + behaviour.appStartSeconds * 1000) return 'starting';
    return behaviour.mode === 'failing-health' ? 'unhealthy' : 'healthy';
  }

  behaviourOf(instanceId: string): AppBehaviour {
    const record = this.store.instances.get(instanceId);
    if (!record) return { ...DEFAULT_APP_BEHAVIOUR };
    return this.behaviourOfRecord(record);
  }

  private behaviourOfRecord(record: InstanceRecord): AppBehaviour {
    // Asked for on every health check and traffic tick; an instance's image is the one it was
    // launched with, so its behaviour only changes with the resolver. Frozen: it is shared.
    let behaviour = this.behaviours.get(record);
    if (behaviour === undefined) {
      behaviour = Object.freeze(this.behaviourResolver({ ...record.image, tags: { ...record.image.tags } }));
      this.behaviours.set(record, behaviour);
    }
    return behaviour;
  }

  setBehaviourResolver(resolver: BehaviourResolver): void {
    this.behaviourResolver = resolver;
    this.behaviours = new WeakMap();
    this.store.instancesVersion++;
  }

  /** The region's subnets (Auto Scaling groups must name these). */
  subnets(): readonly SubnetSpec[] {
    return this.subnetList;
  }

  addSubnet(spec: SubnetSpec): SubnetSpec {
    const subnet = { ...spec };
    this.subnetList.push(subnet);
    return subnet;
  }

  // ---------------------------------------------------------------- helpers

  private createInstance(params: {
    imageId: string;
    image: ImageRecord;
    instanceType: string;
    subnet: SubnetSpec;
    securityGroupIds: string[];
    tags: Record<string, string>;
    reservationId: string;
    amiLaunchIndex: number;
    blockDeviceMappings?: readonly BlockDeviceMapping[];
    clientToken?: string;
    keyName?: string;
    metadataOptions?: InstanceRecord['metadataOptions'];
    template?: ResolvedLaunchTemplate;
  }): InstanceRecord {
    const instanceId = this.ctx.ids.next('i');
    const tags = { ...params.tags };
    if (params.template) {
      // Instances launched from a template carry these two system tags.
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/launch-instances-from-launch-template.html
      tags['aws:ec2launchtemplate:id'] = params.template.launchTemplateId;
      tags['aws:ec2launchtemplate:version'] = String(params.template.version);
    }
    const record: InstanceRecord = {
      instanceId,
      imageId: params.imageId,
      instanceType: params.instanceType,
      state: 'pending',
      subnet: params.subnet,
      privateIpAddress: this.allocateIp(),
      launchTime: this.ctx.clock.now(),
      tags,
      reservationId: params.reservationId,
      amiLaunchIndex: params.amiLaunchIndex,
      securityGroupIds: params.securityGroupIds,
      architecture: params.image.architecture,
      stateTransitionReason: '',
      volumes: launchVolumes(params.image.blockDevices, params.blockDeviceMappings ?? []),
      image: { imageId: params.image.imageId, name: params.image.name, tags: { ...params.image.tags } },
      ...(params.clientToken !== undefined ? { clientToken: params.clientToken } : {}),
      ...(params.keyName !== undefined ? { keyName: params.keyName } : {}),
      ...(params.metadataOptions !== undefined ? { metadataOptions: params.metadataOptions } : {}),
      ...(params.template
        ? {
            launchTemplate: {
              launchTemplateId: params.template.launchTemplateId,
              launchTemplateName: params.template.launchTemplateName,
              version: params.template.version,
            },
          }
        : {}),
    };
    this.store.instances.set(instanceId, record);
    this.store.instancesVersion++;
    return record;
  }

  /** Records and announces the new instance's `pending` state, then starts its boot. */
  private announceLaunch(record: InstanceRecord): void {
    this.notify(record, null, 'pending');
    this.scheduleBoot(record, true);
  }

  private scheduleBoot(record: InstanceRecord, firstLaunch: boolean): void {
    const delayMs = this.opts.bootSeconds * 1000 + this.ctx.rng.int(0, this.opts.bootJitterSeconds * 1000);
    record.timer = this.ctx.clock.setTimeout(() => {
      record.timer = undefined;
      if (record.state !== 'pending') return;
      if (firstLaunch && this.ctx.faults.should('instance-boot-failure', record.instanceId)) {
        // A launch that fails internally ends pending → terminated with this reason.
        // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html
        record.stateReason = {
          code: 'Server.InternalError',
          message: 'Server.InternalError: Internal error on launch',
        };
        this.setState(record, 'terminated');
        this.scheduleForget(record);
        return;
      }
      this.setState(record, 'running');
    }, delayMs);
  }

  private beginTermination(record: InstanceRecord): void {
    if (record.state === 'shutting-down' || record.state === 'terminated') return;
    if (record.timer) {
      this.ctx.clock.clearTimeout(record.timer);
      record.timer = undefined;
    }
    record.stateTransitionReason = `User initiated (${this.gmtStamp()})`;
    this.setState(record, 'shutting-down');
    record.timer = this.ctx.clock.setTimeout(() => {
      record.timer = undefined;
      record.stateReason = {
        code: 'Client.UserInitiatedShutdown',
        message: 'Client.UserInitiatedShutdown: User initiated shutdown',
      };
      this.setState(record, 'terminated');
      this.scheduleForget(record);
    }, this.opts.shutdownSeconds * 1000);
  }

  private scheduleForget(record: InstanceRecord): void {
    this.ctx.clock.setTimeout(() => {
      this.store.instances.delete(record.instanceId);
      this.store.instancesVersion++;
      this.usedIps.delete(record.privateIpAddress);
      const reservation = this.reservations.get(record.reservationId);
      if (reservation) {
        reservation.instanceIds = reservation.instanceIds.filter((id) => id !== record.instanceId);
      }
    }, this.opts.terminatedVisibleSeconds * 1000);
  }

  private setState(record: InstanceRecord, to: InstanceState): void {
    const from = record.state;
    record.state = to;
    this.store.instancesVersion++;
    record.runningSince = to === 'running' ? this.ctx.clock.now() : undefined;
    this.notify(record, from, to);
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
  private notify(record: InstanceRecord, from: InstanceState | null, to: InstanceState): void {
    this.ctx.timeline.record({ kind: 'state', resource: record.instanceId, from, to });
    this.ctx.emit({
      source: 'aws.ec2',
      detailType: 'EC2 Instance State-change Notification',
      resources: [`arn:aws:ec2:${this.ctx.region}:${this.ctx.accountId}:instance/${record.instanceId}`],
      detail: { 'instance-id': record.instanceId, state: to },
    });
    const snapshot = this.toSim(record);
    for (const listener of this.listeners) listener(snapshot, from, to);
  }

  private stateChange(record: InstanceRecord, previous: InstanceState): InstanceStateChange {
    return {
      InstanceId: record.instanceId,
      CurrentState: { Code: STATE_CODES[record.state], Name: record.state },
      PreviousState: { Code: STATE_CODES[previous], Name: previous },
    };
  }

  private requireSubnet(subnetId: string | undefined): SubnetSpec {
    if (subnetId === undefined) {
      const first = this.subnetList[0];
      if (!first) throw ec2Error('MissingParameter', 'The request must contain the parameter SubnetId');
      return first;
    }
    const subnet = this.subnetList.find((s) => s.subnetId === subnetId);
    if (!subnet) throw ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    return subnet;
  }

  /**
   * Auto Scaling checked its subnets when the group was created (the sandbox's Auto Scaling does
   * not ask EC2), so a launch through the fleet adopts a subnet it has not seen, in the zones a, b,
   * c in turn, rather than failing every launch of the group.
   */
  private adoptSubnet(subnetId: string): SubnetSpec {
    if (subnetId === '') return this.requireSubnet(undefined);
    const known = this.subnetList.find((s) => s.subnetId === subnetId);
    if (known) return known;
    const zone = ['a', 'b', 'c'][this.subnetList.length % 3] ?? 'a';
    return this.addSubnet({
      subnetId,
      availabilityZone: `${this.ctx.region}${zone}`,
      vpcId: this.subnetList[0]?.vpcId ?? 'vpc-00000000000000001',
    });
  }

  private allocateIp(): string {
    for (;;) {
      const ip = `10.0.${this.ctx.rng.int(0, 255)}.${this.ctx.rng.int(4, 254)}`;
      if (!this.usedIps.has(ip)) {
        this.usedIps.add(ip);
        return ip;
      }
    }
  }

  private gmtStamp(): string {
    return `${new Date(this.ctx.clock.now()).toISOString().slice(0, 19).replace('T', ' ')} GMT`;
  }

  private instanceFilterValues(record: InstanceRecord, name: string): string[] {
    const tagValues = tagFilterValues(record.tags, name);
    if (tagValues) return tagValues;
    switch (name) {
      case 'instance-state-name':
        return [record.state];
      case 'instance-state-code':
        return [String(STATE_CODES[record.state])];
      case 'instance-id':
        return [record.instanceId];
      case 'image-id':
        return [record.imageId];
      case 'instance-type':
        return [record.instanceType];
      case 'subnet-id':
        return [record.subnet.subnetId];
      case 'vpc-id':
        return [record.subnet.vpcId];
      case 'availability-zone':
        return [record.subnet.availabilityZone];
      case 'reservation-id':
        return [record.reservationId];
      case 'private-ip-address':
        return [record.privateIpAddress];
      default:
        return [];
    }
  }

  private renderReservation(reservationId: string): Out<RunInstancesCommandOutput> {
    const reservation = this.reservations.get(reservationId);
    const records = (reservation?.instanceIds ?? []).flatMap((id) => {
      const record = this.store.instances.get(id);
      return record ? [record] : [];
    });
    return {
      ReservationId: reservationId,
      OwnerId: this.ctx.accountId,
      Groups: [],
      Instances: records.map((record) => this.renderInstance(record)),
    };
  }

  private renderInstance(record: InstanceRecord): Instance {
    const dnsSuffix =
      this.ctx.region === 'us-east-1' ? 'ec2.internal' : `${this.ctx.region}.compute.internal`;
    return {
      InstanceId: record.instanceId,
      ImageId: record.imageId,
      InstanceType: record.instanceType as Instance['InstanceType'],
      State: { Code: STATE_CODES[record.state], Name: record.state },
      PrivateDnsName: `ip-${record.privateIpAddress.replace(/\./g, '-')}.${dnsSuffix}`,
      PublicDnsName: '',
      StateTransitionReason: record.stateTransitionReason,
      AmiLaunchIndex: record.amiLaunchIndex,
      ProductCodes: [],
      LaunchTime: new Date(record.launchTime),
      Placement: { AvailabilityZone: record.subnet.availabilityZone, GroupName: '', Tenancy: 'default' },
      Monitoring: { State: 'disabled' },
      SubnetId: record.subnet.subnetId,
      VpcId: record.subnet.vpcId,
      PrivateIpAddress: record.privateIpAddress,
      Architecture: record.architecture,
      Hypervisor: 'xen',
      RootDeviceName: '/dev/xvda',
      RootDeviceType: 'ebs',
      VirtualizationType: 'hvm',
      EbsOptimized: false,
      EnaSupport: true,
      SourceDestCheck: true,
      PlatformDetails: 'Linux/UNIX',
      UsageOperation: 'RunInstances',
      SecurityGroups: record.securityGroupIds.map((GroupId) => ({ GroupId })),
      ...(record.keyName !== undefined ? { KeyName: record.keyName } : {}),
      ...(record.clientToken !== undefined ? { ClientToken: record.clientToken } : {}),
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsResponse.html
      ...(record.metadataOptions !== undefined
        ? {
            MetadataOptions: {
              State: 'applied',
              HttpTokens: record.metadataOptions.httpTokens,
              HttpEndpoint: record.metadataOptions.httpEndpoint,
            },
          }
        : {}),
      ...(record.stateReason
        ? { StateReason: { Code: record.stateReason.code, Message: record.stateReason.message } }
        : {}),
      ...(Object.keys(record.tags).length > 0 ? { Tags: toTagList(record.tags) } : {}),
    };
  }

  private toSim(record: InstanceRecord): SimInstance {
    return {
      instanceId: record.instanceId,
      imageId: record.imageId,
      instanceType: record.instanceType,
      state: record.state,
      availabilityZone: record.subnet.availabilityZone,
      subnetId: record.subnet.subnetId,
      privateIpAddress: record.privateIpAddress,
      launchTime: record.launchTime,
      ...(record.runningSince !== undefined ? { runningSince: record.runningSince } : {}),
      ...(record.launchTemplate ? { launchTemplate: { ...record.launchTemplate } } : {}),
      tags: { ...record.tags },
    };
  }
}

/**
 * An instance's EBS volumes: the image's block devices, with the launch's mappings changing the
 * size or type of a device the image has, adding new EBS devices, or dropping one (`NoDevice`).
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/block-device-mapping-concepts.html
 */
export function launchVolumes(
  imageDevices: readonly BlockDevice[],
  mappings: readonly BlockDeviceMapping[],
): VolumeSpec[] {
  const volumes = new Map<string, VolumeSpec>(
    imageDevices.map(({ deviceName, volumeSize, volumeType }) => [
      deviceName,
      { deviceName, volumeSize, volumeType },
    ]),
  );
  for (const mapping of mappings) {
    const deviceName = mapping.DeviceName;
    if (deviceName === undefined) continue;
    if (mapping.NoDevice !== undefined) {
      volumes.delete(deviceName);
      continue;
    }
    if (!mapping.Ebs) continue;
    const existing = volumes.get(deviceName);
    volumes.set(deviceName, {
      deviceName,
      volumeSize: mapping.Ebs.VolumeSize ?? existing?.volumeSize ?? DEFAULT_ROOT_VOLUME_GIB,
      volumeType: mapping.Ebs.VolumeType ?? existing?.volumeType ?? 'gp3',
    });
  }
  return [...volumes.values()];
}
