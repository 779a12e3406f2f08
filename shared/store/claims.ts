import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { parseOrThrow } from '../runtime/validation';
import { Expr, defined, field, fromItem, isConditionFailure, type StoreCore } from './core';
import { KeyName, PK, TTL, keys, partitions } from './keys';
import { Claim, ClaimInput, ClaimScope, type Page, type PageRequest } from './schemas';

/** Claims stay readable this long after they expire (the reconciler reads overdue ones), then TTL deletes them. */
const CLAIM_TTL_GRACE_SECONDS = 7 * 24 * 60 * 60;

function itemOf(claim: Claim): Record<string, unknown> {
  return defined({
    ...keys.claim(claim.scope, claim.key),
    ...keys.claimIndex(claim.scope, new Date(claim.expiresAt).toISOString(), claim.key),
    kind: 'claim',
    ...claim,
    [TTL]: Math.ceil(claim.expiresAt / 1000) + CLAIM_TTL_GRACE_SECONDS,
  });
}

export type ClaimOutcome = { claimed: true; claim: Claim } | { claimed: false; existing: Claim };

/**
 * Claims: "this is being handled (or was handled) by `holder`, until `expiresAt`". One
 * conditional put makes a claim, so when two reactions race for the same thing (a duplicate
 * lifecycle event, a flapping alarm, a replayed Slack request) exactly one wins; the loser reads
 * the winner's claim. An expired claim can be taken over (its holder died), and a `done` claim is
 * never taken over: it records that the thing was handled. Not audited: claims are plumbing; the
 * action a claim guards is audited where it is taken.
 */
export class Claims {
  constructor(private readonly core: StoreCore) {}

  async claim(input: ClaimInput): Promise<ClaimOutcome> {
    const parsed = parseOrThrow(ClaimInput, input, 'claim');
    const now = this.core.now();
    const claim: Claim = { ...parsed, status: 'held', claimedAt: new Date(now).toISOString() };
    const e = new Expr();
    try {
      await this.core.client.send(
        new PutCommand({
          TableName: this.core.tableName,
          Item: itemOf(claim),
          ConditionExpression:
            `attribute_not_exists(${e.n(PK)}) OR ` +
            `(${e.n('status')} = ${e.v('held')} AND ${e.n('expiresAt')} < ${e.v(now)}) OR ` +
            `(${e.n('status')} = ${e.v('held')} AND ${e.n('holder')} = ${e.v(claim.holder)})`,
          ...e.params(),
        }),
      );
      return { claimed: true, claim };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.get(claim.scope, claim.key);
      // Deleted between the failed put and this read: try once more, as if it had never been there.
      if (existing === undefined) return this.claim(input);
      return { claimed: false, existing };
    }
  }

  async get(scope: ClaimScope, key: string): Promise<Claim | undefined> {
    const item = await this.core.getItem(
      keys.claim(field('scope', ClaimScope, scope), field('key', KeyName, key)),
    );
    return item === undefined ? undefined : fromItem(Claim, item, 'claim');
  }

  /**
   * The holder marks its claim `done` (kept until `expiresAt`, so a late duplicate still sees it
   * handled) with an optional outcome. False when the claim is no longer this holder's.
   */
  async settle(
    scope: ClaimScope,
    key: string,
    request: { holder: string; outcome?: string; expiresAt?: number },
  ): Promise<boolean> {
    const e = new Expr();
    const sets = e.sets({
      status: 'done',
      settledAt: this.core.iso(),
      outcome: request.outcome,
      expiresAt: request.expiresAt,
    });
    try {
      await this.core.client.send(
        new UpdateCommand({
          TableName: this.core.tableName,
          Key: keys.claim(field('scope', ClaimScope, scope), field('key', KeyName, key)),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(${e.n(PK)}) AND ${e.n('holder')} = ${e.v(request.holder)}`,
          ...e.params(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Lets a held claim go (the holder gave up, so another may handle it now). False if not this holder's. */
  async release(scope: ClaimScope, key: string, request: { holder: string }): Promise<boolean> {
    const e = new Expr();
    try {
      await this.core.client.send(
        new DeleteCommand({
          TableName: this.core.tableName,
          Key: keys.claim(field('scope', ClaimScope, scope), field('key', KeyName, key)),
          ConditionExpression: `${e.n('holder')} = ${e.v(request.holder)} AND ${e.n('status')} = ${e.v('held')}`,
          ...e.params(),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** A scope's claims by expiry, soonest first; `expiringBefore` (epoch ms) narrows to overdue ones. */
  list(scope: ClaimScope, options: PageRequest & { expiringBefore?: number } = {}): Promise<Page<Claim>> {
    const { expiringBefore, ...page } = options;
    const name = field('scope', ClaimScope, scope);
    return this.core.queryPage({
      index: true,
      partition: partitions.claims(name),
      forward: true,
      page,
      ...(expiringBefore === undefined ? {} : { sortKeyBelow: new Date(expiringBefore).toISOString() }),
      parse: (item) => fromItem(Claim, item, 'claim'),
    });
  }
}
