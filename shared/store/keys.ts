import * as z from '../domain/zod';
import { InvalidInputError } from '../runtime/errors';
import { TABLE_KEYS } from './table';

/**
 * Key design of Kiln's single table (PK/SK strings, one overloaded GSI: GSI1PK/GSI1SK).
 *
 * | record                  | PK                      | SK                    | GSI1PK                   | GSI1SK                          |
 * |-------------------------|-------------------------|-----------------------|--------------------------|---------------------------------|
 * | service (current)       | SERVICE#<service>       | #SERVICE              | SERVICES                 | <service>                       |
 * | manifest version        | SERVICE#<service>       | MANIFEST#<0000000007> | –                        | –                               |
 * | artifact                | SERVICE#<service>       | ARTIFACT#<ver>#<dig>  | ARTIFACTS#<service>      | <receivedAt>#<version>          |
 * | release                 | SERVICE#<service>       | RELEASE#<version>     | RELEASES#<service>       | <createdAt>#<version>           |
 * | environment state+lock  | SERVICE#<service>       | ENV#<environment>     | –                        | –                               |
 * | deployment              | DEPLOYMENT#<id>         | #DEPLOYMENT           | DEPLOYMENTS#<service>    | <createdAt>#<id>                |
 * | task token              | TOKEN#<waitKind>#<key>  | #TOKEN                | TOKENS                   | <expiresAt>#<waitKind>#<key>    |
 * | audit entry             | AUDIT#<target>          | <at>#<writer>#<seq>   | AUDIT#SERVICE#<service>  | <at>#<target>#<writer>#<seq>    |
 * | claim                   | CLAIM#<scope>#<key>     | #CLAIM                | CLAIMS#<scope>           | <expiresAt>#<key>               |
 *
 * - Times in sort keys are ISO-8601 UTC with milliseconds (`toISOString()`), which sort as strings
 *   in time order; DynamoDB orders String sort keys by UTF-8 bytes and `ScanIndexForward: false`
 *   reads them newest first (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html).
 * - Everything a service owns shares its partition, so one consistent GetItem reads any of it.
 *   Listings go through GSI1, whose reads are eventually consistent only
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html):
 *   a record written a moment ago can be missing from a listing but never from a get.
 * - SERVICES and TOKENS are single GSI partitions: Kiln has tens of services and a handful of
 *   waiting tasks, far below one partition's throughput.
 * - Names go into keys verbatim, so `#` (the separator) is refused in every name.
 * - Audit keys must be unique although many writers audit the same target in the same
 *   millisecond (Lambda containers, and the sandbox, whose clock stands still while it works).
 *   `<writer>` is an id each store instance draws once from its IdSource (random when deployed,
 *   seeded in the sandbox) and `<seq>` counts that instance's entries (8 digits, so one writer's
 *   entries of one millisecond sort in the order it wrote them). Entries of different writers in
 *   one millisecond sort by writer id: nothing orders them more finely than their time.
 */

export const { partitionKey: PK, sortKey: SK, ttlAttribute: TTL } = TABLE_KEYS;
export const GSI1 = TABLE_KEYS.gsi1.indexName;
export const GSI1PK = TABLE_KEYS.gsi1.partitionKey;
export const GSI1SK = TABLE_KEYS.gsi1.sortKey;

export const keys = {
  service: (service: string) => ({ [PK]: `SERVICE#${service}`, [SK]: '#SERVICE' }),
  serviceIndex: (service: string) => ({ [GSI1PK]: 'SERVICES', [GSI1SK]: service }),
  manifestVersion: (service: string, version: number) => ({
    [PK]: `SERVICE#${service}`,
    [SK]: `MANIFEST#${String(version).padStart(10, '0')}`,
  }),
  artifact: (service: string, version: string, digest: string) => ({
    [PK]: `SERVICE#${service}`,
    [SK]: `ARTIFACT#${version}#${digest}`,
  }),
  artifactIndex: (service: string, receivedAt: string, version: string) => ({
    [GSI1PK]: `ARTIFACTS#${service}`,
    [GSI1SK]: `${receivedAt}#${version}`,
  }),
  release: (service: string, version: string) => ({ [PK]: `SERVICE#${service}`, [SK]: `RELEASE#${version}` }),
  releaseIndex: (service: string, createdAt: string, version: string) => ({
    [GSI1PK]: `RELEASES#${service}`,
    [GSI1SK]: `${createdAt}#${version}`,
  }),
  environment: (service: string, environment: string) => ({
    [PK]: `SERVICE#${service}`,
    [SK]: `ENV#${environment}`,
  }),
  deployment: (id: string) => ({ [PK]: `DEPLOYMENT#${id}`, [SK]: '#DEPLOYMENT' }),
  deploymentIndex: (service: string, createdAt: string, id: string) => ({
    [GSI1PK]: `DEPLOYMENTS#${service}`,
    [GSI1SK]: `${createdAt}#${id}`,
  }),
  taskToken: (waitKind: string, key: string) => ({ [PK]: `TOKEN#${waitKind}#${key}`, [SK]: '#TOKEN' }),
  taskTokenIndex: (expiresAt: string, waitKind: string, key: string) => ({
    [GSI1PK]: 'TOKENS',
    [GSI1SK]: `${expiresAt}#${waitKind}#${key}`,
  }),
  claim: (scope: string, key: string) => ({ [PK]: `CLAIM#${scope}#${key}`, [SK]: '#CLAIM' }),
  claimIndex: (scope: string, expiresAt: string, key: string) => ({
    [GSI1PK]: `CLAIMS#${scope}`,
    [GSI1SK]: `${expiresAt}#${key}`,
  }),
  /** `write` is `<writer>#<seq>` (see auditWrite). */
  audit: (target: string, at: string, write: string) => ({ [PK]: `AUDIT#${target}`, [SK]: `${at}#${write}` }),
  auditIndex: (service: string, at: string, target: string, write: string) => ({
    [GSI1PK]: `AUDIT#SERVICE#${service}`,
    [GSI1SK]: `${at}#${target}#${write}`,
  }),
  auditWrite: (writer: string, seq: number) => `${writer}#${String(seq).padStart(8, '0')}`,
};

/** Partition values of the listings, for checking that a cursor belongs to the listing it is given to. */
export const partitions = {
  services: 'SERVICES',
  manifestVersions: (service: string) => `SERVICE#${service}`,
  artifacts: (service: string) => `ARTIFACTS#${service}`,
  releases: (service: string) => `RELEASES#${service}`,
  deployments: (service: string) => `DEPLOYMENTS#${service}`,
  taskTokens: 'TOKENS',
  claims: (scope: string) => `CLAIMS#${scope}`,
  auditByTarget: (target: string) => `AUDIT#${target}`,
  auditByService: (service: string) => `AUDIT#SERVICE#${service}`,
};

/** Names in keys (non-empty, no `#`, no control characters, at most 200 characters): one definition, in the limits. */
export { KeyName } from '../domain/limits';

/** The key attributes that identify an item and its GSI1 position: what a cursor carries. */
const CursorKey = z.record(z.string(), z.string());

/**
 * Opaque pagination cursor: base64url of the query's LastEvaluatedKey, which the next query
 * passes back as ExclusiveStartKey
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html).
 */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor and checks that it came from the same listing (same partition attribute and
 * value), so a cursor pasted into the wrong command is a clear error rather than a wrong page.
 */
export function decodeCursor(
  cursor: string | undefined,
  partition: { attribute: string; value: string },
): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = (why: string, cause?: unknown) =>
    new InvalidInputError(`invalid cursor: ${why}`, [{ field: 'cursor', message: why }], { cause });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw invalid('not a cursor returned by a listing', error);
  }
  const result = CursorKey.safeParse(parsed);
  if (!result.success) throw invalid('not a cursor returned by a listing');
  if (result.data[partition.attribute] !== partition.value)
    throw invalid('it belongs to a different listing');
  return result.data;
}

/** The key attributes of an item as stored (table key plus GSI1 key when present). */
export function itemKey(item: Record<string, unknown>, withIndex: boolean): Record<string, string> {
  const names = withIndex ? [PK, SK, GSI1PK, GSI1SK] : [PK, SK];
  const key: Record<string, string> = {};
  for (const name of names) {
    const value = item[name];
    if (typeof value === 'string') key[name] = value;
  }
  return key;
}
