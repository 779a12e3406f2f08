import { randomBytes } from 'node:crypto';

/**
 * Where Kiln's made-up ids come from (DESIGN.md rule 10). Deployed, they are random; the sandbox
 * hands every component a source seeded from its run's seed, so one seed is still one timeline
 * where Kiln invents ids. Code that needs an id takes an IdSource (with `randomIds` as the
 * default) and never calls `crypto` or `Math.random` itself.
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
