import { DynamoDBClient, InternalServerError } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClientFor } from '../../../shared/runtime/clients';
import type { IdSource } from '../../../shared/runtime/ids';
import { KilnStore } from '../../../shared/store';
import type { AuditEntry, PageRequest, ReleaseInput } from '../../../shared/store';
import type { LocalDynamo } from '../../support/dynalite';

/** A hand-driven clock: tests move time explicitly. */
export interface TestClock {
  now: () => number;
  advance: (ms: number) => void;
}

export const T0 = Date.parse('2026-03-01T12:00:00.000Z');

export function testClock(start = T0): TestClock {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms) };
}

let counter = 0;
/** A name no other test in the file uses, so tests sharing a table never see each other's items. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Writer ids `prefix-1`, `prefix-2`, …: what a seeded source gives, readable in a failure. */
export function sequenceIds(prefix = 'writer'): IdSource {
  let drawn = 0;
  return { next: () => `${prefix}-${++drawn}` };
}

/** Hands out `ids` in order, then `fresh-1`, `fresh-2`, …: two writers that draw the same id. */
export function scriptedIds(...ids: string[]): IdSource {
  const rest = sequenceIds('fresh');
  let position = 0;
  return { next: () => ids[position++] ?? rest.next() };
}

/** Every store of a test file draws from one source, as the stores of one sandbox run do. */
const fileIds = sequenceIds('writer');

export function newStore(
  dynamo: LocalDynamo,
  clock: TestClock = testClock(),
  ids: IdSource = fileIds,
): KilnStore<TestManifest> {
  return new KilnStore<TestManifest>({
    client: dynamo.client,
    tableName: dynamo.tableName,
    now: clock.now,
    ids,
  });
}

export interface TestManifest {
  name: string;
  team?: string;
}

export function releaseFixture(service: string, version: string): ReleaseInput {
  return {
    service,
    version,
    amis: { 'us-east-1': 'ami-0123456789abcdef0', 'eu-west-1': 'ami-0fedcba9876543210' },
    artifact: { uri: `s3://artifacts/${service}/${version}.tar.gz`, digest: 'sha256:' + 'ab'.repeat(32) },
    recipeHash: 'recipe-1',
    baseAmiId: 'ami-00000000000000001',
  };
}

/** Every audit entry of a scope, following the cursor page by page. */
export async function allAudit(
  store: KilnStore<TestManifest>,
  scope: { service: string } | { target: string },
  pageSize = 7,
): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let page: PageRequest = { limit: pageSize };
  for (;;) {
    const { items, cursor } = await store.listAudit(scope, page);
    entries.push(...items);
    if (cursor === undefined) return entries;
    page = { limit: pageSize, cursor };
  }
}

/** A write as a fault sees it: the DynamoDB operation and the item's partition key. */
export interface WriteFacts {
  operation: string;
  partitionKey: string | undefined;
}

/** Audit entries are the items whose partition key starts with AUDIT#. */
export const isAuditWrite = (write: WriteFacts): boolean =>
  write.operation === 'PutItemCommand' && write.partitionKey?.startsWith('AUDIT#') === true;

/**
 * A document client on the same dynalite whose matching writes go wrong, `times` times:
 * - `fail`: DynamoDB answers 500 and the SDK has given up (nothing is written);
 * - `lose-response`: the write lands but its response is lost (a 500 on the way back), so the
 *   SDK's retry re-sends the very same request, as it does on AWS.
 */
export function faultyClient(
  dynamo: LocalDynamo,
  fault: { mode: 'fail' | 'lose-response'; when: (write: WriteFacts) => boolean; times?: number },
): DynamoDBDocumentClient {
  const raw = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    // `fail` stands for a failure the SDK's retries did not get past: one attempt says the same.
    maxAttempts: fault.mode === 'fail' ? 1 : 3,
  });
  let left = fault.times ?? Number.POSITIVE_INFINITY;
  const serverError = () =>
    new InternalServerError({ message: 'injected by the test', $metadata: { httpStatusCode: 500 } });
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Item?: Record<string, unknown>; Key?: Record<string, unknown> };
      const pk = (input.Item ?? input.Key)?.PK;
      const partitionKey = typeof pk === 'string' ? pk : ((pk as { S?: string } | undefined)?.S ?? undefined);
      if (left <= 0 || !fault.when({ operation: context.commandName ?? '', partitionKey })) {
        return next(args);
      }
      left -= 1;
      if (fault.mode === 'fail') throw serverError();
      await next(args);
      throw serverError();
    },
    // Beneath the SDK's retry middleware (finalizeRequest/low), so a lost response is re-sent as on AWS.
    { step: 'finalizeRequest', priority: 'low', name: 'testFault' },
  );
  return documentClientFor(raw);
}
