/**
 * The building blocks the service manifest's sections are made of: bounded numbers, described
 * fields, unique lists, "exactly one of", and the AWS names and ids a manifest refers to (Regions,
 * resource ids, tags, target group ARNs, alarm names). Each section (schema.ts, bake.ts) builds on
 * these, so one rule reads the same wherever a manifest uses it.
 */
import { AwsRegion } from '../limits';
import * as z from '../zod';
import { MANIFEST_BOUNDS } from './limits';

/** A whole number in [min, max] whose error states the range, not one bound at a time. */
export function intBetween(min: number, max: number) {
  const message = `must be between ${min} and ${max}`;
  return z.int().check(z.gte(min, message), z.lte(max, message));
}

/** The schema with a description for the JSON Schema (a copy: shared schemas stay undescribed). */
export function describe<T extends z.ZodMiniType>(schema: T, description: string): T {
  const copy = schema.clone();
  z.globalRegistry.add(copy as z.core.$ZodType, { description });
  return copy;
}

export function uniqueList<T extends z.ZodMiniType>(item: T, what: string) {
  return z.array(item).check(
    z.superRefine((items, ctx) => {
      const seen = new Set<unknown>();
      items.forEach((value, index) => {
        if (seen.has(value)) {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `duplicate ${what} ${JSON.stringify(value)}`,
          });
        }
        seen.add(value);
      });
    }),
  );
}

/**
 * A map in which exactly one of `keys` is set (e.g. `{ amiId }` or `{ ssmParameter }`). The
 * JSON Schema gets a `oneOf` so editors flag a second key too.
 */
export function exactlyOneOf<Shape extends Record<string, z.ZodMiniType>>(shape: Shape) {
  const keys = Object.keys(shape);
  const optional = Object.fromEntries(keys.map((k) => [k, z.optional(shape[k] as z.ZodMiniType)])) as {
    [K in keyof Shape]: z.ZodMiniOptional<Shape[K]>;
  };
  const list = describeChoice(keys);
  return z
    .strictObject(optional)
    .check(
      z.superRefine((value, ctx) => {
        const present = keys.filter((k) => (value as Record<string, unknown>)[k] !== undefined);
        if (present.length === 0)
          ctx.addIssue({ code: 'custom', path: [], message: `must set exactly one of ${list}` });
        for (const extra of present.slice(1)) {
          ctx.addIssue({
            code: 'custom',
            path: [extra],
            message: `conflicts with ${present[0]}: set exactly one of ${list}`,
          });
        }
      }),
    )
    .clone()
    .register(z.globalRegistry, { oneOf: keys.map((k) => ({ required: [k] })) });
}

function describeChoice(keys: readonly string[]): string {
  return keys.length <= 1 ? (keys[0] ?? '') : `${keys.slice(0, -1).join(', ')} or ${keys[keys.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// AWS identifiers. Each pattern follows the documented format; the URL is beside it.

// Region codes such as us-east-1, eu-central-2, us-gov-west-1, cn-north-1.
// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html
export const RegionSchema = AwsRegion;

// Resource ids have 8 hex characters (before 2016) or 17 after the prefix.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/resource-ids.html
export const resourceId = (prefix: string, example: string) =>
  z
    .string()
    .check(
      z.regex(
        new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`),
        `must be an id like ${prefix}-${example}`,
      ),
    );

// Tag limits: key 1-128 characters, value 0-256, at most 50 tags, no `aws:` prefix, and the
// characters every tagging service accepts.
// https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TagKeySchema = z.string().check(
  z.minLength(1, 'tag keys must not be empty'),
  z.maxLength(128, 'tag keys must be at most 128 characters long'),
  z.regex(TAG_CHARACTERS, 'tag keys may hold only letters, digits, spaces and _ . : / = + - @'),
  z.refine((key) => !/^aws:/i.test(key), 'tag keys must not start with "aws:" (reserved for AWS)'),
);
const TagValueSchema = z
  .string()
  .check(
    z.maxLength(256, 'must be at most 256 characters long'),
    z.regex(TAG_CHARACTERS, 'may hold only letters, digits, spaces and _ . : / = + - @'),
  );
export const TagsSchema = z
  .record(TagKeySchema, TagValueSchema)
  .check(z.refine((tags) => Object.keys(tags).length <= 50, 'must hold at most 50 tags'));

// Target group ARN: arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID; the name has
// at most 32 alphanumerics or hyphens and does not begin or end with a hyphen.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
const TARGET_GROUP_ARN =
  /^arn:aws(?:-cn|-us-gov)?:elasticloadbalancing:([a-z0-9-]+):\d{12}:targetgroup\/[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?\/[0-9a-f]{16}$/;
export const TargetGroupArnSchema = z
  .string()
  .check(
    z.regex(
      TARGET_GROUP_ARN,
      'must be a target group ARN like arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef',
    ),
  );

/** The Region inside a target group ARN, or undefined when the string is not one. */
export function regionOfTargetGroupArn(arn: string): string | undefined {
  return TARGET_GROUP_ARN.exec(arn)?.[1];
}

// Slack ids: users start with U (or W in Enterprise Grid), user groups with S.
// https://api.slack.com/changelog/2016-08-11-user-id-format-changes
export const SlackPrincipalSchema = z
  .string()
  .check(
    z.maxLength(MANIFEST_BOUNDS.shortText),
    z.regex(/^[UWS][A-Z0-9]{2,}$/, 'must be a Slack user id (U…/W…) or user-group id (S…)'),
  );

// CloudWatch alarm names: 1-255 characters.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
export const AlarmNameSchema = z.string().check(z.minLength(1), z.maxLength(255));

export const DnsLabel = (max: number) =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(max, `must be at most ${max} characters long`),
      z.regex(
        /^[a-z]([a-z0-9-]*[a-z0-9])?$/,
        'must be lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen',
      ),
    );
