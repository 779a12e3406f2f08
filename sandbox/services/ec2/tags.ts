/**
 * EC2 tags: the rules a tag must follow, the tags TagSpecifications give a new resource, and
 * CreateTags, DeleteTags and DescribeTags across instances, images, snapshots and launch templates.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html
 */
import type {
  CreateTagsCommandInput,
  CreateTagsCommandOutput,
  DeleteTagsCommandInput,
  DeleteTagsCommandOutput,
  DescribeTagsCommandInput,
  DescribeTagsCommandOutput,
  Tag,
  TagDescription,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import type { SimContext } from '../../core/context';
import type { Out } from '../shared';
import { checkFilterNames, matchesFilters } from './filters';
import { ec2Error, required } from './model';
import type { Ec2Store } from './store';

export function toTagList(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Tags that a TagSpecifications list assigns to one resource type. */
export function tagsFor(
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
export function validateTag(tag: Tag): void {
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

export class Tags {
  constructor(
    private readonly ctx: SimContext,
    private readonly store: Ec2Store,
  ) {}

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
    this.store.instancesVersion++;
    return {};
  }

  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html
  deleteTags(input: DeleteTagsCommandInput): Out<DeleteTagsCommandOutput> {
    const resources = required(input.Resources, 'ResourceId');
    const targets = resources.map((id) => this.taggable(id));
    this.store.instancesVersion++;
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
    for (const record of this.store.instances.values()) add(record.instanceId, 'instance', record.tags);
    for (const image of this.store.images.values())
      if (image.ownerId === this.ctx.accountId) add(image.imageId, 'image', image.tags);
    for (const template of this.store.launchTemplates.values())
      add(template.id, 'launch-template', template.tags);
    for (const snapshot of this.store.snapshots.values()) add(snapshot.snapshotId, 'snapshot', snapshot.tags);
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

  /** The live tag map of a resource, by id prefix. */
  private taggable(resourceId: string): Record<string, string> {
    if (resourceId.startsWith('i-')) {
      const [record] = this.store.requireInstances([resourceId]);
      if (record) return record.tags;
    } else if (resourceId.startsWith('ami-')) {
      const [image] = this.store.requireImages([resourceId]);
      if (image) return image.tags;
    } else if (resourceId.startsWith('lt-')) {
      return this.store.findTemplate(resourceId, undefined).tags;
    } else if (resourceId.startsWith('snap-')) {
      const snapshot = this.store.snapshots.get(resourceId);
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
      if (!snapshot)
        throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${resourceId}' does not exist.`);
      return snapshot.tags;
    }
    throw ec2Error('InvalidID', `The ID '${resourceId}' is not valid`);
  }
}
