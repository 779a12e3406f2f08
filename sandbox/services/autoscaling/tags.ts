/**
 * Auto Scaling group tags: CreateOrUpdateTags, DeleteTags and DescribeTags, and the tag filters of
 * DescribeAutoScalingGroups. Tags live on the group (Group.tags); PropagateAtLaunch says whether
 * instances launched from then on carry the tag.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html
 */
import type {
  CreateOrUpdateTagsType,
  DeleteTagsType,
  DescribeTagsType,
  Filter,
  Tag,
  TagDescription,
  TagsType,
} from '@aws-sdk/client-auto-scaling';
import { required, validationError } from './errors';
import type { Group } from './model';
import type { AutoScaling } from './parts';

/**
 * Refuses a DescribeAutoScalingGroups filter other than `tag-key`, `tag-value` and `tag:<key>`
 * (the API reference lists no other; the wording is the sandbox's), even when no group exists.
 */
export function checkGroupFilters(filters: readonly Filter[]): void {
  for (const filter of filters) {
    const name = required(filter.Name, 'Filters.member.Name');
    if (name !== 'tag-key' && name !== 'tag-value' && !name.startsWith('tag:')) {
      throw validationError(`Filters: ${name} is not a valid filter for DescribeAutoScalingGroups`);
    }
  }
}

/**
 * Whether a group passes DescribeAutoScalingGroups' Filters (checked by checkGroupFilters):
 * `tag-key`, `tag-value` and `tag:<key>`; a filter matches when any of its values does, filters
 * are ANDed, values are exact and case-sensitive (no wildcards).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Filter.html,
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/use-tag-filters-aws-cli.html
 */
export function matchesGroupFilters(group: Group, filters: readonly Filter[]): boolean {
  return filters.every((filter) => {
    const name = filter.Name ?? '';
    const values = filter.Values ?? [];
    if (name === 'tag-key') return group.tags.some((tag) => values.includes(tag.Key ?? ''));
    if (name === 'tag-value') return group.tags.some((tag) => values.includes(tag.Value ?? ''));
    const key = name.slice('tag:'.length);
    return group.tags.some((tag) => tag.Key === key && values.includes(tag.Value ?? ''));
  });
}

/** DescribeTags' filters: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_Filter.html */
const TAG_FILTERS: Record<string, (tag: TagDescription) => string> = {
  'auto-scaling-group': (tag) => tag.ResourceId ?? '',
  key: (tag) => tag.Key ?? '',
  value: (tag) => tag.Value ?? '',
  'propagate-at-launch': (tag) => String(tag.PropagateAtLaunch ?? false),
};

export class GroupTags {
  constructor(private readonly asg: AutoScaling) {}

  /**
   * Adds or replaces tags by key; "When you specify a tag with a key that already exists, the
   * operation overwrites the previous tag definition".
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateOrUpdateTags.html
   */
  createOrUpdateTags(input: CreateOrUpdateTagsType): object {
    for (const tag of required(input.Tags, 'Tags')) {
      const group = this.groupOf(tag);
      const key = required(tag.Key, 'Tags.member.Key');
      const next = {
        ResourceId: group.name,
        ResourceType: 'auto-scaling-group',
        Key: key,
        Value: tag.Value ?? '',
        PropagateAtLaunch: tag.PropagateAtLaunch ?? false,
      };
      const at = group.tags.findIndex((existing) => existing.Key === key);
      if (at >= 0) group.tags[at] = next;
      else group.tags.push(next);
    }
    return {};
  }

  /** https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteTags.html */
  deleteTags(input: DeleteTagsType): object {
    for (const tag of required(input.Tags, 'Tags')) {
      const group = this.groupOf(tag);
      const key = required(tag.Key, 'Tags.member.Key');
      group.tags = group.tags.filter((existing) => existing.Key !== key);
    }
    return {};
  }

  /**
   * Every group's tags that pass every filter (a tag passes a filter when it matches any of its
   * values), paged by MaxRecords (default 50, at most 100).
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeTags.html
   */
  describeTags(input: DescribeTagsType): TagsType {
    const filters = input.Filters ?? [];
    for (const filter of filters) {
      const name = required(filter.Name, 'Filters.member.Name');
      if (!(name in TAG_FILTERS)) {
        throw validationError(`Filters: ${name} is not a valid filter for DescribeTags`);
      }
    }
    const all = this.asg.groups
      .all()
      .flatMap((group) => group.tags.map((tag) => ({ ...tag, ResourceId: group.name })))
      .filter((tag) =>
        filters.every((filter) => {
          const read = TAG_FILTERS[filter.Name ?? ''];
          return read !== undefined && (filter.Values ?? []).includes(read(tag));
        }),
      );
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 50, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    if (!Number.isInteger(start) || start < 0) throw validationError('NextToken is invalid');
    const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
    return { Tags: all.slice(start, start + pageSize), ...(next ? { NextToken: next } : {}) };
  }

  private groupOf(tag: Tag): Group {
    if ((tag.ResourceType ?? 'auto-scaling-group') !== 'auto-scaling-group') {
      throw validationError(`Tags: ResourceType must be auto-scaling-group, got ${tag.ResourceType}`);
    }
    return this.asg.groups.get(required(tag.ResourceId, 'Tags.member.ResourceId'));
  }
}
