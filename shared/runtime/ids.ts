import { randomBytes } from 'node:crypto';
import { deploymentIdAt } from '../domain/ids';

/**
 * Where Kiln's made-up ids come from (DESIGN.md rule 10), and the only file of production code
 * (functions/, shared/, cli/) that draws randomness: a test holds every other file to that.
 * Deployed, ids are random; the sandbox hands every component a source seeded from its run's
 * seed (`engine.kilnIds`), so one seed is still one timeline where Kiln invents ids. Code that
 * needs an id takes an IdSource (with `randomIds` as the default) and never calls `crypto` or
 * `Math.random` itself.
 *
 * What Kiln makes and from what:
 * - store writer ids (audit keys): `ids.next()`;
 * - deployment ids: `newDeploymentId(ids, now)`, time-sortable (shared/domain/ids.ts);
 * - client tokens and Step Functions execution names: derived from their inputs with
 *   `clientToken` and `executionName` (shared/domain/ids.ts), no draw at all, so a retry
 *   repeats them.
 */
export interface IdSource {
  /**
   * A new id of 1–64 letters, digits, `_` or `-`. Ids drawn anywhere (any source, any container)
   * must not repeat in practice: they tell concurrent writers apart.
   */
  next(): string;
}

/**
 * 64 random bits as 16 hex digits. Among a million writers the chance that any two draw the same
 * id is about 3 in 100 million (n²/2⁶⁵), and the store survives even that (it draws again).
 */
export const randomIds: IdSource = { next: () => randomBytes(8).toString('hex') };

/** What `IdSource.next` may return; checked where an id becomes part of a key. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A new deployment id: when it is made (the clock's milliseconds, so ids sort by time) and one
 * draw of `ids` (so two made in the same millisecond differ). In the sandbox both the clock and
 * the source are virtual and seeded, so the same seed makes the same ids.
 */
export function newDeploymentId(ids: IdSource = randomIds, now: () => number = Date.now): string {
  return deploymentIdAt(now(), ids.next());
}
