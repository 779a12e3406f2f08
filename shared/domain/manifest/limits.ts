/**
 * How big a manifest may be, and why. A real manifest is a few KB with a handful of levels; the
 * limits sit far above that and far below what makes validation slow or the store refuse it, so a
 * hostile or generated file is refused in words instead of hanging `kiln validate` or failing a
 * DynamoDB write later.
 */

/** Manifest files are read whole; anything larger is refused from its byte length before parsing. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

/**
 * Maps and lists inside each other, the document's own map being level 1. The schema needs 6;
 * 32 is also as deep as DynamoDB nests a document
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-attributes).
 * Checked while parsing, before any recursive code (the YAML composer, zod) sees the document.
 */
export const MANIFEST_MAX_DEPTH = 32;

/**
 * Values (scalars, maps, lists and keys) that aliases may add to a manifest when expanded. A YAML
 * parser keeps an alias as a reference, but everything after it (the schema, the store) walks the
 * expansion: nine aliases of nine aliases of … (a "billion laughs") expand exponentially.
 */
export const MANIFEST_MAX_ALIAS_VALUES = 10_000;

/**
 * A DynamoDB item is at most 400 KB (1 KB = 1024 bytes), attribute names and values included:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-items
 * (the quotas page, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html,
 * lists the account-level quotas beside it).
 */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

/**
 * What the store's service item holds besides the manifest: keys (PK, SK, GSI1PK, GSI1SK), kind,
 * service, version, timestamps and the actor — a few hundred bytes with a reasonable actor name.
 */
export const STORE_RESERVED_BYTES = 4 * 1024;

/** The most the `manifest` attribute (its name and its marshalled value) may take in the store. */
export const MANIFEST_MAX_STORED_BYTES = DYNAMODB_MAX_ITEM_BYTES - STORE_RESERVED_BYTES;

/**
 * The size DynamoDB counts for attribute `name` holding `value` as the store writes it: the store
 * puts the parsed manifest as a native map (lib-dynamodb's marshall, undefined values removed), so
 * strings are S, numbers N, booleans BOOL, arrays L and objects M. The documented rules:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * - a name or string: its UTF-8 bytes; a boolean or null: 1 byte;
 * - a number: about 1 byte per two significant digits, plus 1 (counted here from every digit and
 *   the sign, plus 2, which is never less);
 * - a list or map: 3 bytes, plus for each element 1 byte, its (key and) value.
 * Iterative, so a deep value cannot exhaust the stack.
 */
export function storedAttributeSize(name: string, value: unknown): number {
  let total = utf8Length(name);
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (Array.isArray(next)) {
      total += 3 + next.length;
      for (const element of next) if (element !== undefined) pending.push(element);
    } else if (next !== null && typeof next === 'object') {
      total += 3;
      for (const [key, element] of Object.entries(next)) {
        if (element === undefined) continue;
        total += 1 + utf8Length(key);
        pending.push(element);
      }
    } else if (typeof next === 'string') {
      total += utf8Length(next);
    } else if (typeof next === 'number') {
      const digits = String(Math.abs(next)).replace(/\D/g, '').length;
      total += Math.ceil(digits / 2) + 2 + (next < 0 ? 1 : 0);
    } else {
      total += 1;
    }
  }
  return total;
}

/** `file is 20,971,520 bytes (20.0 MiB); manifests are limited to 1 MiB (1,048,576 bytes)`. */
export function fileTooLargeMessage(bytes: number): string {
  const mib = bytes >= 1024 * 1024 ? ` (${(bytes / 1024 / 1024).toFixed(1)} MiB)` : '';
  return `file is ${formatCount(bytes)} bytes${mib}; manifests are limited to 1 MiB (${formatCount(MANIFEST_MAX_BYTES)} bytes)`;
}

/** 1234567 → `1,234,567`; fixed to English so messages do not depend on the machine's locale. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Upper bounds. Every list and free-form string in the manifest has one, so a manifest too large
 * to deploy or to store is refused by the schema with the limit in the message. Where AWS sets the
 * limit the page is cited; the others are Kiln's, set far above what a service needs. Kept here, not
 * in schema.ts, because the artifact section (artifact.ts, which schema.ts imports) uses them too.
 */
export const MANIFEST_BOUNDS = {
  environments: 50,
  // Security groups per network interface: 5 by default, at most 16 after a quota increase.
  // https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
  securityGroups: 16,
  commands: 100,
  commandLength: 4096,
  ssmParameters: 50,
  ssmParameterValues: 100,
  copyToRegions: 50,
  // Elastic Load Balancing target groups per Auto Scaling group: 50.
  // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html
  targetGroups: 50,
  // An instance refresh's AlarmSpecification takes up to 10 alarms.
  // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AlarmSpecification.html
  rolloutAlarms: 10,
  watchAlarms: 50,
  principals: 100,
  checkpoints: 100,
  patternLength: 1024,
  shortText: 64,
} as const;
