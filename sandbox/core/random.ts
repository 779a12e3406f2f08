/**
 * Seeded randomness for the sandbox. mulberry32 is a tiny, well-known 32-bit generator; we write it
 * by hand because no maintained package offers a seedable PRNG this small, and its quality is ample
 * for scheduling orders and jitter (not for cryptography).
 */
import type { IdSource } from '../../shared/runtime/ids';
import type { SimIds, SimRng } from './context';

export function createRng(seed: number): SimRng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[Math.floor(next() * items.length)] as T;
    },
  };
}

function hex(rng: SimRng, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += Math.floor(rng.next() * 16).toString(16);
  return out;
}

export function createIds(rng: SimRng): SimIds {
  return {
    next: (prefix) => `${prefix}-0${hex(rng, 16)}`,
    uuid: () => {
      const h = hex(rng, 32);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}

/** Kiln's own id source (DESIGN.md rule 10), shaped like `randomIds`' 16 hex digits but seeded. */
export function createIdSource(rng: SimRng): IdSource {
  return { next: () => hex(rng, 16) };
}
