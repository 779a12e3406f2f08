/**
 * The service manifest: one YAML file per service telling Kiln where its artifacts come from,
 * how to bake them into an AMI, and how to roll that AMI through the service's environments.
 *
 * Every object is strict so a misspelt key is an error that names it. Parsed output has the same
 * shape as the input with defaults filled in, so parsing a parsed manifest again is a no-op (a
 * manifest can be stored and re-validated on read).
 */
import {
  AwsAccountId,
  CODEARTIFACT_FORMATS,
  EcrRepositoryName,
  RESERVED_KEYS,
  S3BucketName,
} from '../limits';
import * as z from '../zod';
import {
  ARTIFACT_PUBLISHED,
  CiEventSourceSchema,
  DEFAULT_DETAIL_VERSION_PATH,
  DEFAULT_S3_KEY_VERSION_PATTERN,
  MANIFEST_API_VERSION,
  VersionPatternSchema,
} from './artifact';
import { BakeSchema } from './bake';
import { ManifestValidationError } from './errors';
import {
  AlarmNameSchema,
  describe,
  DnsLabel,
  exactlyOneOf,
  intBetween,
  regionOfTargetGroupArn,
  RegionSchema,
  SlackPrincipalSchema,
  TargetGroupArnSchema,
  uniqueList,
} from './fields';
import { parseWithIssues, retiredKeys, type ParseOutcome } from './issues';
import {
  DYNAMODB_MAX_ITEM_BYTES,
  formatCount,
  MANIFEST_BOUNDS,
  MANIFEST_MAX_STORED_BYTES,
  STORE_RESERVED_BYTES,
  storedAttributeSize,
} from './limits';

export { MANIFEST_BOUNDS } from './limits';
export { intBetween, regionOfTargetGroupArn, RegionSchema, TargetGroupArnSchema } from './fields';
export {
  ARTIFACT_PUBLISHED,
  CiEventSourceSchema,
  DEFAULT_DETAIL_VERSION_PATH,
  DEFAULT_S3_KEY_VERSION_PATTERN,
  versionRuleOf,
  type VersionRule,
} from './artifact';

// ---------------------------------------------------------------------------------------------
// artifact: where new versions come from, and how to read the version off each one.

/** `$.version`, `$.build.version`, `$.artifacts[0].version`, `$['build-info'].version`. */
const DetailPathSchema = z.string().check(
  z.maxLength(MANIFEST_BOUNDS.patternLength),
  z.regex(
    /^\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\]|\['[^']+'\])+$/,
    "must be a JSON path into the event's detail, like $.version or $.build['version']",
  ),
  z.superRefine((path, ctx) => {
    // Events holding these keys are refused, so a path through one could never find a version.
    const reserved = [...path.matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\['([^']+)'\]/g)]
      .map(([, dotted, quoted]) => dotted ?? quoted ?? '')
      .find((key) => RESERVED_KEYS.has(key));
    if (reserved !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must not go through "${reserved}": Kiln never reads that name from an event`,
      });
    }
  }),
);

const S3SourceSchema = z.strictObject({
  bucket: S3BucketName,
  keyPrefix: z.string().check(
    z.minLength(1, 'must not be empty (Kiln would treat every object in the bucket as an artifact)'),
    z.maxLength(1024),
    z.refine((prefix) => !prefix.startsWith('/'), 'must not start with "/" (S3 keys do not)'),
  ),
});

const EcrSourceSchema = z.strictObject({ repository: EcrRepositoryName });

// No detailType: the EventBridge rule is deployed with the stack and cannot follow manifests
// applied later, so a CI's event reaches Kiln only as "Artifact Published". A manifest naming
// another would never see an artifact; one that still says detailType is told so.
const CustomSourceSchema = z.strictObject({ source: CiEventSourceSchema }).register(retiredKeys, {
  retiredKeys: {
    detailType: `is no longer set: Kiln receives a CI's artifacts as detail-type "${ARTIFACT_PUBLISHED}" only; remove detailType (a CI building several services names one in detail.service)`,
  },
});

// CodeArtifact names, as its API constrains them: a domain is 2-50 of [a-z0-9-] starting with a
// letter; a repository 2-100 of [A-Za-z0-9._-] starting with a letter or digit; a namespace and a
// package 1-255 characters without "#", "/" or white space
// (https://docs.aws.amazon.com/codeartifact/latest/APIReference/API_DescribePackage.html).
const CodeArtifactName = (what: string) =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(255),
      z.regex(/^[^#/\s]+$/, `must be a ${what} name without "#", "/" or spaces`),
    );

const CodeArtifactSourceSchema = z
  .strictObject({
    domain: z
      .string()
      .check(
        z.regex(
          /^[a-z][a-z0-9-]{0,48}[a-z0-9]$/,
          'must be a CodeArtifact domain name: 2-50 lowercase letters, digits or hyphens, starting with a letter',
        ),
      ),
    domainOwner: z.optional(describe(AwsAccountId, 'The account that owns the domain; any, when omitted.')),
    repository: z
      .string()
      .check(
        z.regex(
          /^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$/,
          'must be a CodeArtifact repository name: 2-100 letters, digits, ".", "_" or "-"',
        ),
      ),
    format: describe(z.enum(CODEARTIFACT_FORMATS), `One of ${CODEARTIFACT_FORMATS.join(', ')}.`),
    namespace: z.optional(
      describe(
        CodeArtifactName('namespace'),
        'Maven groupId, npm scope (without @) or generic namespace; PyPI packages have none.',
      ),
    ),
    package: CodeArtifactName('package'),
  })
  .check(
    z.superRefine((source, ctx) => {
      // Maven and generic packages always have one; PyPI packages never do
      // (https://docs.aws.amazon.com/codeartifact/latest/APIReference/API_PackageSummary.html).
      if ((source.format === 'maven' || source.format === 'generic') && source.namespace === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['namespace'],
          message: `is required for ${source.format} packages (${source.format === 'maven' ? 'the groupId' : 'their namespace'})`,
        });
      }
      if (source.format === 'pypi' && source.namespace !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['namespace'],
          message: 'must not be set: PyPI packages have none',
        });
      }
    }),
  );

const SOURCE_KINDS = ['s3', 'ecr', 'custom', 'codeartifact'] as const;
type SourceKind = (typeof SOURCE_KINDS)[number];
/** The version key each source reads; a CodeArtifact package version is the version, read as it is. */
const VERSION_KEY_FOR: Record<SourceKind, 'keyPattern' | 'tagPattern' | 'detailPath' | undefined> = {
  s3: 'keyPattern',
  ecr: 'tagPattern',
  custom: 'detailPath',
  codeartifact: undefined,
};
const SOURCE_FOR_VERSION_KEY = { keyPattern: 's3', tagPattern: 'ecr', detailPath: 'custom' } as const;

const ArtifactSchema = z.pipe(
  z
    .strictObject({
      source: describe(
        exactlyOneOf({
          s3: S3SourceSchema,
          ecr: EcrSourceSchema,
          custom: CustomSourceSchema,
          codeartifact: CodeArtifactSourceSchema,
        }),
        'Where new versions are published: exactly one of s3, ecr, custom or codeartifact.',
      ),
      version: describe(
        z.prefault(
          z.strictObject({
            keyPattern: z.optional(
              describe(
                VersionPatternSchema,
                `s3 only: regular expression over the object key with a named group "version". Default: ${DEFAULT_S3_KEY_VERSION_PATTERN}`,
              ),
            ),
            tagPattern: z.optional(
              describe(
                VersionPatternSchema,
                'ecr only: regular expression over the image tag with a named group "version". Default: the whole tag.',
              ),
            ),
            detailPath: z.optional(
              describe(
                DetailPathSchema,
                `custom only: JSON path into the event's detail. Default: ${DEFAULT_DETAIL_VERSION_PATH}`,
              ),
            ),
          }),
          {},
        ),
        'How a version is read off an artifact; the key must match the source.',
      ),
    })
    .check(
      z.superRefine((artifact, ctx) => {
        const kind = sourceKindOf(artifact.source);
        if (kind === undefined) return;
        const own = VERSION_KEY_FOR[kind];
        for (const [key, other] of Object.entries(SOURCE_FOR_VERSION_KEY)) {
          if (other === kind || artifact.version[key as keyof typeof SOURCE_FOR_VERSION_KEY] === undefined)
            continue;
          ctx.addIssue({
            code: 'custom',
            path: ['version', key],
            message:
              own === undefined
                ? `applies only to artifacts from ${other}; this one comes from ${kind}, whose package version is the version (remove it)`
                : `applies only to artifacts from ${other}; this one comes from ${kind} (use ${own})`,
          });
        }
      }),
    ),
  z.transform((artifact) => {
    const kind = sourceKindOf(artifact.source);
    const version = { ...artifact.version };
    if (kind === 's3') version.keyPattern ??= DEFAULT_S3_KEY_VERSION_PATTERN;
    if (kind === 'custom') version.detailPath ??= DEFAULT_DETAIL_VERSION_PATH;
    return { ...artifact, version };
  }),
);

function sourceKindOf(source: Partial<Record<SourceKind, unknown>>): SourceKind | undefined {
  return SOURCE_KINDS.find((kind) => source[kind] !== undefined);
}

// ---------------------------------------------------------------------------------------------
// environments: where the AMI rolls out, in promotion order.

// Instance refresh preferences. Exported for the sandbox's stories, which roll with the same settings.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
export const RollingStrategySchema = z
  .strictObject({
    type: z.literal('rolling'),
    // MinHealthyPercentage: 0-100, AWS default 90.
    minHealthyPercentage: z._default(intBetween(0, 100), 90),
    // MaxHealthyPercentage: 100-200, and at most 100 above MinHealthyPercentage.
    maxHealthyPercentage: z._default(intBetween(100, 200), 100),
    // InstanceWarmup: seconds; unset means the group's DefaultInstanceWarmup.
    instanceWarmupSeconds: z.optional(
      z.int().check(z.gte(0, 'must be at least 0'), z.lte(86400, 'must be at most 86400')),
    ),
    // CheckpointPercentages: unique, ascending, the last one 100 to replace every instance.
    checkpoints: z.optional(
      z
        .array(intBetween(1, 100))
        .check(
          z.minLength(1),
          z.maxLength(
            MANIFEST_BOUNDS.checkpoints,
            `must list at most ${MANIFEST_BOUNDS.checkpoints} checkpoints`,
          ),
        ),
    ),
    // CheckpointDelay: 0-172800 seconds (default 3600); only allowed together with checkpoints.
    checkpointDelaySeconds: z.optional(intBetween(0, 172800)),
    // BakeTime: seconds the refresh waits after the last instance is replaced, its alarms still
    // watched and AutoRollback still possible, before it counts as Successful (0-172800).
    bakeTimeSeconds: z._default(intBetween(0, 172800), 0),
    // ScaleInProtectedInstances / StandbyInstances: what the refresh does with such instances.
    // Kiln's default is explicit and safe for both: Wait (the refresh waits, and says so in its
    // status reason, rather than silently skipping or replacing instances someone set aside).
    scaleInProtectedInstances: z._default(z.enum(['Refresh', 'Ignore', 'Wait']), 'Wait'),
    standbyInstances: z._default(z.enum(['Terminate', 'Ignore', 'Wait']), 'Wait'),
  })
  .check(
    z.superRefine((strategy, ctx) => {
      const { minHealthyPercentage: min, maxHealthyPercentage: max } = strategy;
      // Out-of-range values already have their own issue; the spread rule would only repeat it.
      const inRange = min >= 0 && min <= 100 && max >= 100 && max <= 200;
      if (inRange && max - min > 100) {
        ctx.addIssue({
          code: 'custom',
          path: ['maxHealthyPercentage'],
          message: `must be at most 100 above minHealthyPercentage (${strategy.minHealthyPercentage})`,
        });
      }
      const checkpoints = strategy.checkpoints;
      if (checkpoints !== undefined && checkpoints.every((value) => value >= 1 && value <= 100)) {
        checkpoints.forEach((value, index) => {
          const previous = checkpoints[index - 1];
          if (previous !== undefined && value <= previous) {
            ctx.addIssue({
              code: 'custom',
              path: ['checkpoints', index],
              message: `must be greater than the checkpoint before it (${previous}): checkpoints ascend`,
            });
          }
        });
        const last = checkpoints[checkpoints.length - 1];
        if (last !== 100) {
          ctx.addIssue({
            code: 'custom',
            path: ['checkpoints', checkpoints.length - 1],
            message: 'the last checkpoint must be 100, so that every instance is replaced',
          });
        }
      } else if (checkpoints === undefined && strategy.checkpointDelaySeconds !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['checkpointDelaySeconds'],
          message: 'applies only together with checkpoints',
        });
      }
    }),
  );

export const BlueGreenStrategySchema = z.strictObject({
  type: z.literal('blue-green'),
  healthGate: describe(
    z
      .prefault(
        z.strictObject({
          healthyForSeconds: z._default(intBetween(0, 3600), 60),
          timeoutSeconds: z._default(intBetween(60, 7200), 900),
        }),
        {},
      )
      .check(
        z.superRefine((gate, ctx) => {
          const inRange =
            gate.healthyForSeconds <= 3600 && gate.timeoutSeconds >= 60 && gate.timeoutSeconds <= 7200;
          if (inRange && gate.timeoutSeconds <= gate.healthyForSeconds) {
            ctx.addIssue({
              code: 'custom',
              path: ['timeoutSeconds'],
              message: `must be greater than healthyForSeconds (${gate.healthyForSeconds})`,
            });
          }
        }),
      ),
    'Every new target must stay healthy this long, within the timeout, before traffic moves.',
  ),
  // Seconds the rollout alarms are watched after traffic moved, before blue is scaled to zero.
  bakeTimeSeconds: z._default(intBetween(0, 172800), 300),
  keepOldGroups: z._default(intBetween(0, 5), 1),
});

export const StrategySchema = z.discriminatedUnion('type', [RollingStrategySchema, BlueGreenStrategySchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'type must be "rolling" or "blue-green"' : undefined),
});

const principals = () =>
  z._default(
    uniqueList(SlackPrincipalSchema, 'Slack id').check(
      z.maxLength(MANIFEST_BOUNDS.principals, `must list at most ${MANIFEST_BOUNDS.principals} Slack ids`),
    ),
    [],
  );

/**
 * What Kiln's lifecycle hooks do in this environment (issue 11, functions/on-lifecycle.ts):
 * terminating instances are drained from the environment's target groups (and the optional
 * graceful-stop command run through Run Command) before Kiln completes the hook; launching ones
 * are verified (the release's AMI, healthy within the warm-up) before Kiln lets them in service.
 */
const LifecycleSchema = z.strictObject({
  drain: z.prefault(
    z.strictObject({
      // A shell command run on the instance (AWS-RunShellScript) after its targets left draining.
      stopCommand: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
      stopTimeoutSeconds: z._default(intBetween(30, 3600), 120),
    }),
    {},
  ),
  launch: z.prefault(
    z.strictObject({
      verify: z._default(z.boolean(), true),
      // How long a launching instance may take to turn healthy; unset, the group's warm-up.
      healthTimeoutSeconds: z.optional(intBetween(30, 3600)),
    }),
    {},
  ),
});

export const NOTIFICATION_EVENTS = [
  'started',
  'promoted',
  'approval-waiting',
  'succeeded',
  'failed',
  'rolled-back',
  // An alarm of the service's that moved outside any rollout or watch window (on-alarm).
  'alarm',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * Where Slack webhook URLs live: rollout-steps may read (ssm:GetParameter) only parameters under
 * this path (serverless.yml; test/unit/functions/rollout-steps-iam.test.ts holds the two equal),
 * so a manifest cannot make Kiln read any other secret of the account.
 */
export const NOTIFICATION_PARAMETER_PREFIX = '/kiln/notifications/';

// SSM parameter names: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
const SsmParameterName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(2048),
    z.regex(/^[a-zA-Z0-9_.\-/]+$/, 'must be an SSM parameter name (letters, digits and _ . - /)'),
    z.regex(
      /^\/kiln\/notifications\/./,
      `must be a parameter under ${NOTIFICATION_PARAMETER_PREFIX} (the only path Kiln may read webhook URLs from)`,
    ),
  );
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (TopicArn)
const SnsTopicArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws(?:-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
      'must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:deploys',
    ),
  );

/** Where Kiln tells people about this service's deployments (issue 11); a failure to notify never fails a deployment. */
const NotificationsSchema = z.strictObject({
  // The Slack incoming webhook URL is a secret: the manifest names the SecureString holding it.
  slackWebhookParameter: z.optional(SsmParameterName),
  snsTopicArn: z.optional(SnsTopicArn),
  events: z._default(uniqueList(z.enum(NOTIFICATION_EVENTS), 'event'), [...NOTIFICATION_EVENTS]),
});

const EnvironmentSchema = z
  .strictObject({
    name: DnsLabel(32),
    region: RegionSchema,
    // Auto Scaling group names: 1-255 characters.
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html
    autoScalingGroup: z.string().check(z.minLength(1), z.maxLength(255)),
    targetGroupArns: z._default(
      uniqueList(TargetGroupArnSchema, 'target group').check(
        z.maxLength(
          MANIFEST_BOUNDS.targetGroups,
          `must list at most ${MANIFEST_BOUNDS.targetGroups} target groups (the most an Auto Scaling group takes)`,
        ),
      ),
      [],
    ),
    strategy: StrategySchema,
    alarms: z.prefault(
      z.strictObject({
        rollout: describe(
          z._default(
            uniqueList(AlarmNameSchema, 'alarm').check(
              z.maxLength(
                MANIFEST_BOUNDS.rolloutAlarms,
                `must list at most ${MANIFEST_BOUNDS.rolloutAlarms} alarms (the most an instance refresh watches)`,
              ),
            ),
            [],
          ),
          'Alarms that stop and roll back a rollout in flight.',
        ),
        watch: describe(
          z._default(
            uniqueList(AlarmNameSchema, 'alarm').check(
              z.maxLength(
                MANIFEST_BOUNDS.watchAlarms,
                `must list at most ${MANIFEST_BOUNDS.watchAlarms} alarms`,
              ),
            ),
            [],
          ),
          'Alarms watched after a rollout completes.',
        ),
        watchWindowMinutes: z._default(intBetween(0, 1440), 30),
      }),
      {},
    ),
    bakeTimeMinutes: describe(
      z._default(intBetween(0, 10080), 0),
      'How long a release must have run in the previous environment before promotion here; 0 for the first.',
    ),
    approval: z.prefault(
      z.strictObject({
        required: z._default(z.boolean(), false),
        // How long the deployment waits for an approver before it ends `aborted`.
        timeoutMinutes: z._default(intBetween(5, 10080), 1440),
      }),
      {},
    ),
    access: describe(
      z.prefault(z.strictObject({ deploy: principals(), rollback: principals(), approve: principals() }), {}),
      'Slack user ids (U…/W…) or user-group ids (S…) allowed to act on this environment.',
    ),
    lifecycle: describe(
      z.prefault(LifecycleSchema, {}),
      "How Kiln's lifecycle hooks drain terminating instances and verify launching ones.",
    ),
  })
  .check(
    z.superRefine((env, ctx) => {
      if (env.strategy.type === 'blue-green' && env.targetGroupArns.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['targetGroupArns'],
          message: 'blue-green needs at least one target group to move traffic between groups',
        });
      }
      if (env.approval.required && env.access.approve.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['access', 'approve'],
          message: 'approval is required, so list at least one approver',
        });
      }
      // A target group is regional: an ASG can only register with one in its own Region.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html
      env.targetGroupArns.forEach((arn, index) => {
        const region = regionOfTargetGroupArn(arn);
        if (region !== undefined && region !== env.region) {
          ctx.addIssue({
            code: 'custom',
            path: ['targetGroupArns', index],
            message: `is in ${region}, but this environment is in ${env.region}`,
          });
        }
      });
    }),
  );

// ---------------------------------------------------------------------------------------------
// The manifest

/**
 * Rules across bake and environments. They run even when unrelated fields are invalid (so one
 * pass reports every mistake), which is why they read the partially parsed value defensively.
 */
const crossFieldRules = z.superRefine<unknown>((value, ctx) => {
  if (!isRecord(value)) return;
  const bake = isRecord(value.bake) ? value.bake : {};
  // Too many environments is one problem, reported by the list itself; comparing thousands of
  // pasted copies with each other would only bury it.
  const environments =
    Array.isArray(value.environments) && value.environments.length <= MANIFEST_BOUNDS.environments
      ? value.environments
      : [];

  const bakeRegion = isRegion(bake.region) ? bake.region : undefined;
  const copies = new Set(Array.isArray(bake.copyToRegions) ? bake.copyToRegions.filter(isRegion) : []);
  const seenNames = new Map<string, number>();
  const seenGroups = new Map<string, number>();

  environments.forEach((env: unknown, index) => {
    if (!isRecord(env)) return;
    const at = (...rest: (string | number)[]) => ['environments', index, ...rest];

    if (typeof env.name === 'string') {
      const first = seenNames.get(env.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: at('name'),
          message: `duplicate environment name "${env.name}" (also environments[${first}])`,
        });
      } else seenNames.set(env.name, index);
    }

    if (
      bakeRegion !== undefined &&
      isRegion(env.region) &&
      env.region !== bakeRegion &&
      !copies.has(env.region)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: at('region'),
        message: `${env.region} has no copy of the AMI: it is neither the bake region (${bakeRegion}) nor in bake.copyToRegions`,
      });
    }

    if (isRegion(env.region) && typeof env.autoScalingGroup === 'string') {
      const key = `${env.region}/${env.autoScalingGroup}`;
      const first = seenGroups.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: at('autoScalingGroup'),
          message: `is already the group of environments[${first}]; each environment needs its own group`,
        });
      } else seenGroups.set(key, index);
    }

    if (index === 0 && typeof env.bakeTimeMinutes === 'number' && env.bakeTimeMinutes !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: at('bakeTimeMinutes'),
        message: 'must be 0 in the first environment: there is no earlier environment to bake in',
      });
    }
  });
});
crossFieldRules._zod.def.when = () => true;

/**
 * The store keeps the parsed manifest (defaults filled in) in one DynamoDB item, as attribute
 * `manifest`; it must fit there with room for the item's keys and metadata. Checked only once
 * everything else holds: the size of a manifest with mistakes is not the size it will have.
 */
const storeSizeRule = z.superRefine<Record<string, unknown>>((manifest, ctx) => {
  const size = storedAttributeSize('manifest', manifest);
  if (size <= MANIFEST_MAX_STORED_BYTES) return;
  const [largest, largestSize] = Object.entries(manifest)
    .map(([key, part]) => [key, storedAttributeSize(key, part)] as const)
    .reduce((a, b) => (b[1] > a[1] ? b : a));
  ctx.addIssue({
    code: 'custom',
    path: [],
    message:
      `takes ${formatCount(size)} bytes in Kiln's store, which holds at most ${formatCount(MANIFEST_MAX_STORED_BYTES)} bytes per manifest ` +
      `(a DynamoDB item is at most ${DYNAMODB_MAX_ITEM_BYTES / 1024} KB, less ${STORE_RESERVED_BYTES / 1024} KB for keys and metadata); ` +
      `its largest part is ${largest}, ${formatCount(largestSize)} bytes`,
  });
});
storeSizeRule._zod.def.when = (payload) => payload.issues.length === 0;

export const ServiceManifestSchema = z
  .strictObject({
    apiVersion: z.literal(MANIFEST_API_VERSION),
    kind: z.literal('Service'),
    name: describe(
      DnsLabel(40),
      'The service name: lowercase letters, digits and hyphens, at most 40 characters.',
    ),
    artifact: ArtifactSchema,
    bake: BakeSchema,
    environments: describe(
      z
        .array(EnvironmentSchema)
        .check(
          z.minLength(1, 'must list at least 1 environment'),
          z.maxLength(
            MANIFEST_BOUNDS.environments,
            `must list at most ${MANIFEST_BOUNDS.environments} environments`,
          ),
        ),
      'In promotion order: a release reaches each environment after the one before it.',
    ),
    notifications: describe(
      z.prefault(NotificationsSchema, {}),
      'Where Kiln posts deployment news: a Slack incoming webhook (its URL in SSM) and/or an SNS topic.',
    ),
  })
  .check(crossFieldRules)
  .check(storeSizeRule);

export type ServiceManifest = z.infer<typeof ServiceManifestSchema>;
export type ServiceManifestInput = z.input<typeof ServiceManifestSchema>;
export type Environment = ServiceManifest['environments'][number];
export type Strategy = Environment['strategy'];
export type RollingStrategy = z.infer<typeof RollingStrategySchema>;

/** Validates without throwing; issues name their field and carry the path for positioning. */
export function safeParseManifest(value: unknown): ParseOutcome<ServiceManifest> {
  return parseWithIssues(ServiceManifestSchema, value);
}

/** Validates a manifest (already read from YAML/JSON); throws ManifestValidationError. */
export function parseManifest(value: unknown): ServiceManifest {
  const outcome = safeParseManifest(value);
  if (!outcome.success) throw new ManifestValidationError(outcome.issues);
  return outcome.data;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRegion(value: unknown): value is string {
  return RegionSchema.safeParse(value).success;
}
