import * as z from '../domain/zod';
import { ConfigError } from './errors';
import { formatPath } from './validation';

/**
 * Reads and checks a function's configuration from environment variables, once, at cold start.
 * A missing or malformed variable fails the first invocation loudly with its name, instead of
 * failing later in the middle of a rollout.
 */
export function loadConfig<S extends z.core.$ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)} (${issue.message})`);
  throw new ConfigError(`invalid configuration: ${problems.join(', ')}`, { cause: result.error });
}

/** The variables every Kiln function gets from serverless.yml. */
export const BaseConfigSchema = z.object({
  KILN_TABLE: z.string().check(z.minLength(1)),
  KILN_STAGE: z._default(z.string().check(z.minLength(1)), 'dev'),
  AWS_REGION: z.string().check(z.minLength(1)),
});
export type BaseConfig = z.infer<typeof BaseConfigSchema>;

/** A Step Functions state machine ARN, as serverless.yml hands it to the functions that start one. */
export const StateMachineArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/,
      'must be a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)',
    ),
  );
