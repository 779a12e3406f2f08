/**
 * The manifest's `bake` section: how an artifact becomes an AMI (base image, builder, install and
 * smoke check, volume, tags, copies to other Regions, timeout and image retention).
 */
import { RETENTION_BOUNDS, RETENTION_DEFAULTS } from '../retention';
import * as z from '../zod';
import {
  describe,
  exactlyOneOf,
  intBetween,
  RegionSchema,
  resourceId,
  TagsSchema,
  uniqueList,
} from './fields';
import { MANIFEST_BOUNDS } from './limits';

// SSM parameter names: a-zA-Z0-9_.- and "/" for hierarchy; not prefixed with aws or ssm.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
const SsmParameterNameSchema = z
  .string()
  .check(
    z.maxLength(1011),
    z.regex(
      /^\/[a-zA-Z0-9_.\-/]+$/,
      'must be an SSM parameter path like /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    ),
  );

// SSM document names (or the ARN of a document shared from another account).
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
const SsmDocumentSchema = z.strictObject({
  name: z
    .string()
    .check(
      z.regex(
        /^(?:[a-zA-Z0-9_\-.]{3,128}|arn:aws(?:-cn|-us-gov)?:ssm:[a-z0-9-]+:\d{12}:document\/[a-zA-Z0-9_\-.]{3,128})$/,
        'must be an SSM document name (3-128 letters, digits, _ - .) or its ARN',
      ),
    ),
  // SendCommand takes Parameters as a map of name to list of strings.
  parameters: z.optional(
    z
      .record(
        z.string().check(z.minLength(1), z.maxLength(MANIFEST_BOUNDS.shortText * 2)),
        z
          .array(z.string().check(z.maxLength(MANIFEST_BOUNDS.commandLength)))
          .check(z.maxLength(MANIFEST_BOUNDS.ssmParameterValues)),
      )
      .check(
        z.refine(
          (parameters) => Object.keys(parameters).length <= MANIFEST_BOUNDS.ssmParameters,
          `must hold at most ${MANIFEST_BOUNDS.ssmParameters} parameters`,
        ),
      ),
  ),
});

// IAM names: up to 128 of [\w+=,.@-]; an instance profile may also be given by ARN.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateInstanceProfile.html
const InstanceProfileSchema = z
  .string()
  .check(
    z.regex(
      /^(?:[\w+=,.@-]{1,128}|arn:aws(?:-cn|-us-gov)?:iam::\d{12}:instance-profile\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128})$/,
      'must be an instance profile name or ARN',
    ),
  );

// Shell commands for AWS-RunShellScript (the install, and the smoke check).
const ShellCommandsSchema = z
  .array(
    z
      .string()
      .check(
        z.minLength(1, 'commands must not be empty'),
        z.maxLength(
          MANIFEST_BOUNDS.commandLength,
          `commands must be at most ${MANIFEST_BOUNDS.commandLength} characters long`,
        ),
      ),
  )
  .check(
    z.minLength(1),
    z.maxLength(
      MANIFEST_BOUNDS.commands,
      `must list at most ${MANIFEST_BOUNDS.commands} commands (put longer scripts in the artifact or an SSM document)`,
    ),
  );

export const BakeSchema = z
  .strictObject({
    region: describe(
      RegionSchema,
      'The Region where the AMI is baked; environments elsewhere need copyToRegions.',
    ),
    baseImage: describe(
      exactlyOneOf({
        amiId: resourceId('ami', '0123456789abcdef0'),
        ssmParameter: SsmParameterNameSchema,
      }),
      'The image to start from: exactly one of amiId or ssmParameter (resolved at bake time).',
    ),
    instanceType: z
      .string()
      .check(
        z.maxLength(MANIFEST_BOUNDS.shortText),
        z.regex(/^[a-z][a-z0-9-]*\.[a-z0-9-]+$/, 'must be an EC2 instance type like t3.large or m7g.xlarge'),
      ),
    subnetId: resourceId('subnet', '0123456789abcdef0'),
    securityGroupIds: uniqueList(resourceId('sg', '0123456789abcdef0'), 'security group').check(
      z.minLength(1),
      z.maxLength(
        MANIFEST_BOUNDS.securityGroups,
        `must list at most ${MANIFEST_BOUNDS.securityGroups} security groups (the most a network interface takes)`,
      ),
    ),
    instanceProfile: InstanceProfileSchema,
    install: describe(
      exactlyOneOf({
        commands: ShellCommandsSchema,
        ssmDocument: SsmDocumentSchema,
      }),
      'How the artifact is installed: shell commands, or an SSM document run with SendCommand.',
    ),
    smokeCheck: z.optional(
      describe(
        z.strictObject({ commands: ShellCommandsSchema }),
        'Shell commands run on the builder after the install (AWS-RunShellScript); a failure fails the bake before any image is made.',
      ),
    ),
    // gp2/gp3 volumes take 1-16,384 GiB; below 8 GiB common base images do not fit.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_EbsBlockDevice.html
    volumeSizeGiB: z._default(intBetween(8, 16384), 16),
    tags: z._default(TagsSchema, {}),
    // CopyImage copies the AMI into each listed Region.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CopyImage.html
    copyToRegions: z._default(
      uniqueList(RegionSchema, 'Region').check(
        z.maxLength(
          MANIFEST_BOUNDS.copyToRegions,
          `must list at most ${MANIFEST_BOUNDS.copyToRegions} Regions`,
        ),
      ),
      [],
    ),
    timeoutMinutes: z._default(intBetween(5, 720), 60),
    retention: describe(
      z.prefault(
        z.strictObject({
          keepReleases: describe(
            z._default(
              intBetween(RETENTION_BOUNDS.keepReleases.min, RETENTION_BOUNDS.keepReleases.max),
              RETENTION_DEFAULTS.keepReleases,
            ),
            'How many of the newest releases keep their AMIs; AMIs an environment runs or would roll back to are kept too.',
          ),
          graceDays: describe(
            z._default(
              intBetween(RETENTION_BOUNDS.graceDays.min, RETENTION_BOUNDS.graceDays.max),
              RETENTION_DEFAULTS.graceDays,
            ),
            'Days an AMI stays deprecated before it is deregistered with its snapshots.',
          ),
        }),
        {},
      ),
      'Image retention: older AMIs Kiln baked are deprecated, then deregistered after the grace period.',
    ),
  })
  .check(
    z.superRefine((bake, ctx) => {
      bake.copyToRegions.forEach((region, index) => {
        if (region === bake.region) {
          ctx.addIssue({
            code: 'custom',
            path: ['copyToRegions', index],
            message: `${region} is the bake region itself; list only other Regions`,
          });
        }
      });
    }),
  );
