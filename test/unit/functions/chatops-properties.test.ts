/**
 * Malformed payloads, generated: whatever reaches chatops — a signed body of any shape, any
 * interaction payload, any work item from a user the access lists do not name, any event at all —
 * the handler answers without throwing, never with a server error, and Kiln's state (everything in
 * the table but the requests' own claims) stays as it was: no deployment, no approval, no audit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { CHAT_ACTIONS } from '../../../shared/domain/chat-actions';
import { CONFIRM_ACTIONS } from '../../../shared/domain/chatops/proposal';
import { T0 } from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { chatopsWorld, context, httpEvent, InvokeCommand, RESPONSE_URL } from './chatops-harness';

jest.setTimeout(120_000);

const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  sfn.reset();
  lambda.reset();
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});

type Item = Record<string, { S?: string }>;
/** Kiln's state: every item but the claims requests leave behind (plumbing, not state). */
const state = (items: Item[]) =>
  items
    .filter((item) => item.kind?.S !== 'claim')
    .map((i) => JSON.stringify(i))
    .sort();

const blockActionsFixture = JSON.parse(
  readFileSync(join(__dirname, '../../fixtures/events/slack/block-actions.json'), 'utf8'),
) as Record<string, unknown>;

/** A real block_actions payload with fields removed or replaced by anything. */
const mangledPayload = fc
  .tuple(
    fc.subarray(Object.keys(blockActionsFixture)),
    fc.dictionary(fc.constantFrom('type', 'team', 'user', 'response_url', 'actions', 'token'), fc.anything()),
  )
  .map(([kept, replaced]) => ({
    ...Object.fromEntries(kept.map((k) => [k, blockActionsFixture[k]])),
    ...replaced,
  }));

const acks = { numRuns: 40 };

describe('chatops on malformed payloads (property-based)', () => {
  it('answers any signed form body without a server error, and changes nothing it does not queue', async () => {
    const world = await chatopsWorld(dynamo);
    const before = state((await world.table()) as Item[]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc
            .dictionary(
              fc.constantFrom('team_id', 'user_id', 'command', 'text', 'response_url', 'payload', 'x'),
              fc.string(),
            )
            .map((d) => new URLSearchParams(d).toString()),
          mangledPayload.map((p) => new URLSearchParams({ payload: JSON.stringify(p) }).toString()),
        ),
        async (body) => {
          const reply = (await world.handler(httpEvent(body), context())) as { statusCode: number };
          expect([200, 401, 409]).toContain(reply.statusCode);
        },
      ),
      acks,
    );
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(state((await world.table()) as Item[])).toEqual(before);
  });

  it('never throws on any event at all (not an HTTP API request, not chat work)', async () => {
    const world = await chatopsWorld(dynamo);
    const before = state((await world.table()) as Item[]);
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (event) => {
        await expect(world.handler(event, context())).resolves.toBeDefined();
      }),
      acks,
    );
    expect(state((await world.table()) as Item[])).toEqual(before);
  });

  it('runs any work from a user no access list names without acting: no start, no approval, no state change', async () => {
    const world = await chatopsWorld(dynamo);
    const before = state((await world.table()) as Item[]);
    let n = 0;
    const words = fc.constantFrom(
      'status',
      'history',
      'deploy',
      'rollback',
      'approve',
      'abort',
      'checkout',
      'staging',
      'production',
      '1.0.0',
      '1.1.0',
      '#',
      '<@U1>',
    );
    const ask = fc.oneof(
      fc.record({
        type: fc.constant('command' as const),
        text: fc.oneof(
          fc.string(),
          fc.array(words, { maxLength: 5 }).map((w) => w.join(' ')),
        ),
      }),
      fc.record({
        type: fc.constant('button' as const),
        actionId: fc.constantFrom(...Object.values(CHAT_ACTIONS), ...Object.values(CONFIRM_ACTIONS)),
        value: fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .record({
              action: fc.constantFrom('deploy', 'rollback', 'approve', 'refuse', 'abort'),
              kind: fc.constantFrom('approve', 'refuse', 'rollback'),
              service: fc.constantFrom('checkout', 'nope'),
              environment: fc.constantFrom('staging', 'production', 'qa'),
              version: fc.constantFrom('1.0.0', '1.1.0'),
              from: fc.constantFrom('1.1.0', '1.0.0'),
              deploymentId: fc.constantFrom('01JZ0000000000000000000001', 'x'),
            })
            .map((v) => JSON.stringify(v)),
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(ask, fc.stringMatching(/^U0[A-Z0-9]{4,10}$/), async (asked, user) => {
        fc.pre(!['U04ALICE01', 'U05BOBBY02'].includes(user));
        const claimKey = `property/${++n}`;
        await world.store.claim({
          scope: 'slack-request',
          key: claimKey,
          holder: 'ack',
          expiresAt: T0 + 600_000,
        });
        const work = {
          kind: 'kiln.chatops.work',
          claimKey,
          holder: 'ack',
          teamId: 'T0TEST',
          userId: user,
          responseUrl: RESPONSE_URL,
          ask: asked,
        };
        await expect(world.handler(work, context())).resolves.toMatchObject({ outcome: expect.any(String) });
      }),
      acks,
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(state((await world.table()) as Item[])).toEqual(before);
  });
});
