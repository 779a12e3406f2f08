/**
 * Seeded randomness for the sandbox. mulberry32 is a tiny, well-known 32-bit generator; we write it
 * by hand because no maintained package offers a seedable PRNG this small, and its quality is ample
 * for scheduling orders and jitter (not for cryptography).
 */
import nodeCrypto from 'node:crypto';
import type { IdSource } from '../../shared/runtime/ids';
import type { SimIds, SimRng } from './context';

type Uuid = `${string}-${string}-${string}-${string}-${string}`;

// Module-level copies: under Jest every global read (`Math`) in a test's vm context takes a slow
// path, and these run 64 times per simulated request (two ids of 32 draws): 20× slower there.
const { floor, imul } = Math;

export function createRng(seed: number): SimRng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[floor(next() * items.length)] as T;
    },
  };
}

const HEX_DIGITS = '0123456789abcdef';

/** `digits` hex digits, one draw each (the draws, so the ids of a seed, are what they always were). */
function hex(rng: SimRng, digits: number): string {
  let out = '';
  // A table lookup, not Number#toString(16): every simulated request draws two UUIDs.
  for (let i = 0; i < digits; i++) out += HEX_DIGITS[floor(rng.next() * 16)];
  return out;
}

/** A version 4 UUID's shape, from the generator. */
function uuid(rng: SimRng): Uuid {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function createIds(rng: SimRng): SimIds {
  return {
    next: (prefix) => `${prefix}-0${hex(rng, 16)}`,
    uuid: () => uuid(rng),
  };
}

/**
 * Seeds `crypto.randomUUID` until the returned function is called: the Web Crypto global's, which
 * the AWS SDK draws each request's `amz-sdk-invocation-id` header and any idempotency token the
 * caller left out from (@smithy/core), and node:crypto's. Kiln's own code draws ids only through
 * an IdSource (shared/runtime/ids.ts), so this is for code beneath it: whatever such an id
 * reaches (a header, a simulated service, the timeline) repeats with the seed.
 */
export function seedRandomUuid(rng: SimRng): () => void {
  const seeded = (): Uuid => uuid(rng);
  const web: typeof globalThis.crypto | undefined = globalThis.crypto;
  const webOwn = web !== undefined && Object.prototype.hasOwnProperty.call(web, 'randomUUID');
  const webOriginal = web?.randomUUID;
  const nodeOriginal = nodeCrypto.randomUUID;
  // Own properties over the prototype's method (Web Crypto) and the module's export (node:crypto:
  // the module object itself, as a default import gives it; a namespace import may be a copy).
  if (web !== undefined)
    Object.defineProperty(web, 'randomUUID', { value: seeded, configurable: true, writable: true });
  Object.defineProperty(nodeCrypto, 'randomUUID', { value: seeded, configurable: true, writable: true });
  return () => {
    if (web !== undefined) {
      if (webOwn)
        Object.defineProperty(web, 'randomUUID', { value: webOriginal, configurable: true, writable: true });
      else Reflect.deleteProperty(web, 'randomUUID');
    }
    Object.defineProperty(nodeCrypto, 'randomUUID', {
      value: nodeOriginal,
      configurable: true,
      writable: true,
    });
  };
}

/** Kiln's own id source (DESIGN.md rule 10), shaped like `randomIds`' 16 hex digits but seeded. */
export function createIdSource(rng: SimRng): IdSource {
  return { next: () => hex(rng, 16) };
}
