/**
 * Ids Kiln derives rather than draws (DESIGN.md rules 1 and 10): pure functions of their inputs,
 * so the same deployment, step or artifact gets the same id wherever and however often it is
 * computed, and one sandbox seed gives one timeline. Randomness comes in from outside, as an
 * `entropy` string drawn from an IdSource (shared/runtime/ids.ts), never from here.
 *
 * Hashes are SHA-256 (node:crypto's `createHash`, deterministic): they make long or arbitrary
 * inputs fit AWS's length and character limits while keeping distinct inputs distinct.
 */
import { createHash } from 'node:crypto';

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Crockford's base 32 (no I, L, O, U), as ULIDs use it: ids sort as strings in time order. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10; // 48 bits of milliseconds
const RANDOM_CHARS = 16; // 80 bits
const MAX_TIME_MS = 2 ** 48 - 1;

/** A deployment id: 26 characters of Crockford base 32, like a ULID (https://github.com/ulid/spec). */
export const DEPLOYMENT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A deployment id made at `timeMs`: the time in its first 10 characters, so ids sort by when they
 * were made (to the millisecond) and history pages read newest-first by key; then 80 bits hashed
 * from `entropy`, one draw of the run's IdSource, which tells apart ids made in the same
 * millisecond. The same time and entropy give the same id.
 */
export function deploymentIdAt(timeMs: number, entropy: string): string {
  if (!Number.isSafeInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME_MS) {
    throw new RangeError(`deploymentIdAt: time must be whole milliseconds from 0 to 2^48 - 1, got ${timeMs}`);
  }
  if (entropy === '') throw new RangeError('deploymentIdAt: entropy must not be empty');
  let time = '';
  let rest = timeMs;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = CROCKFORD.charAt(rest % 32) + time;
    rest = Math.floor(rest / 32);
  }
  // 16 characters × 5 bits from the first 20 hex digits (80 bits) of the entropy's hash.
  const bits = BigInt(`0x${sha256Hex(entropy).slice(0, 20)}`);
  let random = '';
  for (let i = RANDOM_CHARS - 1; i >= 0; i--)
    random += CROCKFORD.charAt(Number((bits >> BigInt(5 * i)) & 31n));
  return time + random;
}

/** The millisecond a deployment id was made at (its first 10 characters). */
export function deploymentIdTime(id: string): number {
  if (!DEPLOYMENT_ID_PATTERN.test(id)) throw new RangeError(`not a deployment id: "${id}"`);
  let ms = 0;
  for (const char of id.slice(0, TIME_CHARS)) ms = ms * 32 + CROCKFORD.indexOf(char);
  return ms;
}

/**
 * EC2 client tokens: RunInstances says "Constraints: Maximum 64 ASCII characters"
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html; the rules for all
 * of them: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html);
 * CreateLaunchTemplateVersion allows 128 and Auto Scaling's LaunchInstances names no limit. Kiln's
 * are 37 characters.
 */
export const CLIENT_TOKEN_MAX = 64;

/**
 * The client token for one idempotent AWS call, from what makes the call one call: e.g.
 * `[deploymentId, 'copy-image', region]`. A retry of the same step (a Lambda retry, a Step
 * Functions Retry, a replayed dead letter) sends the same token, so AWS answers with the first
 * call's result instead of acting twice; a different step, region or deployment never collides.
 * Parts are kept apart (JSON), so `['a-b', 'c']` and `['a', 'b-c']` differ.
 * CreateImage takes no client token: its idempotency is the image name, unique per Region.
 */
export function clientToken(parts: readonly string[]): string {
  if (parts.length === 0 || parts.some((part) => part === '')) {
    throw new RangeError('clientToken: needs one or more non-empty parts');
  }
  return `kiln-${sha256Hex(JSON.stringify(parts)).slice(0, 32)}`;
}

/**
 * Step Functions execution names: "Length Constraints: Minimum length of 1. Maximum length of 80.";
 * no white space, brackets, wildcards, control characters or any of " # % \ ^ | ~ ` $ & , ; : /; "To
 * enable logging with CloudWatch Logs, the name should only contain 0-9, A-Z, a-z, - and _."; and
 * "This name must be unique for your AWS account, Region, and state machine for 90 days."
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
export const EXECUTION_NAME_MAX = 80;
const NAME_HASH_CHARS = 16;

/**
 * The deploy execution's name for one artifact of one service: readable (`checkout-1_4_2-…`) and
 * deterministic, so a duplicate artifact event starts nothing new (StartExecution with a name in
 * use is refused, or answered with the running execution). The digest (up to 512 characters)
 * cannot fit, so the name ends in 16 hex digits hashed from service, version and digest together:
 * two builds of one version get two names. Only CloudWatch-safe characters: `.` and `+` in a
 * version become `_`, and the readable part is shortened to fit 80 characters.
 */
export function executionName(artifact: { service: string; version: string; digest: string }): string {
  const { service, version, digest } = artifact;
  if (service === '' || version === '' || digest === '') {
    throw new RangeError('executionName: service, version and digest must not be empty');
  }
  const hash = sha256Hex(JSON.stringify([service, version, digest])).slice(0, NAME_HASH_CHARS);
  const readable = `${service}-${version}`.replace(/[^0-9A-Za-z_-]/g, '_');
  return `${readable.slice(0, EXECUTION_NAME_MAX - NAME_HASH_CHARS - 1)}-${hash}`;
}

/**
 * AMI names: "Constraints: 3-128 alphanumeric characters, parentheses (()), square brackets ([]),
 * spaces ( ), periods (.), slashes (/), dashes (-), single quotes ('), at-signs (@), or underscores(_)",
 * unique per account and Region (CreateImage answers `InvalidAMIName.Duplicate` otherwise)
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateImage.html).
 */
export const IMAGE_NAME_MAX = 128;
const IMAGE_HASH_CHARS = 12;

/**
 * The name of the AMI baked from one artifact of one service: `kiln-<service>-<version>-` and 12 hex
 * digits hashed from service, version and digest, so one artifact always makes the same name (a
 * retried CreateImage finds the first image instead of making a second) and a rebuild of a
 * version (a new digest) makes another. `+` in a version becomes `_`; the readable part is
 * shortened to fit 128 characters.
 */
export function imageName(artifact: { service: string; version: string; digest: string }): string {
  const { service, version, digest } = artifact;
  if (service === '' || version === '' || digest === '') {
    throw new RangeError('imageName: service, version and digest must not be empty');
  }
  const hash = sha256Hex(JSON.stringify(['image', service, version, digest])).slice(0, IMAGE_HASH_CHARS);
  const readable = `kiln-${service}-${version}`.replace(/[^0-9A-Za-z._-]/g, '_');
  return `${readable.slice(0, IMAGE_NAME_MAX - IMAGE_HASH_CHARS - 1)}-${hash}`;
}
