/**
 * AMIs: seeded base images (with the public SSM parameters that name them), CreateImage and
 * CopyImage with their pending time, DescribeImages, DeregisterImage, and the "EC2 AMI State
 * Change" events. Several regions are several `Images` in one `Ec2Regions` registry, through which
 * CopyImage reads the source region.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AMIs.html
 */
import type {
  CopyImageCommandInput,
  CopyImageCommandOutput,
  CreateImageCommandInput,
  CreateImageCommandOutput,
  DeregisterImageCommandInput,
  DeregisterImageCommandOutput,
  DescribeImagesCommandInput,
  DescribeImagesCommandOutput,
  DisableImageDeprecationCommandInput,
  DisableImageDeprecationCommandOutput,
  EnableImageDeprecationCommandInput,
  EnableImageDeprecationCommandOutput,
  Image,
  VolumeType,
} from '@aws-sdk/client-ec2';
import type { SimContext } from '../../core/context';
import { isoTime, type Out } from '../shared';
import { checkFilterNames, matchesFilters, tagFilterValues, wildcardMatch } from './filters';
import { DEFAULT_ROOT_VOLUME_GIB, ec2Error, IMAGE_ID, required, ROOT_DEVICE_NAME } from './model';
import type { Ec2Timings, ImageRecord, ImageState, VolumeSpec } from './model';
import { derivedId, type Snapshots } from './snapshots';
import type { Ec2Store } from './store';
import { tagsFor, toTagList } from './tags';

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

/**
 * How a story or test wants new images to go: how long they stay pending and how they end. The
 * first plan matching an image (by name and operation) decides; without one, the region's timings
 * apply and the image becomes available (unless a `create-image-failure` fault strikes). Each
 * region is its own `Ec2Sim`, so a copy's plan is given to the destination region's.
 */
export interface ImagePlan {
  /** The image's name, with EC2's `*` and `?` wildcards; every image when omitted. */
  name?: string;
  /** CreateImage or CopyImage; both when omitted. */
  operation?: 'create' | 'copy';
  /** Virtual minutes the image stays pending; the region's timing when omitted. */
  minutes?: number;
  /** How the image ends; `available` when omitted. */
  outcome?: 'available' | 'failed';
}

/** What SSM needs to answer public AMI parameters. */
export interface PublicAmiCatalog {
  publicAmiParameter(name: string): string | undefined;
}

/** The account that owns Amazon's public AMIs (as DescribeImages reports it). */
export const AMAZON_OWNER_ID = '137112412989';

const MINUTE_MS = 60_000;

/** `ms` plus whole calendar years (UTC). */
function addYears(ms: number, years: number): number {
  const date = new Date(ms);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.getTime();
}

/**
 * CreateImage and CopyImage tag only the image and its snapshots: "If you specify other values for
 * ResourceType, the request fails" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html). The code and message
 * are moto's (test/conformance/ec2-snapshots.test.ts holds the sim to them).
 */
function checkImageTagTypes(specs: CreateImageCommandInput['TagSpecifications']): void {
  for (const spec of specs ?? []) {
    if (spec.ResourceType !== 'image' && spec.ResourceType !== 'snapshot') {
      throw ec2Error(
        'InvalidParameterValue',
        `'${spec.ResourceType ?? ''}' is not a valid taggable resource type for this operation.`,
      );
    }
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
  /** The volumes a copy snapshots anew in its own region. */
  volumes: VolumeSpec[];
}

/** One region's images, as CopyImage in another region reads them. */
export interface RegionalImages {
  readonly region: string;
  exportImage(imageId: string): ImageSnapshot | undefined;
}

/** Registry of several regions' images, so CopyImage can read from another region. */
export class Ec2Regions {
  private readonly regions = new Map<string, RegionalImages>();

  register(images: RegionalImages): void {
    this.regions.set(images.region, images);
  }

  get(region: string): RegionalImages | undefined {
    return this.regions.get(region);
  }
}

export class Images implements PublicAmiCatalog, RegionalImages {
  /** Public SSM parameter name → image id. */
  private readonly publicParameters = new Map<string, string>();
  /** CopyImage client token → the request it came with and the copy it made. */
  private readonly copyTokens = new Map<string, { fingerprint: string; imageId: string }>();
  private plans: ImagePlan[] = [];

  constructor(
    private readonly ctx: SimContext,
    private readonly store: Ec2Store,
    private readonly opts: Pick<Ec2Timings, 'imageCreateSeconds' | 'imageCopySeconds'>,
    private readonly regions: Ec2Regions | undefined,
    private readonly snapshots: Snapshots,
  ) {}

  /** Replaces the plans for images made from now on (see ImagePlan); `[]` restores the defaults. */
  planImages(plans: readonly ImagePlan[]): void {
    for (const [index, plan] of plans.entries()) {
      if (plan.minutes !== undefined && !(Number.isFinite(plan.minutes) && plan.minutes >= 0)) {
        throw new TypeError(`image plan ${index}: minutes must be a number of minutes, 0 or more`);
      }
    }
    this.plans = plans.map((plan) => ({ ...plan }));
  }

  get region(): string {
    return this.ctx.region;
  }

  // ---------------------------------------------------------------- base images and other regions

  /** Adds a base image (e.g. Amazon Linux) that exists from the start, available at once. */
  seedImage(spec: SeedImageSpec): string {
    const imageId = spec.imageId ?? this.ctx.ids.next('ami');
    const isAmazon = spec.ownerAlias === 'amazon';
    const ownerId = spec.ownerId ?? (isAmazon ? AMAZON_OWNER_ID : this.ctx.accountId);
    const root: VolumeSpec = {
      deviceName: ROOT_DEVICE_NAME,
      volumeSize: DEFAULT_ROOT_VOLUME_GIB,
      volumeType: 'gp3',
    };
    const image: ImageRecord = {
      imageId,
      name: spec.name,
      description: spec.description ?? '',
      ownerId,
      ...(spec.ownerAlias !== undefined ? { ownerAlias: spec.ownerAlias } : {}),
      state: 'available',
      creationDate: isoTime(this.ctx.clock.now()),
      architecture: spec.architecture ?? 'x86_64',
      public: spec.public ?? isAmazon,
      tags: { ...spec.tags },
      requestId: this.ctx.ids.uuid(),
      blockDevices: [],
    };
    // Another account's snapshots are not this account's to describe or delete: only the id shows.
    image.blockDevices =
      ownerId === this.ctx.accountId
        ? this.snapshots.snapshotVolumes(image, [root], imageId, {})
        : [{ ...root, snapshotId: derivedId('snap', imageId, ROOT_DEVICE_NAME) }];
    this.snapshots.settle(image, 'completed');
    this.store.images.set(imageId, image);
    if (spec.publicParameter !== undefined) this.publicParameters.set(spec.publicParameter, imageId);
    return imageId;
  }

  publicAmiParameter(name: string): string | undefined {
    return this.publicParameters.get(name);
  }

  /** The data another region's sim needs to copy this image. */
  exportImage(imageId: string): ImageSnapshot | undefined {
    const image = this.store.images.get(imageId);
    if (!image) return undefined;
    return {
      imageId: image.imageId,
      name: image.name,
      description: image.description,
      architecture: image.architecture,
      state: image.state,
      tags: { ...image.tags },
      volumes: image.blockDevices.map(({ deviceName, volumeSize, volumeType }) => ({
        deviceName,
        volumeSize,
        volumeType,
      })),
    };
  }

  // ---------------------------------------------------------------- operations

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html
  createImage(input: CreateImageCommandInput): Out<CreateImageCommandOutput> {
    const instanceId = required(input.InstanceId, 'InstanceId');
    const name = required(input.Name, 'Name');
    const [instance] = this.store.requireInstances([instanceId]);
    if (!instance || (instance.state !== 'running' && instance.state !== 'stopped')) {
      throw ec2Error(
        'IncorrectInstanceState',
        `The instance '${instanceId}' is not in a state from which it can be imaged (running or stopped).`,
      );
    }
    this.validateImageName(name);
    checkImageTagTypes(input.TagSpecifications);
    const tags = tagsFor(input.TagSpecifications, 'image');
    // One snapshot per EBS volume of the instance; TagSpecifications of type `snapshot` tag them
    // from creation ("The same tag is applied to all of the snapshots that are created").
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html (TagSpecification)
    const snapshotTags = tagsFor(input.TagSpecifications, 'snapshot');
    const image = this.addPendingImage({
      name,
      description: input.Description ?? '',
      architecture: instance.architecture,
      tags,
      sourceInstanceId: instanceId,
    });
    image.blockDevices = this.snapshots.snapshotVolumes(image, instance.volumes, instanceId, snapshotTags);
    this.schedulePendingImage(image, 'create', this.opts.imageCreateSeconds);
    return { ImageId: image.imageId };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html
  copyImage(input: CopyImageCommandInput): Out<CopyImageCommandOutput> {
    // Same ClientToken and same request: the first copy; a different request: an error.
    // https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html
    const { ClientToken: token, ...request } = input;
    const fingerprint = JSON.stringify(request);
    const previous = token === undefined ? undefined : this.copyTokens.get(token);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        throw ec2Error(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a request that has different parameters.',
        );
      }
      return { ImageId: previous.imageId };
    }
    const name = required(input.Name, 'Name');
    const sourceImageId = required(input.SourceImageId, 'SourceImageId');
    const sourceRegion = required(input.SourceRegion, 'SourceRegion');
    const sourceImages = sourceRegion === this.region ? this : this.regions?.get(sourceRegion);
    if (!sourceImages) {
      throw ec2Error(
        'InvalidParameterValue',
        `Invalid value '${sourceRegion}' for SourceRegion: region not simulated`,
      );
    }
    if (!IMAGE_ID.test(sourceImageId)) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${sourceImageId}" (expecting "ami-...")`);
    }
    const source = sourceImages.exportImage(sourceImageId);
    if (!source) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${sourceImageId}]' does not exist`);
    if (source.state !== 'available') {
      throw ec2Error(
        'InvalidAMIID.Unavailable',
        `The image id '[${sourceImageId}]' is not available (${source.state})`,
      );
    }
    this.validateImageName(name);
    checkImageTagTypes(input.TagSpecifications);
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
    // The copy has snapshots of its own, in this region
    // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/CopyingAMIs.html), tagged from the
    // start by TagSpecifications of type `snapshot`: "The same tag is applied to all the new
    // snapshots" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html).
    // CopyImageTags copies the source image's tags to the new image only.
    image.blockDevices = this.snapshots.snapshotVolumes(
      image,
      source.volumes,
      `${sourceRegion}/${sourceImageId}`,
      tagsFor(input.TagSpecifications, 'snapshot'),
    );
    this.schedulePendingImage(image, 'copy', this.opts.imageCopySeconds);
    if (token !== undefined) this.copyTokens.set(token, { fingerprint, imageId: image.imageId });
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
    let candidates = [...this.store.images.values()].filter((image) => image.state !== 'deregistered');
    const byId = input.ImageIds !== undefined && input.ImageIds.length > 0;
    if (byId) {
      candidates = this.store.requireImages(input.ImageIds ?? []);
    }
    // "the deprecated AMI does not appear in DescribeImages API calls unless you specify its ID or
    // specify that deprecated AMIs must appear. AMI owners continue to see deprecated AMIs"
    // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html).
    if (!byId && input.IncludeDeprecated !== true) {
      const now = this.ctx.clock.now();
      candidates = candidates.filter(
        (image) =>
          image.ownerId === this.ctx.accountId ||
          image.deprecationTime === undefined ||
          image.deprecationTime > now,
      );
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
    const [image] = this.store.requireImages([imageId]);
    if (!image) throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (image.ownerId !== this.ctx.accountId) {
      throw ec2Error('AuthFailure', `Not authorized for image:${imageId}`);
    }
    this.setImageState(image, 'deregistered');
    this.store.images.delete(imageId);
    // "Specifies whether to delete the snapshots associated with the AMI during deregistration. If a
    // snapshot is associated with multiple AMIs, it is not deleted, regardless of this setting."
    // The answer lists each snapshot with its ReturnCode (same page, DeleteSnapshotReturnCode).
    if (input.DeleteAssociatedSnapshots === true) {
      return { Return: true, DeleteSnapshotResults: this.snapshots.deleteWithImage(image) };
    }
    return { Return: true };
  }

  /**
   * Sets when an image is deprecated
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageDeprecation.html):
   * "If you specify a value for seconds, Amazon EC2 rounds the seconds to the nearest minute. You
   * can't specify a date in the past. The upper limit for DeprecateAt is 10 years from now, except
   * for public AMIs, where the upper limit is 2 years from the creation date." Only the owner may
   * set it; setting it again replaces the time. AWS names no error code for a refused time: the
   * sandbox answers InvalidParameterValue, EC2's code for a value out of range
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
   */
  enableImageDeprecation(
    input: EnableImageDeprecationCommandInput,
  ): Out<EnableImageDeprecationCommandOutput> {
    const image = this.ownImage(required(input.ImageId, 'ImageId'));
    const deprecateAt = required(input.DeprecateAt, 'DeprecateAt');
    const at = deprecateAt.getTime();
    const now = this.ctx.clock.now();
    if (Number.isNaN(at) || at < now) {
      throw ec2Error(
        'InvalidParameterValue',
        `DeprecateAt ${isoTime(at)} is in the past; give a time after ${isoTime(now)}`,
      );
    }
    const limit = image.public ? addYears(Date.parse(image.creationDate), 2) : addYears(now, 10);
    if (at > limit) {
      throw ec2Error(
        'InvalidParameterValue',
        `DeprecateAt ${isoTime(at)} is later than ${isoTime(limit)}, the latest allowed for this ${image.public ? 'public AMI (2 years after its creation)' : 'AMI (10 years from now)'}`,
      );
    }
    image.deprecationTime = Math.round(at / MINUTE_MS) * MINUTE_MS;
    this.ctx.timeline.record({
      kind: 'log',
      message: `${image.imageId} deprecated from ${isoTime(image.deprecationTime)}`,
    });
    return { Return: true };
  }

  /**
   * Cancels an image's deprecation
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableImageDeprecation.html);
   * for an image without one, nothing changes and the answer is the same.
   */
  disableImageDeprecation(
    input: DisableImageDeprecationCommandInput,
  ): Out<DisableImageDeprecationCommandOutput> {
    const image = this.ownImage(required(input.ImageId, 'ImageId'));
    if (image.deprecationTime !== undefined) {
      delete image.deprecationTime;
      this.ctx.timeline.record({ kind: 'log', message: `${image.imageId} deprecation cancelled` });
    }
    return { Return: true };
  }

  // ---------------------------------------------------------------- helpers

  /** An image of this account, or the error EC2 gives for an unknown or someone else's image. */
  private ownImage(imageId: string): ImageRecord {
    if (!IMAGE_ID.test(imageId)) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    }
    const image = this.store.images.get(imageId);
    if (!image || image.state === 'deregistered') {
      throw ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    }
    if (image.ownerId !== this.ctx.accountId) {
      throw ec2Error('AuthFailure', `Not authorized for image:${imageId}`);
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
    const clash = [...this.store.images.values()].find(
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
      blockDevices: [],
      ...(params.sourceInstanceId !== undefined ? { sourceInstanceId: params.sourceInstanceId } : {}),
      ...(params.sourceImageId !== undefined ? { sourceImageId: params.sourceImageId } : {}),
      ...(params.sourceImageRegion !== undefined ? { sourceImageRegion: params.sourceImageRegion } : {}),
    };
    this.store.images.set(image.imageId, image);
    this.ctx.timeline.record({ kind: 'state', resource: image.imageId, from: null, to: 'pending' });
    return image;
  }

  private schedulePendingImage(image: ImageRecord, operation: 'create' | 'copy', seconds: number): void {
    const plan = this.plans.find(
      (p) =>
        (p.operation === undefined || p.operation === operation) &&
        (p.name === undefined || wildcardMatch(p.name, image.name)),
    );
    const pendingMs = plan?.minutes !== undefined ? plan.minutes * 60_000 : seconds * 1000;
    this.ctx.clock.setTimeout(() => {
      if (image.state !== 'pending') return;
      if (plan?.outcome === 'failed' || this.ctx.faults.should('create-image-failure', image.imageId)) {
        image.stateReason = {
          code: 'Server.InternalError',
          message: 'Server.InternalError: Image creation failed',
        };
        this.snapshots.settle(image, 'error');
        this.setImageState(image, 'failed');
        return;
      }
      this.snapshots.settle(image, 'completed');
      this.setImageState(image, 'available');
    }, pendingMs);
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
      resources: [`arn:aws:ec2:${this.ctx.region}::image/${image.imageId}`],
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
      BlockDeviceMappings: image.blockDevices.map((device) => ({
        DeviceName: device.deviceName,
        Ebs: {
          DeleteOnTermination: true,
          SnapshotId: device.snapshotId,
          VolumeSize: device.volumeSize,
          VolumeType: device.volumeType as VolumeType,
          Encrypted: false,
        },
      })),
      ...(image.ownerAlias !== undefined ? { ImageOwnerAlias: image.ownerAlias } : {}),
      ...(image.sourceInstanceId !== undefined ? { SourceInstanceId: image.sourceInstanceId } : {}),
      ...(image.sourceImageId !== undefined ? { SourceImageId: image.sourceImageId } : {}),
      ...(image.sourceImageRegion !== undefined ? { SourceImageRegion: image.sourceImageRegion } : {}),
      ...(image.stateReason
        ? { StateReason: { Code: image.stateReason.code, Message: image.stateReason.message } }
        : {}),
      ...(Object.keys(image.tags).length > 0 ? { Tags: toTagList(image.tags) } : {}),
      // Shown whether the time has come or is still ahead ("the date and time to deprecate the
      // AMI"; https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Image.html).
      ...(image.deprecationTime !== undefined ? { DeprecationTime: isoTime(image.deprecationTime) } : {}),
    };
  }
}
