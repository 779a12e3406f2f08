/**
 * The EC2 adapter for the bake: launch the builder, stop it, image it, tag, copy, and clean up,
 * speaking Kiln's types. Every mutating call is idempotent, so a retried step (Lambda retry, ASL
 * Retry, replayed event) never makes a second builder, image or copy:
 * - RunInstances and CopyImage carry a client token the caller derives (`clientToken` in
 *   shared/domain/ids.ts): "If you repeat the request with the same client token and the same
 *   parameters, the API returns the same result"
 *   (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html);
 * - CreateImage takes no token; its name is unique per account and Region, so a second call with
 *   the same (deterministic) name is refused `InvalidAMIName.Duplicate` and the adapter answers
 *   with the image that has it;
 * - stopping a stopped instance, terminating a terminated one, deregistering a deregistered image
 *   and deleting a deleted snapshot are success ("already done" is the same thing).
 * Error codes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 * Which failure means what for the deployment is the caller's policy; the adapter only names it.
 */
import {
  CopyImageCommand,
  CreateImageCommand,
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DisableImageDeprecationCommand,
  EnableImageDeprecationCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Image,
  type Tag,
  type TagSpecification,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { AwsRequestRefusedError, BaseImageNotFoundError, InstanceNotReadyError } from '../domain/step-errors';
import { callAws } from './aws-errors';

/** What the bake asks of its builder instance. */
export interface BuilderSpec {
  /** The base AMI (already resolved from an SSM parameter, if the manifest names one). */
  imageId: string;
  instanceType: string;
  subnetId: string;
  securityGroupIds: readonly string[];
  /** Instance profile name or ARN (Systems Manager needs one to manage the builder). */
  instanceProfile?: string;
  /** Root volume size in GiB; the AMI's own size when omitted. */
  volumeSizeGiB?: number;
  /** Tags on the instance and its volumes from creation (the deployment id among them). */
  tags: Readonly<Record<string, string>>;
  /** From `clientToken([deploymentId, 'launch-builder', region])`. */
  clientToken: string;
}

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** An image as the bake sees it. */
export interface ImageStatus {
  imageId: string;
  name: string;
  state: 'pending' | 'available' | 'failed' | 'invalid' | 'deregistered' | 'transient' | 'error' | 'disabled';
  /** The EBS snapshots behind the image (its block device mappings). */
  snapshotIds: string[];
  tags: Record<string, string>;
  /** Why a failed image failed, as EC2 says it. */
  stateReason?: string;
  /** When the image is (or was) deprecated, epoch ms; absent when no deprecation is set. */
  deprecationTime?: number;
}

/** What became of an image retention acted on: done now, or found already so. */
export type ImageChange = 'done' | 'already-gone';

/** Image ids per DescribeImages call when retention reads a Region's releases. */
const DESCRIBE_BATCH = 100;

/** The root device most Linux AMIs use; only its size is set. */
const ROOT_DEVICE = '/dev/xvda';

export class Ec2Bake {
  constructor(private readonly client: EC2Client) {}

  /**
   * Launches one builder instance with IMDSv2 required (`HttpTokens: 'required'`: "IMDSv2 …
   * session tokens are required", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceMetadataOptionsRequest.html)
   * and the tags on the instance and its volumes from the start (TagSpecifications), so a builder
   * is never untagged. The same client token answers with the same instance.
   */
  async launchBuilder(spec: BuilderSpec): Promise<{ instanceId: string }> {
    const tags = toTags(spec.tags);
    const result = await this.call(`launch the builder from ${spec.imageId}`, () =>
      this.client.send(
        new RunInstancesCommand({
          ImageId: spec.imageId,
          InstanceType: spec.instanceType as _InstanceType,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: spec.subnetId,
          SecurityGroupIds: [...spec.securityGroupIds],
          ClientToken: spec.clientToken,
          MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
          ...(spec.instanceProfile === undefined
            ? {}
            : {
                IamInstanceProfile: spec.instanceProfile.startsWith('arn:')
                  ? { Arn: spec.instanceProfile }
                  : { Name: spec.instanceProfile },
              }),
          ...(spec.volumeSizeGiB === undefined
            ? {}
            : {
                BlockDeviceMappings: [
                  {
                    DeviceName: ROOT_DEVICE,
                    Ebs: { VolumeSize: spec.volumeSizeGiB, VolumeType: 'gp3', DeleteOnTermination: true },
                  },
                ],
              }),
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags },
            { ResourceType: 'volume', Tags: tags },
          ],
        }),
      ),
    );
    const instanceId = result.Instances?.[0]?.InstanceId;
    if (instanceId === undefined) throw new Error('RunInstances answered without an instance id');
    return { instanceId };
  }

  /** The builder's state, or `undefined` once EC2 no longer knows it. */
  async instanceState(instanceId: string): Promise<InstanceState | undefined> {
    const result = await this.call(
      `describe instance ${instanceId}`,
      () => this.client.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
      { 'InvalidInstanceID.NotFound': () => ({ Reservations: [] }) },
    );
    return result.Reservations?.[0]?.Instances?.[0]?.State?.Name as InstanceState | undefined;
  }

  /**
   * Stops the builder (a stopped instance images consistently). Stopping one that is stopping or
   * stopped succeeds (EC2 answers with its current state); one still `pending` cannot be stopped
   * yet: InstanceNotReadyError.
   */
  async stopInstance(instanceId: string): Promise<void> {
    await this.call(
      `stop instance ${instanceId}`,
      () => this.client.send(new StopInstancesCommand({ InstanceIds: [instanceId] })),
      {
        IncorrectInstanceState: (error) => {
          throw new InstanceNotReadyError(`instance ${instanceId} cannot be stopped yet`, { cause: error });
        },
      },
    );
  }

  /**
   * Creates an image of the (stopped) builder under a deterministic name, the image and its
   * snapshots tagged from creation (imageTagSpecifications). When an image of that name already
   * exists (a retry), answers with it: `created` says which.
   */
  async createImage(input: {
    instanceId: string;
    name: string;
    description?: string;
    tags: Readonly<Record<string, string>>;
  }): Promise<{ imageId: string; created: boolean }> {
    let duplicate: unknown;
    const result = await this.call(
      `create image ${input.name}`,
      () =>
        this.client.send(
          new CreateImageCommand({
            InstanceId: input.instanceId,
            Name: input.name,
            ...(input.description === undefined ? {} : { Description: input.description }),
            TagSpecifications: imageTagSpecifications(input.tags),
          }),
        ),
      {
        'InvalidAMIName.Duplicate': (error) => {
          duplicate = error;
          return {};
        },
        IncorrectInstanceState: (error) => {
          throw new InstanceNotReadyError(`instance ${input.instanceId} cannot be imaged yet`, {
            cause: error,
          });
        },
      },
    );
    if (result.ImageId !== undefined && duplicate === undefined) {
      return { imageId: result.ImageId, created: true };
    }
    const existing = await this.findImageByName(input.name);
    if (!existing) {
      throw new AwsRequestRefusedError(
        `image name ${input.name} is in use, but no image of this account has it`,
        'InvalidAMIName.Duplicate',
        { cause: duplicate },
      );
    }
    return { imageId: existing.imageId, created: false };
  }

  /** This account's image of that name (names are unique per account and Region), if any. */
  async findImageByName(name: string): Promise<ImageStatus | undefined> {
    const result = await this.call(`find image ${name}`, () =>
      this.client.send(
        new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }),
      ),
    );
    const image = result.Images?.[0];
    return image ? toImageStatus(image) : undefined;
  }

  /** An image's state, snapshots and tags; `undefined` when it does not exist (any more). */
  async describeImage(imageId: string): Promise<ImageStatus | undefined> {
    const result = await this.call(
      `describe image ${imageId}`,
      () => this.client.send(new DescribeImagesCommand({ ImageIds: [imageId] })),
      // A malformed id names no image either.
      { 'InvalidAMIID.NotFound': () => ({ Images: [] }), 'InvalidAMIID.Malformed': () => ({ Images: [] }) },
    );
    const image = result.Images?.[0];
    return image ? toImageStatus(image) : undefined;
  }

  /**
   * The base image to launch from, checked: BaseImageNotFoundError when it does not exist or is
   * not `available` (a pending or failed base image cannot be launched).
   */
  async requireBaseImage(imageId: string): Promise<ImageStatus> {
    const image = await this.describeImage(imageId);
    if (!image || image.state !== 'available') {
      throw new BaseImageNotFoundError(
        image
          ? `base image ${imageId} is ${image.state}, not available`
          : `base image ${imageId} does not exist`,
      );
    }
    return image;
  }

  /** Tags an image and every snapshot behind it (CreateTags adds or overwrites; repeating is harmless). */
  async tagImage(
    image: Pick<ImageStatus, 'imageId' | 'snapshotIds'>,
    tags: Readonly<Record<string, string>>,
  ): Promise<void> {
    await this.call(`tag image ${image.imageId}`, () =>
      this.client.send(
        new CreateTagsCommand({ Resources: [image.imageId, ...image.snapshotIds], Tags: toTags(tags) }),
      ),
    );
  }

  /**
   * Copies an image from another Region into this client's Region, the new image and its new
   * snapshots tagged from the start (imageTagSpecifications). The client token (from
   * `clientToken([deploymentId, 'copy-image', region])`) makes a repeated copy answer with the
   * first copy's image id.
   */
  async copyImage(input: {
    sourceImageId: string;
    sourceRegion: string;
    name: string;
    description?: string;
    clientToken: string;
    tags: Readonly<Record<string, string>>;
  }): Promise<{ imageId: string }> {
    const result = await this.call(`copy image ${input.sourceImageId} from ${input.sourceRegion}`, () =>
      this.client.send(
        new CopyImageCommand({
          SourceImageId: input.sourceImageId,
          SourceRegion: input.sourceRegion,
          Name: input.name,
          ClientToken: input.clientToken,
          ...(input.description === undefined ? {} : { Description: input.description }),
          TagSpecifications: imageTagSpecifications(input.tags),
        }),
      ),
    );
    if (result.ImageId === undefined) throw new Error('CopyImage answered without an image id');
    return { imageId: result.ImageId };
  }

  /**
   * Deletes an image and its snapshots (a failed or abandoned bake leaves nothing behind); an
   * image already gone is success.
   */
  async deleteImage(imageId: string): Promise<void> {
    // One call, as retention does (deregisterImageAndSnapshots): deregistering first and deleting
    // the snapshots after left a window in which a crash orphaned them, since a retry no longer
    // finds the image that named them.
    await this.deregisterImageAndSnapshots(imageId);
  }

  /** Terminates the builder; one already terminated, or no longer known, is success. */
  async terminateInstance(instanceId: string): Promise<void> {
    await this.call(
      `terminate instance ${instanceId}`,
      () => this.client.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })),
      { 'InvalidInstanceID.NotFound': () => ({}) },
    );
  }

  // ---------------------------------------------------------------- image retention

  /**
   * This account's images among `imageIds` (one DescribeImages call per 100 ids), deprecated ones
   * included. Filtering by `image-id` with `Owners: ['self']`, rather than `ImageIds`, answers an
   * id that no longer exists (or belongs to another account) with nothing instead of failing the
   * whole call with InvalidAMIID.NotFound. Owners see their deprecated AMIs in DescribeImages
   * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html).
   */
  async describeOwnImages(imageIds: readonly string[]): Promise<ImageStatus[]> {
    const found: ImageStatus[] = [];
    for (let i = 0; i < imageIds.length; i += DESCRIBE_BATCH) {
      const batch = imageIds.slice(i, i + DESCRIBE_BATCH);
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const result = await this.call(`describe images ${batch.join(', ')}`, () =>
          this.client.send(
            new DescribeImagesCommand({
              Owners: ['self'],
              Filters: [{ Name: 'image-id', Values: batch }],
              IncludeDeprecated: true,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          ),
        );
        for (const image of result.Images ?? []) found.push(toImageStatus(image));
        nextToken = result.NextToken;
      } while (nextToken !== undefined);
    }
    return found;
  }

  /**
   * Deprecates an image at `deprecateAt` (epoch ms; EC2 refuses a time in the past and rounds
   * seconds to the minute:
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EnableImageDeprecation.html).
   * Setting it again replaces the time, so a repeat is harmless; an image that no longer exists
   * has nothing to deprecate.
   */
  async deprecateImage(imageId: string, deprecateAt: number): Promise<ImageChange> {
    let change: ImageChange = 'done';
    await this.call(
      `deprecate image ${imageId}`,
      () =>
        this.client.send(
          new EnableImageDeprecationCommand({ ImageId: imageId, DeprecateAt: new Date(deprecateAt) }),
        ),
      {
        'InvalidAMIID.NotFound': () => {
          change = 'already-gone';
          return {};
        },
      },
    );
    return change;
  }

  /**
   * Cancels an image's deprecation (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisableImageDeprecation.html);
   * cancelling it twice is harmless.
   */
  async cancelImageDeprecation(imageId: string): Promise<ImageChange> {
    let change: ImageChange = 'done';
    await this.call(
      `cancel the deprecation of image ${imageId}`,
      () => this.client.send(new DisableImageDeprecationCommand({ ImageId: imageId })),
      {
        'InvalidAMIID.NotFound': () => {
          change = 'already-gone';
          return {};
        },
      },
    );
    return change;
  }

  /**
   * Deregisters an image and deletes its snapshots in the same call (`DeleteAssociatedSnapshots`:
   * "If a snapshot is associated with multiple AMIs, it is not deleted", the AMI is deregistered
   * anyway; https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html). One
   * call leaves no moment in which the image is gone but its snapshots are not yet deleted and no
   * longer named anywhere, so a run cut short can never orphan them. Answers the snapshots EC2
   * reports deleting (with their return codes); an image already gone is success.
   */
  async deregisterImageAndSnapshots(
    imageId: string,
  ): Promise<{ change: ImageChange; snapshots: Array<{ snapshotId: string; result: string }> }> {
    let change: ImageChange = 'done';
    const result = await this.call(
      `deregister image ${imageId} with its snapshots`,
      () =>
        this.client.send(new DeregisterImageCommand({ ImageId: imageId, DeleteAssociatedSnapshots: true })),
      {
        'InvalidAMIID.NotFound': () => {
          change = 'already-gone';
          return {};
        },
        'InvalidAMIID.Unavailable': () => {
          change = 'already-gone';
          return {};
        },
      },
    );
    const snapshots = (result.DeleteSnapshotResults ?? []).map((entry) => ({
      snapshotId: entry.SnapshotId ?? '',
      result: entry.ReturnCode ?? 'unknown',
    }));
    return { change, snapshots };
  }

  /**
   * This account's images carrying every one of `tags` (tag filters,
   * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html), in any state
   * EC2 still lists. The bake cache looks for an earlier bake's image by its lineage this way, and
   * clean-up for a deployment's images.
   */
  async findImagesByTags(tags: Readonly<Record<string, string>>): Promise<ImageStatus[]> {
    const result = await this.call('find images by tags', () =>
      this.client.send(
        new DescribeImagesCommand({
          Owners: ['self'],
          Filters: Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
        }),
      ),
    );
    return (result.Images ?? []).map(toImageStatus);
  }

  /** Instances carrying every one of `tags` that are not terminated (or terminating). */
  async findLiveInstancesByTags(
    tags: Readonly<Record<string, string>>,
  ): Promise<Array<{ instanceId: string; state: InstanceState; tags: Record<string, string> }>> {
    const found: Array<{ instanceId: string; state: InstanceState; tags: Record<string, string> }> = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call('find instances by tags', () =>
        this.client.send(
          new DescribeInstancesCommand({
            Filters: [
              ...Object.entries(tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
              { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
            ],
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
        ),
      );
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId === undefined) continue;
          const instanceTags: Record<string, string> = {};
          for (const tag of instance.Tags ?? [])
            if (tag.Key !== undefined) instanceTags[tag.Key] = tag.Value ?? '';
          found.push({
            instanceId: instance.InstanceId,
            state: (instance.State?.Name ?? 'pending') as InstanceState,
            tags: instanceTags,
          });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return found;
  }

  /** One call through the shared mapping of AWS errors (aws-errors.ts, `callAws`). */
  private call<T>(
    what: string,
    send: () => Promise<T>,
    handled: Record<string, (error: Error) => Partial<T>> = {},
  ): Promise<T> {
    return callAws('EC2', what, send, handled);
  }
}

function toTags(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * The same tags on a new image and on every snapshot EC2 makes for it. The snapshots must carry
 * them from creation, not only from tagImage once the image is available: the bake roles may
 * delete only snapshots tagged `kiln:role=image` (serverless.yml), so an image that fails or is
 * abandoned while pending would otherwise leave snapshots Kiln may not delete
 * (DeregisterImage's DeleteAssociatedSnapshots answers them one by one as not permitted).
 * CreateImage: "To tag the snapshots that are created of the root volume and of other Amazon EBS
 * volumes that are attached to the instance, the value for ResourceType must be snapshot"
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html); CopyImage: "To
 * tag the new snapshots, the value for ResourceType must be snapshot"
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html).
 */
function imageTagSpecifications(tags: Readonly<Record<string, string>>): TagSpecification[] {
  const list = toTags(tags);
  return [
    { ResourceType: 'image', Tags: list },
    { ResourceType: 'snapshot', Tags: list },
  ];
}

function toImageStatus(image: Image): ImageStatus {
  const tags: Record<string, string> = {};
  for (const tag of image.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
  return {
    imageId: image.ImageId ?? '',
    name: image.Name ?? '',
    state: (image.State ?? 'pending') as ImageStatus['state'],
    snapshotIds: (image.BlockDeviceMappings ?? []).flatMap((mapping) =>
      mapping.Ebs?.SnapshotId === undefined ? [] : [mapping.Ebs.SnapshotId],
    ),
    tags,
    ...(image.StateReason?.Message === undefined ? {} : { stateReason: image.StateReason.Message }),
    ...(image.DeprecationTime === undefined || Number.isNaN(Date.parse(image.DeprecationTime))
      ? {}
      : { deprecationTime: Date.parse(image.DeprecationTime) }),
  };
}
