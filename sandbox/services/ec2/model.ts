/**
 * EC2's records as the simulator keeps them, the timings of its transitions, and the errors and
 * identifier formats every part checks requests against.
 */
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import type { RequestLaunchTemplateData } from '@aws-sdk/client-ec2';
import type { TimerHandle, VirtualMs } from '../../core/context';
import type { InstanceState } from '../fleet';
import { clientError, requiredWith } from '../shared';

export interface SubnetSpec {
  subnetId: string;
  availabilityZone: string;
  vpcId: string;
}

/** How long EC2's transitions take, in virtual seconds. */
export interface Ec2Timings {
  /** Seconds from pending to running (plus jitter). */
  bootSeconds: number;
  /** Upper bound of the seeded extra boot time, in seconds. */
  bootJitterSeconds: number;
  /** Seconds from stopping to stopped. */
  stopSeconds: number;
  /** Seconds from shutting-down to terminated. */
  shutdownSeconds: number;
  /** Seconds a CreateImage stays pending. */
  imageCreateSeconds: number;
  /** Seconds a CopyImage stays pending. */
  imageCopySeconds: number;
  /** How long a terminated instance stays visible to DescribeInstances. */
  terminatedVisibleSeconds: number;
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
export const STATE_CODES: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export type ImageState = 'pending' | 'available' | 'failed' | 'deregistered';

/** An EBS volume of an instance (or of an image's block device mapping), by device name. */
export interface VolumeSpec {
  deviceName: string;
  volumeSize: number;
  volumeType: string;
}

/** One EBS block device mapping of an image: the volume and the snapshot it is restored from. */
export interface BlockDevice extends VolumeSpec {
  snapshotId: string;
}

export type SnapshotState = 'pending' | 'completed' | 'error';

export interface SnapshotRecord {
  snapshotId: string;
  volumeId: string;
  volumeSize: number;
  state: SnapshotState;
  startTime: VirtualMs;
  description: string;
  ownerId: string;
  tags: Record<string, string>;
}

/** The root device of the images the sandbox makes and seeds (Amazon Linux's). */
export const ROOT_DEVICE_NAME = '/dev/xvda';
/** Amazon Linux 2023's root volume size, for seeded images and instances that ask for none. */
export const DEFAULT_ROOT_VOLUME_GIB = 8;

export interface ImageRecord {
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
  /** Epoch ms, on a whole minute (EnableImageDeprecation); absent when no deprecation is set. */
  deprecationTime?: number;
  /** Its EBS volumes' snapshots (DescribeImages' BlockDeviceMappings). */
  blockDevices: BlockDevice[];
}

export interface InstanceRecord {
  instanceId: string;
  imageId: string;
  instanceType: string;
  state: InstanceState;
  subnet: SubnetSpec;
  privateIpAddress: string;
  launchTime: VirtualMs;
  // `| undefined` (also `timer`): cleared by assignment, not `delete`, which would turn the record
  // into a slow dictionary-mode object (read on every health check and traffic tick).
  runningSince?: VirtualMs | undefined;
  launchTemplate?: { launchTemplateId: string; launchTemplateName: string; version: number };
  tags: Record<string, string>;
  reservationId: string;
  amiLaunchIndex: number;
  clientToken?: string;
  keyName?: string;
  /** Instance metadata options, when the launch asked for any (IMDSv2 `required` or `optional`). */
  metadataOptions?: { httpTokens: 'required' | 'optional'; httpEndpoint: 'enabled' | 'disabled' };
  securityGroupIds: string[];
  architecture: 'x86_64' | 'arm64';
  stateReason?: { code: string; message: string };
  stateTransitionReason: string;
  /** EBS volumes: the image's, as the launch's BlockDeviceMappings resized them or added to them. */
  volumes: VolumeSpec[];
  /** The image as it was at launch: behaviour survives a later DeregisterImage. */
  image: { imageId: string; name: string; tags: Record<string, string> };
  timer?: TimerHandle | undefined;
}

export interface LaunchTemplateVersionRecord {
  number: number;
  description?: string;
  createTime: VirtualMs;
  data: RequestLaunchTemplateData;
}

export interface LaunchTemplateRecord {
  id: string;
  name: string;
  createTime: VirtualMs;
  defaultVersion: number;
  latestVersion: number;
  versions: Map<number, LaunchTemplateVersionRecord>;
  tags: Record<string, string>;
}

export interface ReservationRecord {
  reservationId: string;
  instanceIds: string[];
}

/** The SDK's exception, as AWS's EC2 query protocol reports a client error. */
export function ec2Error(code: string, message: string): EC2ServiceException {
  return clientError(EC2ServiceException, code, message);
}

// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (MissingParameter)
export const required = requiredWith(
  (name) => ec2Error('MissingParameter', `The request must contain the parameter ${name}`),
  { emptyStringIsMissing: true },
);

export const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const IMAGE_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;
export const SNAPSHOT_ID = /^snap-[0-9a-f]{8}([0-9a-f]{9})?$/;
