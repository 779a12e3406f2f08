/**
 * EBS snapshots behind AMIs: CreateImage (and CopyImage) make one snapshot per EBS volume, which
 * the image's block device mappings name; DescribeSnapshots; DeleteSnapshot, refused while a
 * registered AMI uses the snapshot. Deregistering an AMI leaves its snapshots (they are deleted on
 * their own), unless DeregisterImage is told `DeleteAssociatedSnapshots`. Volumes and standalone CreateSnapshot are not modelled: snapshots exist only behind
 * images.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/creating-an-ami-ebs.html
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/deregister-ami.html
 */
import { createHash } from 'node:crypto';
import type {
  DeleteSnapshotCommandInput,
  DeleteSnapshotCommandOutput,
  DescribeSnapshotsCommandInput,
  DescribeSnapshotsCommandOutput,
  Snapshot,
} from '@aws-sdk/client-ec2';
import type { SimContext } from '../../core/context';
import type { Out } from '../shared';
import { checkFilterNames, matchesFilters, tagFilterValues } from './filters';
import { ec2Error, required, SNAPSHOT_ID } from './model';
import type { BlockDevice, ImageRecord, SnapshotRecord, VolumeSpec } from './model';
import type { Ec2Store } from './store';
import { toTagList } from './tags';

/**
 * An id drawn from what it belongs to, not from the seeded rng: snapshots and volumes are new
 * resources of calls that already existed, and drawing from the rng for them would shift every
 * later id of an existing seed's timeline.
 */
export function derivedId(prefix: 'snap' | 'vol', ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 17)}`;
}

export class Snapshots {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Ec2Store,
  ) {}

  /**
   * Snapshots the volumes of a new image (pending until the image settles) and returns the block
   * device mappings the image reports. `volumeOwner` keys the volume ids (the instance, or the
   * source image of a copy).
   */
  snapshotVolumes(
    image: Pick<ImageRecord, 'imageId' | 'name'>,
    volumes: readonly VolumeSpec[],
    volumeOwner: string,
    tags: Record<string, string>,
  ): BlockDevice[] {
    return volumes.map((volume) => {
      const snapshot: SnapshotRecord = {
        snapshotId: derivedId('snap', image.imageId, volume.deviceName),
        volumeId: derivedId('vol', volumeOwner, volume.deviceName),
        volumeSize: volume.volumeSize,
        state: 'pending',
        startTime: this.ctx.clock.now(),
        // EC2's own description of a CreateImage/CopyImage snapshot.
        description: `Created by CreateImage for ${image.imageId}`,
        ownerId: this.ctx.accountId,
        tags: { ...tags },
      };
      this.store.snapshots.set(snapshot.snapshotId, snapshot);
      return { ...volume, snapshotId: snapshot.snapshotId };
    });
  }

  /** The image's snapshots complete with it, or end in `error` when it fails. */
  settle(image: ImageRecord, to: 'completed' | 'error'): void {
    for (const device of image.blockDevices) {
      const snapshot = this.store.snapshots.get(device.snapshotId);
      if (snapshot && snapshot.state === 'pending') snapshot.state = to;
    }
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSnapshots.html
  describeSnapshots(input: DescribeSnapshotsCommandInput): Out<DescribeSnapshotsCommandOutput> {
    const filters = input.Filters ?? [];
    checkFilterNames(filters, [
      'description',
      'owner-id',
      'snapshot-id',
      'status',
      'volume-id',
      'volume-size',
      'encrypted',
      'tag-key',
      'tag-value',
    ]);
    let candidates = [...this.store.snapshots.values()];
    if (input.SnapshotIds && input.SnapshotIds.length > 0) candidates = this.require(input.SnapshotIds);
    if (input.OwnerIds && input.OwnerIds.length > 0) {
      const owners = input.OwnerIds;
      candidates = candidates.filter((snapshot) =>
        owners.some(
          (owner) =>
            (owner === 'self' && snapshot.ownerId === this.ctx.accountId) || owner === snapshot.ownerId,
        ),
      );
    }
    const Snapshots = candidates
      .filter((snapshot) => matchesFilters(filters, (name) => this.filterValues(snapshot, name)))
      .map((snapshot) => this.render(snapshot));
    return { Snapshots };
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSnapshot.html
  // "You cannot delete a snapshot of the root device of an EBS volume used by a registered AMI.
  // You must first deregister the AMI before you can delete the snapshot."
  deleteSnapshot(input: DeleteSnapshotCommandInput): Out<DeleteSnapshotCommandOutput> {
    const snapshotId = required(input.SnapshotId, 'SnapshotId');
    const [snapshot] = this.require([snapshotId]);
    if (!snapshot) throw notFound(snapshotId);
    const user = [...this.store.images.values()].find(
      (image) =>
        image.state !== 'deregistered' &&
        image.blockDevices.some((device) => device.snapshotId === snapshotId),
    );
    if (user) {
      throw ec2Error(
        'InvalidSnapshot.InUse',
        `The snapshot ${snapshotId} is currently in use by ${user.imageId}`,
      );
    }
    this.store.snapshots.delete(snapshotId);
    return {};
  }

  /**
   * DeregisterImage's `DeleteAssociatedSnapshots` for an image just deregistered: each of its
   * snapshots is deleted (`success`), or kept when another registered image still uses it
   * (`skipped`), as API_DeregisterImage.html says; one already gone is left out.
   */
  deleteWithImage(image: ImageRecord): Array<{ SnapshotId: string; ReturnCode: 'success' | 'skipped' }> {
    const results: Array<{ SnapshotId: string; ReturnCode: 'success' | 'skipped' }> = [];
    for (const { snapshotId } of image.blockDevices) {
      const snapshot = this.store.snapshots.get(snapshotId);
      if (!snapshot || snapshot.ownerId !== this.ctx.accountId) continue;
      const shared = [...this.store.images.values()].some(
        (other) =>
          other.imageId !== image.imageId &&
          other.state !== 'deregistered' &&
          other.blockDevices.some((device) => device.snapshotId === snapshotId),
      );
      if (!shared) this.store.snapshots.delete(snapshotId);
      results.push({ SnapshotId: snapshotId, ReturnCode: shared ? 'skipped' : 'success' });
    }
    return results;
  }

  private require(ids: readonly string[]): SnapshotRecord[] {
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    const malformed = ids.find((id) => !SNAPSHOT_ID.test(id));
    if (malformed !== undefined) {
      throw ec2Error('InvalidSnapshotID.Malformed', `Invalid id: "${malformed}" (expecting "snap-...")`);
    }
    const missing = ids.find((id) => !this.store.snapshots.has(id));
    if (missing !== undefined) throw notFound(missing);
    return [...new Set(ids)].flatMap((id) => {
      const snapshot = this.store.snapshots.get(id);
      return snapshot ? [snapshot] : [];
    });
  }

  private filterValues(snapshot: SnapshotRecord, name: string): string[] {
    const tagValues = tagFilterValues(snapshot.tags, name);
    if (tagValues) return tagValues;
    switch (name) {
      case 'description':
        return [snapshot.description];
      case 'owner-id':
        return [snapshot.ownerId];
      case 'snapshot-id':
        return [snapshot.snapshotId];
      case 'status':
        return [snapshot.state];
      case 'volume-id':
        return [snapshot.volumeId];
      case 'volume-size':
        return [String(snapshot.volumeSize)];
      case 'encrypted':
        return ['false'];
      default:
        return [];
    }
  }

  private render(snapshot: SnapshotRecord): Snapshot {
    return {
      SnapshotId: snapshot.snapshotId,
      VolumeId: snapshot.volumeId,
      VolumeSize: snapshot.volumeSize,
      State: snapshot.state,
      StartTime: new Date(snapshot.startTime),
      Progress: snapshot.state === 'pending' ? '0%' : '100%',
      OwnerId: snapshot.ownerId,
      Description: snapshot.description,
      Encrypted: false,
      StorageTier: 'standard',
      ...(Object.keys(snapshot.tags).length > 0 ? { Tags: toTagList(snapshot.tags) } : {}),
    };
  }
}

function notFound(snapshotId: string) {
  return ec2Error('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
}
