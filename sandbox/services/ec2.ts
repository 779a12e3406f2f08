/**
 * The simulated EC2 service: instances (launch, stop, start, terminate), AMIs (create, copy,
 * deregister, seeded base images), launch templates and their versions, and tags.
 *
 * It answers SDK operations through `handle` and offers `Ec2Fleet` to the other simulated services.
 * State changes run on the context's virtual clock and emit EventBridge events in the shapes AWS
 * documents. Several regions are several `Ec2Sim`s that share one `Ec2Regions` registry (CopyImage
 * reads the source region's sim through it).
 */
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type {
  CopyImageCommandInput,
  CopyImageCommandOutput,
  CreateImageCommandInput,
  CreateImageCommandOutput,
  CreateLaunchTemplateCommandInput,
  CreateLaunchTemplateCommandOutput,
  CreateLaunchTemplateVersionCommandInput,
  CreateLaunchTemplateVersionCommandOutput,
  CreateTagsCommandInput,
  CreateTagsCommandOutput,
  DeleteLaunchTemplateCommandInput,
  DeleteLaunchTemplateCommandOutput,
  DeleteTagsCommandInput,
  DeleteTagsCommandOutput,
  DeregisterImageCommandInput,
  DeregisterImageCommandOutput,
  DescribeImagesCommandInput,
  DescribeImagesCommandOutput,
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplatesCommandOutput,
  DescribeLaunchTemplateVersionsCommandInput,
  DescribeLaunchTemplateVersionsCommandOutput,
  DescribeTagsCommandInput,
  DescribeTagsCommandOutput,
  Filter,
  Image,
  Instance,
  InstanceStateChange,
  LaunchTemplate,
  LaunchTemplateVersion,
  ModifyLaunchTemplateCommandInput,
  ModifyLaunchTemplateCommandOutput,
  Reservation,
  RequestLaunchTemplateData,
  RunInstancesCommandInput,
  RunInstancesCommandOutput,
  StartInstancesCommandInput,
  StartInstancesCommandOutput,
  StopInstancesCommandInput,
  StopInstancesCommandOutput,
  Tag,
  TagDescription,
  TagSpecification,
  TerminateInstancesCommandInput,
  TerminateInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import type { SimContext, SimService, TimerHandle, VirtualMs } from '../core/context';
import type {
  AppBehaviour,
  Ec2Fleet,
  InstanceState,
  LaunchRequest,
  ResolvedLaunchTemplate,
  SimInstance,
} from './fleet';

/** An SDK output without the `$metadata` the engine adds. */
type Out<T> = Omit<T, '$metadata'>;

export interface SubnetSpec {
  subnetId: string;
  availabilityZone: string;
  vpcId: string;
}

export interface Ec2SimOptions {
  /** Seconds from pending to running (plus jitter). */
  bootSeconds?: number;
  /** Upper bound of the seeded extra boot time, in seconds. */
  bootJitterSeconds?: number;
  /** Seconds from stopping to stopped. */
  stopSeconds?: number;
  /** Seconds from shutting-down to terminated. */
  shutdownSeconds?: number;
  /** Seconds a CreateImage stays pending. */
  imageCreateSeconds?: number;
  /** Seconds a CopyImage stays pending. */
  imageCopySeconds?: number;
  /** How long a terminated instance stays visible to DescribeInstances. */
  terminatedVisibleSeconds?: number;
  /** The region's subnets; defaults to one per availability zone a, b and c. */
  subnets?: SubnetSpec[];
  /** The registry of regional sims (CopyImage reads the source region through it). */
  regions?: Ec2Regions;
}

/** What a base image looks like when the sandbox seeds it. */
export interface SeedImageSpec {
  name: string;
  /** 'amazon' for AWS's public images; omitted for the account's own. */
  ownerAlias?: string;
  /** Defaults to the AWS-owned account for alias 'amazon', else the context's account. */
  ownerId?: string;
  imageId?: string;
  description?: string;
  architecture?: 'x86_64' | 'arm64';
  tags?: Record<string, string>;
  /** A public SSM parameter (e.g. /aws/service/ami-amazon-linux-latest/…) that resolves to this image. */
  publicParameter?: string;
  /** Defaults to true for owner alias 'amazon'. */
  public?: boolean;
}

/** What SSM needs to answer public AMI parameters. */
export interface PublicAmiCatalog {
  publicAmiParameter(name: string): string | undefined;
}

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

/** The account that owns Amazon's public AMIs (as DescribeImages reports it). */
export const AMAZON_OWNER_ID = '137112412989';

/** Registry of the sims of several regions, so CopyImage can read from another region. */
export class Ec2Regions {
  private readonly sims = new Map<string, Ec2Sim>();

  register(sim: Ec2Sim): void {
    this.sims.set(sim.region, sim);
  }

  get(region: string): Ec2Sim | undefined {
    return this.sims.get(region);
  }
}

/** A copy of an image's data that another region's sim can import. */
export interface ImageSnapshot {
  imageId: string;
  name: string;
  description: string;
  architecture: 'x86_64' | 'arm64';
  state: string;
  tags: Record<string, string>;
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
const STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

type ImageState = 'pending' | 'available' | 'failed' | 'deregistered';

interface ImageRecord {
  imageId: string;
  name: string;
  description: string;
  ownerId: string;
  ownerAlias?: string;
  state: ImageState;
  creationDate: string;
  architecture: 'x86_64' | 'arm64';
  public: boolean;
  tags: Record<string, string>;
  requestId: string;
  sourceInstanceId?: string;
  sourceImageId?: string;
  sourceImageRegion?: string;
  stateReason?: { code: string; message: string };
}

interface InstanceRecord {
  instanceId: string;
  imageId: string;
  instanceType: string;
  state: InstanceState;
  subnet: SubnetSpec;
  privateIpAddress: string;
  launchTime: VirtualMs;
  runningSince?: VirtualMs;
  launchTemplate?: { launchTemplateId: string; launchTemplateName: string; version: number };
  tags: Record<string, string>;
  reservationId: string;
  amiLaunchIndex: number;
  clientToken?: string;
  keyName?: string;
  securityGroupIds: string[];
  architecture: 'x86_64' | 'arm64';
  stateReason?: { code: string; message: string };
  stateTransitionReason: string;
  /** The image as it was at launch: behaviour survives a later DeregisterImage. */
  image: { imageId: string; name: string; tags: Record<string, string> };
  timer?: TimerHandle;
}

interface LaunchTemplateVersionRecord {
  number: number;
  description?: string;
  createTime: VirtualMs;
  data: RequestLaunchTemplateData;
}

interface LaunchTemplateRecord {
  id: string;
  name: string;
  createTime: VirtualMs;
  defaultVersion: number;
  latestVersion: number;
  versions: Map<number, LaunchTemplateVersionRecord>;
  tags: Record<string, string>;
}

interface ReservationRecord {
  reservationId: string;
  instanceIds: string[];
}

/** The SDK's exception, as AWS's EC2 query protocol reports a client error. */
export function ec2Error(code: string, message: string): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: 'client',
    message,
    $metadata: { httpStatusCode: 400 },
  });
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (MissingParameter)
function required<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null || value === '') {
    throw ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
  }
  return value;
}

function asObject(input: unknown, operation: string): Record<string, unknown> {
  if (input === null || typeof input !== 'object') {
    throw ec2Error('InvalidParameterValue', `${operation}: the request must be an object`);
  }
  return input as Record<string, unknown>;
}

/** EC2 filter values accept `*` (any run of characters) and `?` (one character). */
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html
export function wildcardMatch(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 's').test(value);
}

/**
 * Applies EC2 filters: the values of one filter are ORed, separate filters are ANDed.
 * `valuesOf` returns the resource's values for a filter name.
 */
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html
function matchesFilters(filters: Filter[], valuesOf: (name: string) => string[]): boolean {
  return filters.every((filter) => {
    const wanted = filter.Values ?? [];
    const actual = valuesOf(filter.Name ?? '');
    return wanted.some((pattern) => actual.some((value) => wildcardMatch(pattern, value)));
  });
}

function checkFilterNames(filters: Filter[], supported: readonly string[]): void {
  for (const filter of filters) {
    const name = required(filter.Name, 'Filter.Name');
    const isTag = name.startsWith('tag:') && name.length > 4;
    if (!isTag && !supported.includes(name)) {
      throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
  }
}

function tagFilterValues(tags: Record<string, string>, name: string): string[] | undefined {
  if (name.startsWith('tag:')) {
    const value = tags[name.slice(4)];
    return value === undefined ? [] : [value];
  }
  if (name === 'tag-key') return Object.keys(tags);
  if (name === 'tag-value') return Object.values(tags);
  return undefined;
}

function toTagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Tags that a TagSpecifications list assigns to one resource type. */
function tagsFor(
  specs: readonly TagSpecification[] | undefined,
  resourceType: string,
): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== resourceType) continue;
    for (const tag of spec.Tags ?? []) {
      validateTag(tag);
      tags[tag.Key ?? ''] = tag.Value ?? '';
    }
  }
  return tags;
}

// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions
function validateTag(tag: Tag): void {
  const key = required(tag.Key, 'Tag.Key');
  if (key.length > 128)
    throw ec2Error('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters`);
  if ((tag.Value ?? '').length > 256) {
    throw ec2Error('InvalidParameterValue', `Tag value exceeds the maximum length of 256 characters`);
  }
  if (key.toLowerCase().startsWith('aws:')) {
    throw ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
  }
}

const MAX_TAGS_PER_RESOURCE = 50;

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
const IMAGE_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

function isoTime(ms: VirtualMs): string {
  return new Date(ms).toISOString();
}

export class Ec2Sim implements SimService, Ec2Fleet, PublicAmiCatalog {
  readonly serviceId = 'EC2';

  private readonly instances = new Map<string, InstanceRecord>();
  private readonly reservations = new Map<string, ReservationRecord>();
  private readonly images = new Map<string, ImageRecord>();
  private readonly launchTemplates = new Map<string, LaunchTemplateRecord>();
  private readonly clientTokens = new Map<string, { fingerprint: string; reservationId: string }>();
  private readonly publicParameters = new Map<string, string>();
  private readonly listeners: Array<
    (instance: SimInstance, from: InstanceState | null, to: InstanceState) => void
  > = [];
  private readonly subnetList: SubnetSpec[];
  private readonly usedIps = new Set<string>();
  private behaviourResolver: BehaviourResolver = () => ({ ...DEFAULT_APP_BEHAVIOUR });
  private readonly opts: Required<Omit<Ec2SimOptions, 'subnets' | 'regions'>>;
  private readonly regions: Ec2Regions | undefined;

  constructor(
    private readonly ctx: SimContext,
    options: Ec2SimOptions = {},
  ) {
    this.opts = {
      bootSeconds: options.bootSeconds ?? 30,
      bootJitterSeconds: options.bootJitterSeconds ?? 10,
      stopSeconds: options.stopSeconds ?? 20,
      shutdownSeconds: options.shutdownSeconds ?? 15,
      imageCreateSeconds: options.imageCreateSeconds ?? 300,
      imageCopySeconds: options.imageCopySeconds ?? 600,
      // "Terminated instances remain visible … for a short while (about an hour)".
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html
      terminatedVisibleSeconds: options.terminatedVisibleSeconds ?? 3600,
    };
    this.subnetList =
      options.subnets?.map((subnet) => ({ ...subnet })) ??
      ['a', 'b', 'c'].map((zone, index) => ({
        subnetId: `subnet-0000000000000000${index + 1}`,
        availabilityZone: `${ctx.region}${zone}`,
        vpcId: 'vpc-00000000000000001',
      }));
    this.regions = options.regions;
    this.regions?.register(this);
  }

  get region(): string {
    return this.ctx.region;
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

  setBehaviourResolver(resolver: BehaviourResolver): void {
    this.behaviourResolver = resolver;
  }

  // ---------------------------------------------------------------- SDK entry point

  async handle(operation: string, input: unknown): Promise<object> {
    const request = asObject(input, operation);
    if (request.DryRun === true) {
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (DryRunOperation)
      throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
    }
    switch (operation) {
      case 'RunInstances':
        return this.runInstances(input as RunInstancesCommandInput);
      case 'DescribeInstances':
        return this.describeInstances(input as DescribeInstancesCommandInput);
      case 'StopInstances':
        return this.stopInstances(input as StopInstancesCommandInput);
      case 'StartInstances':
        return this.startInstances(input as StartInstancesCommandInput);
      case 'TerminateInstances':
        return this.terminateInstances(input as TerminateInstancesCommandInput);
      case 'CreateImage':
        return this.createImage(input as CreateImageCommandInput);
      case 'CopyImage':
        return this.copyImage(input as CopyImageCommandInput);
      case 'DescribeImages':
        return this.describeImages(input as DescribeImagesCommandInput);
      case 'DeregisterImage':
        return this.deregisterImage(input as DeregisterImageCommandInput);
      case 'CreateTags':
        return this.createTags(input as CreateTagsCommandInput);
      case 'DeleteTags':
        return this.deleteTags(input as DeleteTagsCommandInput);
      case 'DescribeTags':
        return this.describeTags(input as DescribeTagsCommandInput);
      case 'CreateLaunchTemplate':
        return this.createLaunchTemplate(input as CreateLaunchTemplateCommandInput);
      case 'CreateLaunchTemplateVersion':
        return this.createLaunchTemplateVersion(input as CreateLaunchTemplateVersionCommandInput);
      case 'ModifyLaunchTemplate':
        return this.modifyLaunchTemplate(input as ModifyLaunchTemplateCommandInput);
      case 'DescribeLaunchTemplates':
        return this.describeLaunchTemplates(input as DescribeLaunchTemplatesCommandInput);
      case 'DescribeLaunchTemplateVersions':
        return this.describeLaunchTemplateVersions(input as DescribeLaunchTemplateVersionsCommandInput);
      case 'DeleteLaunchTemplate':
        return this.deleteLaunchTemplate(input as DeleteLaunchTemplateCommandInput);
      default:
        throw ec2Error('InvalidAction', `The action ${operation} is not valid for this web service.`);
    }
  }

  // ---------------------------------------------------------------- instances

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
      const resolved = this.resolveVersion(
        this.findTemplate(spec.LaunchTemplateId, spec.LaunchTemplateName),
        spec.Version ?? '$Default',
      );
      templateData = resolved.version.data;
      template = this.toResolved(resolved.template, resolved.version, false);
    }

    // Parameters given to RunInstances override the launch template's.
    // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/launch-instances-from-launch-template.html
    const imageId = required(input.ImageId ?? templateData.ImageId, 'ImageId');
    const image = this.requireLaunchableImage(imageId);
    const instanceType = input.InstanceType ?? templateData.InstanceType ?? 'm1.small';
    const subnetId = input.SubnetId ?? templateData.NetworkInterfaces?.[0]?.SubnetId;
    const subnet = this.requireSubnet(subnetId);
    const securityGroupIds = input.SecurityGroupIds ?? templateData.SecurityGroupIds ?? [];
    const tags = {
      ...tagsFor(templateData.TagSpecifications, 'instance'),
      ...tagsFor(input.TagSpecifications, 'instance'),
    };
    const keyName = input.KeyName ?? templateData.KeyName;

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
        ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}),
        ...(keyName !== undefined ? { keyName } : {}),
        ...(template ? { template } : {}),
      });
      instanceIds.push(record.instanceId);
    }
    this.reservations.set(reservationId, { reservationId, instanceIds });
    if (input.ClientToken !== undefined) {
      const { ClientToken: _token, ...rest } = input;
      this.clientTokens.set(input.ClientToken, { fingerprint: JSON.stringify(rest), reservationId });
    }
    for (const id of instanceIds) this.announceLaunch(this.mustGetInstance(id));
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
      input.InstanceIds && input.InstanceIds.length > 0 ? this.requireInstances(input.InstanceIds) : null;
    const candidates = wanted ?? [...this.instances.values()];
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
    const records = this.requireInstances(required(input.InstanceIds, 'InstanceIds'));
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
          delete record.timer;
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
    const records = this.requireInstances(required(input.InstanceIds, 'InstanceIds'));
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
    const records = this.requireInstances(required(input.InstanceIds, 'InstanceIds'));
    const TerminatingInstances = records.map((record) => {
      const previous = record.state;
      this.beginTermination(record);
      return this.stateChange(record, previous);
    });
    return { TerminatingInstances };
  }

  // ---------------------------------------------------------------- images

  /** Adds a base image (e.g. Amazon Linux) that exists from the start, available at once. */
  seedImage(spec: SeedImageSpec): string {
    const imageId = spec.imageId ?? this.ctx.ids.next('ami');
    const isAmazon = spec.ownerAlias === 'amazon';
    this.images.set(imageId, {
      imageId,
      name: spec.name,
      description: spec.description ?? '',
      ownerId: spec.ownerId ?? (isAmazon ? AMAZON_OWNER_ID : this.ctx.accountId),
      ...(spec.ownerAlias !== undefined ? { ownerAlias: spec.ownerAlias } : {}),
      state: 'available',
      creationDate: isoTime(this.ctx.clock.now()),
      architecture: spec.architecture ?? 'x86_64',
      public: spec.public ?? isAmazon,
      tags: { ...spec.tags },
      requestId: this.ctx.ids.uuid(),
    });
    if (spec.publicParameter !== undefined) this.publicParameters.set(spec.publicParameter, imageId);
    return imageId;
  }

  publicAmiParameter(name: string): string | undefined {
    return this.publicParameters.get(name);
  }

  /** The data another region's sim needs to copy this image. */
  exportImage(imageId: string): ImageSnapshot | undefined {
    const image = this.images.get(imageId);
    if (!image) return undefined;
    return {
      imageId: image.imageId,
      name: image.name,
      description: image.description,
      architecture: image.architecture,
      state: image.state,
      tags: { ...image.tags },
    };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html
  createImage(input: CreateImageCommandInput): Out<CreateImageCommandOutput> {
    const instanceId = required(input.InstanceId, 'InstanceId');
    const name = required(input.Name, 'Name');
    const [instance] = this.requireInstances([instanceId]);
    if (!instance || (instance.state !== 'running' && instance.state !== 'stopped')) {
      throw ec2Error(
        'IncorrectInstanceState',
        `The instance '${instanceId}' is not in a state from which it can be imaged (running or stopped).`,
      );
    }
    this.validateImageName(name);
    const tags = tagsFor(input.TagSpecifications, 'image');
    const image = this.addPendingImage({
      name,
      description: input.Description ?? '',
      architecture: instance.architecture,
      tags,
      sourceInstanceId: instanceId,
    });
    this.schedulePendingImage(image, this.opts.imageCreateSeconds);
    return { ImageId: image.imageId };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html
  copyImage(input: CopyImageCommandInput): Out<CopyImageCommandOutput> {
    const name = required(input.Name, 'Name');
    const sourceImageId = required(input.SourceImageId, 'SourceImageId');
    const sourceRegion = required(input.SourceRegion, 'SourceRegion');
    const sourceSim = sourceRegion === this.region ? this : this.regions?.get(sourceRegion);
    if (!sourceSim) {
      throw ec2Error(
        'InvalidParameterValue',
        `Invalid value '${sourceRegion}' for SourceRegion: region not simulated`,
      );
    }
    if (!IMAGE_ID.test(sourceImageId)) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${sourceImageId}" (expecting "ami-...")`);
    }
    const source = sourceSim.exportImage(sourceImageId);
    if (!source) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${sourceImageId}]' does not exist`);
    if (source.state !== 'available') {
      throw ec2Error(
        'InvalidAMIID.Unavailable',
        `The image id '[${sourceImageId}]' is not available (${source.state})`,
      );
    }
    this.validateImageName(name);
    // Tags are copied only on request; TagSpecifications add to (and win over) them.
    const tags = {
      ...(input.CopyImageTags === true ? source.tags : {}),
      ...tagsFor(input.TagSpecifications, 'image'),
    };
    const image = this.addPendingImage({
      name,
      description: input.Description ?? source.description,
      architecture: source.architecture,
      tags,
      sourceImageId,
      sourceImageRegion: sourceRegion,
    });
    this.schedulePendingImage(image, this.opts.imageCopySeconds);
    return { ImageId: image.imageId };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
  describeImages(input: DescribeImagesCommandInput): Out<DescribeImagesCommandOutput> {
    const filters = input.Filters ?? [];
    checkFilterNames(filters, [
      'name',
      'state',
      'image-id',
      'owner-id',
      'owner-alias',
      'is-public',
      'architecture',
      'description',
      'image-type',
      'tag-key',
      'tag-value',
    ]);
    let candidates = [...this.images.values()].filter((image) => image.state !== 'deregistered');
    if (input.ImageIds && input.ImageIds.length > 0) {
      candidates = this.requireImages(input.ImageIds);
    }
    if (input.Owners && input.Owners.length > 0) {
      const owners = input.Owners;
      candidates = candidates.filter((image) =>
        owners.some(
          (owner) =>
            (owner === 'self' && image.ownerId === this.ctx.accountId) ||
            owner === image.ownerId ||
            (image.ownerAlias !== undefined && owner === image.ownerAlias),
        ),
      );
    }
    const Images = candidates
      .filter((image) => matchesFilters(filters, (name) => this.imageFilterValues(image, name)))
      .map((image) => this.renderImage(image));
    return { Images };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html
  deregisterImage(input: DeregisterImageCommandInput): Out<DeregisterImageCommandOutput> {
    const imageId = required(input.ImageId, 'ImageId');
    const [image] = this.requireImages([imageId]);
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (image.ownerId !== this.ctx.accountId) {
      throw ec2Error('AuthFailure', `Not authorized for image:${imageId}`);
    }
    this.setImageState(image, 'deregistered');
    this.images.delete(imageId);
    return { Return: true };
  }

  // ---------------------------------------------------------------- tags

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html
  createTags(input: CreateTagsCommandInput): Out<CreateTagsCommandOutput> {
    const resources = required(input.Resources, 'ResourceId');
    const tags = required(input.Tags, 'Tag');
    for (const tag of tags) validateTag(tag);
    const targets = resources.map((id) => this.taggable(id));
    for (const target of targets) {
      const merged = { ...target };
      // A tag without a value gets the empty string (AWS's documented default).
      for (const tag of tags) merged[tag.Key ?? ''] = tag.Value ?? '';
      if (Object.keys(merged).length > MAX_TAGS_PER_RESOURCE) {
        throw ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
      }
    }
    for (const target of targets) {
      for (const tag of tags) target[tag.Key ?? ''] = tag.Value ?? '';
    }
    return {};
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html
  deleteTags(input: DeleteTagsCommandInput): Out<DeleteTagsCommandOutput> {
    const resources = required(input.Resources, 'ResourceId');
    const targets = resources.map((id) => this.taggable(id));
    for (const target of targets) {
      if (input.Tags === undefined) {
        // Without Tags, every user tag goes; aws: tags are the system's and stay.
        for (const key of Object.keys(target)) if (!key.startsWith('aws:')) delete target[key];
        continue;
      }
      for (const tag of input.Tags) {
        const key = required(tag.Key, 'Tag.Key');
        if (key.startsWith('aws:')) {
          throw ec2Error(
            'InvalidParameterValue',
            `Tag keys starting with 'aws:' are reserved for internal use`,
          );
        }
        // With a value (even ""), the tag goes only if its value matches.
        if (tag.Value === undefined || target[key] === tag.Value) delete target[key];
      }
    }
    return {};
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeTags.html
  describeTags(input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> {
    const filters = input.Filters ?? [];
    checkFilterNames(filters, ['key', 'value', 'resource-id', 'resource-type']);
    const all: TagDescription[] = [];
    const add = (
      resourceId: string,
      resourceType: TagDescription['ResourceType'],
      tags: Record<string, string>,
    ) => {
      for (const [Key, Value] of Object.entries(tags))
        all.push({ Key, ResourceId: resourceId, ResourceType: resourceType, Value });
    };
    for (const record of this.instances.values()) add(record.instanceId, 'instance', record.tags);
    for (const image of this.images.values())
      if (image.ownerId === this.ctx.accountId) add(image.imageId, 'image', image.tags);
    for (const template of this.launchTemplates.values()) add(template.id, 'launch-template', template.tags);
    const Tags = all.filter((tag) =>
      matchesFilters(filters, (name) => {
        if (name === 'key') return [tag.Key ?? ''];
        if (name === 'value') return [tag.Value ?? ''];
        if (name === 'resource-id') return [tag.ResourceId ?? ''];
        if (name === 'resource-type') return [tag.ResourceType ?? ''];
        if (name === `tag:${tag.Key}`) return [tag.Value ?? ''];
        return [];
      }),
    );
    return { Tags };
  }

  // ---------------------------------------------------------------- launch templates

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplate.html
  createLaunchTemplate(input: CreateLaunchTemplateCommandInput): Out<CreateLaunchTemplateCommandOutput> {
    const name = required(input.LaunchTemplateName, 'LaunchTemplateName');
    const data = required(input.LaunchTemplateData, 'LaunchTemplateData');
    if (!/^[a-zA-Z0-9().\-/_]{3,128}$/.test(name)) {
      throw ec2Error(
        'InvalidLaunchTemplateName.MalformedException',
        'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
      );
    }
    if ([...this.launchTemplates.values()].some((template) => template.name === name)) {
      throw ec2Error(
        'InvalidLaunchTemplateName.AlreadyExistsException',
        'Launch template name already in use.',
      );
    }
    const now = this.ctx.clock.now();
    const template: LaunchTemplateRecord = {
      id: this.ctx.ids.next('lt'),
      name,
      createTime: now,
      defaultVersion: 1,
      latestVersion: 1,
      versions: new Map(),
      tags: tagsFor(input.TagSpecifications, 'launch-template'),
    };
    template.versions.set(1, {
      number: 1,
      ...(input.VersionDescription !== undefined ? { description: input.VersionDescription } : {}),
      createTime: now,
      data: structuredClone(data),
    });
    this.launchTemplates.set(template.id, template);
    return { LaunchTemplate: this.renderTemplate(template) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
  createLaunchTemplateVersion(
    input: CreateLaunchTemplateVersionCommandInput,
  ): Out<CreateLaunchTemplateVersionCommandOutput> {
    const data = required(input.LaunchTemplateData, 'LaunchTemplateData');
    const template = this.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    // With SourceVersion the new version inherits the source's parameters and the given ones
    // overwrite them; without it the version holds only what is given.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateLaunchTemplateVersion.html
    const base =
      input.SourceVersion !== undefined
        ? this.resolveVersion(template, input.SourceVersion).version.data
        : {};
    const number = template.latestVersion + 1;
    const version: LaunchTemplateVersionRecord = {
      number,
      ...(input.VersionDescription !== undefined ? { description: input.VersionDescription } : {}),
      createTime: this.ctx.clock.now(),
      data: structuredClone({ ...base, ...data }),
    };
    template.versions.set(number, version);
    template.latestVersion = number;
    return { LaunchTemplateVersion: this.renderVersion(template, version) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyLaunchTemplate.html
  modifyLaunchTemplate(input: ModifyLaunchTemplateCommandInput): Out<ModifyLaunchTemplateCommandOutput> {
    const template = this.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    if (input.DefaultVersion !== undefined) {
      template.defaultVersion = this.resolveVersion(template, input.DefaultVersion).version.number;
    }
    return { LaunchTemplate: this.renderTemplate(template) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplates.html
  describeLaunchTemplates(
    input: DescribeLaunchTemplatesCommandInput,
  ): Out<DescribeLaunchTemplatesCommandOutput> {
    const filters = input.Filters ?? [];
    checkFilterNames(filters, ['launch-template-name', 'create-time', 'tag-key', 'tag-value']);
    let candidates = [...this.launchTemplates.values()];
    if (input.LaunchTemplateIds && input.LaunchTemplateIds.length > 0) {
      candidates = input.LaunchTemplateIds.map((id) => this.findTemplate(id, undefined));
    }
    if (input.LaunchTemplateNames && input.LaunchTemplateNames.length > 0) {
      const names = input.LaunchTemplateNames;
      candidates = candidates.filter((template) => names.includes(template.name));
      if (candidates.length < names.length) {
        throw ec2Error(
          'InvalidLaunchTemplateName.NotFoundException',
          'At least one of the launch templates specified in the request does not exist.',
        );
      }
    }
    const LaunchTemplates = candidates
      .filter((template) =>
        matchesFilters(filters, (name) => {
          if (name === 'launch-template-name') return [template.name];
          if (name === 'create-time') return [isoTime(template.createTime)];
          return tagFilterValues(template.tags, name) ?? [];
        }),
      )
      .map((template) => this.renderTemplate(template));
    return { LaunchTemplates };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeLaunchTemplateVersions.html
  describeLaunchTemplateVersions(
    input: DescribeLaunchTemplateVersionsCommandInput,
  ): Out<DescribeLaunchTemplateVersionsCommandOutput> {
    if (input.Filters && input.Filters.length > 0) {
      throw ec2Error(
        'UnsupportedOperation',
        'The sandbox does not simulate DescribeLaunchTemplateVersions filters.',
      );
    }
    const versions = input.Versions ?? [];
    if (input.LaunchTemplateId === undefined && input.LaunchTemplateName === undefined) {
      // Across all templates only the aliases are allowed.
      const aliasesOnly = versions.length > 0 && versions.every((v) => v === '$Latest' || v === '$Default');
      if (!aliasesOnly) {
        throw ec2Error(
          versions.length === 0 ? 'MissingParameter' : 'InvalidParameterValue',
          'To describe the launch template data for all your launch templates, specify $Latest, $Default, or both for Versions and omit LaunchTemplateId, LaunchTemplateName and version numbers.',
        );
      }
      const LaunchTemplateVersions = [...this.launchTemplates.values()].flatMap((template) =>
        [...new Set(versions.map((v) => this.resolveVersion(template, v).version))].map((version) =>
          this.renderVersion(template, version),
        ),
      );
      return { LaunchTemplateVersions };
    }
    const template = this.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    let selected: LaunchTemplateVersionRecord[];
    if (versions.length > 0) {
      selected = versions.map((v) => this.resolveVersion(template, v).version);
    } else {
      const min =
        input.MinVersion !== undefined ? this.versionNumber(input.MinVersion, 'MinVersion') : -Infinity;
      const max =
        input.MaxVersion !== undefined ? this.versionNumber(input.MaxVersion, 'MaxVersion') : Infinity;
      selected = [...template.versions.values()]
        .filter((version) => version.number >= min && version.number <= max)
        .sort((a, b) => a.number - b.number);
    }
    return { LaunchTemplateVersions: selected.map((version) => this.renderVersion(template, version)) };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteLaunchTemplate.html
  deleteLaunchTemplate(input: DeleteLaunchTemplateCommandInput): Out<DeleteLaunchTemplateCommandOutput> {
    const template = this.findTemplate(input.LaunchTemplateId, input.LaunchTemplateName);
    this.launchTemplates.delete(template.id);
    return { LaunchTemplate: this.renderTemplate(template) };
  }

  // ---------------------------------------------------------------- Ec2Fleet

  resolveLaunchTemplate(ref: {
    launchTemplateId?: string;
    launchTemplateName?: string;
    version?: string;
  }): ResolvedLaunchTemplate {
    const template = this.findTemplate(ref.launchTemplateId, ref.launchTemplateName);
    const { version } = this.resolveVersion(template, ref.version ?? '$Default');
    return this.toResolved(template, version, true);
  }

  launch(request: LaunchRequest): SimInstance {
    const lt = request.launchTemplate;
    const image = this.requireLaunchableImage(lt.imageId);
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
    const [record] = this.requireInstances([instanceId]);
    if (record) this.beginTermination(record);
  }

  /** Every instance still visible (terminated ones for about an hour), for SSM tag targets. */
  listInstances(): SimInstance[] {
    return [...this.instances.values()].map((record) => this.toSim(record));
  }

  get(instanceId: string): SimInstance | undefined {
    const record = this.instances.get(instanceId);
    return record ? this.toSim(record) : undefined;
  }

  onStateChange(
    listener: (instance: SimInstance, from: InstanceState | null, to: InstanceState) => void,
  ): void {
    this.listeners.push(listener);
  }

  appHealth(instanceId: string): 'healthy' | 'unhealthy' | 'starting' | 'down' {
    const record = this.instances.get(instanceId);
    if (!record || record.state !== 'running' || record.runningSince === undefined) return 'down';
    const behaviour = this.behaviourOf(instanceId);
    if (this.ctx.clock.now() < record.runningSince + behaviour.appStartSeconds * 1000) return 'starting';
    return behaviour.mode === 'failing-health' ? 'unhealthy' : 'healthy';
  }

  behaviourOf(instanceId: string): AppBehaviour {
    const record = this.instances.get(instanceId);
    if (!record) return { ...DEFAULT_APP_BEHAVIOUR };
    return this.behaviourResolver({ ...record.image, tags: { ...record.image.tags } });
  }

  // ---------------------------------------------------------------- internals: instances

  private createInstance(params: {
    imageId: string;
    image: ImageRecord;
    instanceType: string;
    subnet: SubnetSpec;
    securityGroupIds: string[];
    tags: Record<string, string>;
    reservationId: string;
    amiLaunchIndex: number;
    clientToken?: string;
    keyName?: string;
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
      image: { imageId: params.image.imageId, name: params.image.name, tags: { ...params.image.tags } },
      ...(params.clientToken !== undefined ? { clientToken: params.clientToken } : {}),
      ...(params.keyName !== undefined ? { keyName: params.keyName } : {}),
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
    this.instances.set(instanceId, record);
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
      delete record.timer;
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
      delete record.timer;
    }
    record.stateTransitionReason = `User initiated (${this.gmtStamp()})`;
    this.setState(record, 'shutting-down');
    record.timer = this.ctx.clock.setTimeout(() => {
      delete record.timer;
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
      this.instances.delete(record.instanceId);
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
    if (to === 'running') record.runningSince = this.ctx.clock.now();
    else delete record.runningSince;
    this.notify(record, from, to);
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html
  private notify(record: InstanceRecord, from: InstanceState | null, to: InstanceState): void {
    this.ctx.timeline.record({ kind: 'state', resource: record.instanceId, from, to });
    this.ctx.emit({
      source: 'aws.ec2',
      detailType: 'EC2 Instance State-change Notification',
      resources: [`arn:aws:ec2:${this.region}:${this.ctx.accountId}:instance/${record.instanceId}`],
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

  private requireInstances(ids: readonly string[]): InstanceRecord[] {
    const malformed = ids.find((id) => !INSTANCE_ID.test(id));
    if (malformed !== undefined) throw ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length === 1) {
      throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    }
    if (missing.length > 1) {
      throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    }
    return [...new Set(ids)].map((id) => this.mustGetInstance(id));
  }

  private mustGetInstance(id: string): InstanceRecord {
    const record = this.instances.get(id);
    if (!record) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return record;
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
      availabilityZone: `${this.region}${zone}`,
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
      const record = this.instances.get(id);
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
    const dnsSuffix = this.region === 'us-east-1' ? 'ec2.internal' : `${this.region}.compute.internal`;
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

  // ---------------------------------------------------------------- internals: images

  private requireImages(ids: readonly string[]): ImageRecord[] {
    const malformed = ids.find((id) => !IMAGE_ID.test(id));
    if (malformed !== undefined) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${malformed}" (expecting "ami-...")`);
    }
    const missing = ids.filter((id) => !this.images.has(id));
    if (missing.length === 1)
      throw ec2Error('InvalidAMIID.NotFound', `The image id '[${missing[0]}]' does not exist`);
    if (missing.length > 1) {
      throw ec2Error('InvalidAMIID.NotFound', `The image ids '[${missing.join(', ')}]' do not exist`);
    }
    return [...new Set(ids)].flatMap((id) => {
      const image = this.images.get(id);
      return image ? [image] : [];
    });
  }

  private requireLaunchableImage(imageId: string): ImageRecord {
    const [image] = this.requireImages([imageId]);
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (image.state !== 'available') {
      throw ec2Error(
        'InvalidAMIID.Unavailable',
        `The image id '[${imageId}]' is not available (${image.state})`,
      );
    }
    return image;
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html (Name constraints)
  private validateImageName(name: string): void {
    if (!/^[a-zA-Z0-9()[\] ./\-'@_]{3,128}$/.test(name)) {
      throw ec2Error(
        'InvalidAMIName.Malformed',
        `AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'`,
      );
    }
    const clash = [...this.images.values()].find(
      (image) => image.ownerId === this.ctx.accountId && image.name === name,
    );
    if (clash)
      throw ec2Error(
        'InvalidAMIName.Duplicate',
        `AMI name ${name} is already in use by AMI ${clash.imageId}`,
      );
  }

  private addPendingImage(params: {
    name: string;
    description: string;
    architecture: 'x86_64' | 'arm64';
    tags: Record<string, string>;
    sourceInstanceId?: string;
    sourceImageId?: string;
    sourceImageRegion?: string;
  }): ImageRecord {
    const image: ImageRecord = {
      imageId: this.ctx.ids.next('ami'),
      name: params.name,
      description: params.description,
      ownerId: this.ctx.accountId,
      state: 'pending',
      creationDate: isoTime(this.ctx.clock.now()),
      architecture: params.architecture,
      public: false,
      tags: params.tags,
      requestId: this.ctx.ids.uuid(),
      ...(params.sourceInstanceId !== undefined ? { sourceInstanceId: params.sourceInstanceId } : {}),
      ...(params.sourceImageId !== undefined ? { sourceImageId: params.sourceImageId } : {}),
      ...(params.sourceImageRegion !== undefined ? { sourceImageRegion: params.sourceImageRegion } : {}),
    };
    this.images.set(image.imageId, image);
    this.ctx.timeline.record({ kind: 'state', resource: image.imageId, from: null, to: 'pending' });
    return image;
  }

  private schedulePendingImage(image: ImageRecord, seconds: number): void {
    this.ctx.clock.setTimeout(() => {
      if (image.state !== 'pending') return;
      if (this.ctx.faults.should('create-image-failure', image.imageId)) {
        image.stateReason = {
          code: 'Server.InternalError',
          message: 'Server.InternalError: Image creation failed',
        };
        this.setImageState(image, 'failed');
        return;
      }
      this.setImageState(image, 'available');
    }, seconds * 1000);
  }

  // EC2 emits "EC2 AMI State Change" on available, failed and deregistered (not on pending).
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitor-ami-events.html
  private setImageState(image: ImageRecord, to: ImageState): void {
    const from = image.state;
    image.state = to;
    this.ctx.timeline.record({ kind: 'state', resource: image.imageId, from, to });
    this.ctx.emit({
      source: 'aws.ec2',
      detailType: 'EC2 AMI State Change',
      resources: [`arn:aws:ec2:${this.region}::image/${image.imageId}`],
      detail: {
        RequestId: image.requestId,
        ImageId: image.imageId,
        State: to,
        ErrorMessage: to === 'failed' ? (image.stateReason?.message ?? 'Image creation failed') : '',
      },
    });
  }

  private imageFilterValues(image: ImageRecord, name: string): string[] {
    const tagValues = tagFilterValues(image.tags, name);
    if (tagValues) return tagValues;
    switch (name) {
      case 'name':
        return [image.name];
      case 'state':
        return [image.state];
      case 'image-id':
        return [image.imageId];
      case 'owner-id':
        return [image.ownerId];
      case 'owner-alias':
        return image.ownerAlias !== undefined ? [image.ownerAlias] : [];
      case 'is-public':
        return [String(image.public)];
      case 'architecture':
        return [image.architecture];
      case 'description':
        return [image.description];
      case 'image-type':
        return ['machine'];
      default:
        return [];
    }
  }

  private renderImage(image: ImageRecord): Image {
    return {
      ImageId: image.imageId,
      ImageLocation: `${image.ownerAlias ?? image.ownerId}/${image.name}`,
      State: image.state === 'deregistered' ? 'deregistered' : image.state,
      OwnerId: image.ownerId,
      CreationDate: image.creationDate,
      Public: image.public,
      ProductCodes: [],
      Architecture: image.architecture,
      ImageType: 'machine',
      Name: image.name,
      Description: image.description,
      RootDeviceName: '/dev/xvda',
      RootDeviceType: 'ebs',
      VirtualizationType: 'hvm',
      Hypervisor: 'xen',
      EnaSupport: true,
      PlatformDetails: 'Linux/UNIX',
      UsageOperation: 'RunInstances',
      BlockDeviceMappings: [],
      ...(image.ownerAlias !== undefined ? { ImageOwnerAlias: image.ownerAlias } : {}),
      ...(image.sourceInstanceId !== undefined ? { SourceInstanceId: image.sourceInstanceId } : {}),
      ...(image.sourceImageId !== undefined ? { SourceImageId: image.sourceImageId } : {}),
      ...(image.sourceImageRegion !== undefined ? { SourceImageRegion: image.sourceImageRegion } : {}),
      ...(image.stateReason
        ? { StateReason: { Code: image.stateReason.code, Message: image.stateReason.message } }
        : {}),
      ...(Object.keys(image.tags).length > 0 ? { Tags: toTagList(image.tags) } : {}),
    };
  }

  // ---------------------------------------------------------------- internals: tags

  /** The live tag map of a resource, by id prefix. */
  private taggable(resourceId: string): Record<string, string> {
    if (resourceId.startsWith('i-')) {
      const [record] = this.requireInstances([resourceId]);
      if (record) return record.tags;
    } else if (resourceId.startsWith('ami-')) {
      const [image] = this.requireImages([resourceId]);
      if (image) return image.tags;
    } else if (resourceId.startsWith('lt-')) {
      return this.findTemplate(resourceId, undefined).tags;
    }
    throw ec2Error('InvalidID', `The ID '${resourceId}' is not valid`);
  }

  // ---------------------------------------------------------------- internals: launch templates

  private findTemplate(id: string | undefined, name: string | undefined): LaunchTemplateRecord {
    if (id !== undefined && name !== undefined) {
      throw ec2Error(
        'InvalidParameterCombination',
        'You must specify either the launch template ID or the launch template name, but not both.',
      );
    }
    if (id !== undefined) {
      const template = this.launchTemplates.get(id);
      if (!template) {
        throw ec2Error(
          'InvalidLaunchTemplateId.NotFound',
          `The specified launch template, with template ID ${id}, does not exist.`,
        );
      }
      return template;
    }
    if (name !== undefined) {
      const template = [...this.launchTemplates.values()].find((t) => t.name === name);
      if (!template) {
        throw ec2Error(
          'InvalidLaunchTemplateName.NotFoundException',
          `The specified launch template, with template name ${name}, does not exist.`,
        );
      }
      return template;
    }
    throw ec2Error(
      'MissingParameter',
      'The request must contain the parameter LaunchTemplateName or LaunchTemplateId',
    );
  }

  private resolveVersion(
    template: LaunchTemplateRecord,
    ref: string,
  ): { template: LaunchTemplateRecord; version: LaunchTemplateVersionRecord } {
    const number =
      ref === '$Latest' ? template.latestVersion : ref === '$Default' ? template.defaultVersion : Number(ref);
    const version = Number.isInteger(number) ? template.versions.get(number) : undefined;
    if (!version) {
      throw ec2Error(
        'InvalidLaunchTemplateId.VersionNotFound',
        `Could not find the specified version ${ref} for the launch template with ID ${template.id}.`,
      );
    }
    return { template, version };
  }

  private versionNumber(value: string, field: string): number {
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1) {
      throw ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${field} is invalid.`);
    }
    return number;
  }

  private toResolved(
    template: LaunchTemplateRecord,
    version: LaunchTemplateVersionRecord,
    requireImage: boolean,
  ): ResolvedLaunchTemplate {
    const imageId = requireImage ? required(version.data.ImageId, 'ImageId') : (version.data.ImageId ?? '');
    return {
      launchTemplateId: template.id,
      launchTemplateName: template.name,
      version: version.number,
      imageId,
      instanceType: version.data.InstanceType ?? 'm1.small',
      securityGroupIds: [...(version.data.SecurityGroupIds ?? [])],
      tags: tagsFor(version.data.TagSpecifications, 'instance'),
    };
  }

  private renderTemplate(template: LaunchTemplateRecord): LaunchTemplate {
    return {
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      CreateTime: new Date(template.createTime),
      CreatedBy: `arn:aws:iam::${this.ctx.accountId}:root`,
      DefaultVersionNumber: template.defaultVersion,
      LatestVersionNumber: template.latestVersion,
      ...(Object.keys(template.tags).length > 0 ? { Tags: toTagList(template.tags) } : {}),
    };
  }

  private renderVersion(
    template: LaunchTemplateRecord,
    version: LaunchTemplateVersionRecord,
  ): LaunchTemplateVersion {
    return {
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      VersionNumber: version.number,
      ...(version.description !== undefined ? { VersionDescription: version.description } : {}),
      CreateTime: new Date(version.createTime),
      CreatedBy: `arn:aws:iam::${this.ctx.accountId}:root`,
      DefaultVersion: version.number === template.defaultVersion,
      LaunchTemplateData: structuredClone(version.data),
    };
  }
}
