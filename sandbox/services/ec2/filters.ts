/**
 * EC2's Describe* filters: `Name`/`Values` pairs where values may hold wildcards.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Filtering.html
 */
import type { Filter } from '@aws-sdk/client-ec2';
import { ec2Error, required } from './model';

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
export function matchesFilters(filters: Filter[], valuesOf: (name: string) => string[]): boolean {
  return filters.every((filter) => {
    const wanted = filter.Values ?? [];
    const actual = valuesOf(filter.Name ?? '');
    return wanted.some((pattern) => actual.some((value) => wildcardMatch(pattern, value)));
  });
}

export function checkFilterNames(filters: Filter[], supported: readonly string[]): void {
  for (const filter of filters) {
    const name = required(filter.Name, 'Filter.Name');
    const isTag = name.startsWith('tag:') && name.length > 4;
    if (!isTag && !supported.includes(name)) {
      throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    }
  }
}

export function tagFilterValues(tags: Record<string, string>, name: string): string[] | undefined {
  if (name.startsWith('tag:')) {
    const value = tags[name.slice(4)];
    return value === undefined ? [] : [value];
  }
  if (name === 'tag-key') return Object.keys(tags);
  if (name === 'tag-value') return Object.values(tags);
  return undefined;
}
