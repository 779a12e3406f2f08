/**
 * Chat's secrets (Slack's signing secret, optionally the app's bot token) from Parameter Store,
 * never from the template: the function's configuration names the parameter, whose SecureString
 * value is decrypted on read (GetParameter WithDecryption,
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html). A
 * Secrets Manager secret is read through the same call by naming
 * `/aws/reference/secretsmanager/<secret-id>`, as Parameter Store documents
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html),
 * so one adapter serves both.
 *
 * The value is the signing secret itself, or JSON `{ "signingSecret": "…", "botToken": "xoxb-…" }`
 * (the shape a Secrets Manager secret of key/value pairs takes). Read once per container: a
 * rotated secret reaches new containers (redeploy, or wait for Lambda to recycle them).
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from '../domain/zod';
import { ConfigError } from '../runtime/errors';
import { callAws } from './aws-errors';

export interface SlackSecrets {
  signingSecret: string;
  botToken?: string;
}

const SecretJson = z.object({
  signingSecret: z.string().check(z.minLength(1)),
  botToken: z.optional(z.string().check(z.regex(/^xox[a-z]-/, 'must be a Slack token (xoxb-…)'))),
});

/** Reads the secret once and keeps it (concurrent first callers share one read). */
export class SlackSecretsParameter {
  private pending: Promise<SlackSecrets> | undefined;

  constructor(
    private readonly ssm: SSMClient,
    private readonly name: string,
  ) {}

  get(): Promise<SlackSecrets> {
    this.pending ??= this.read().catch((error: unknown) => {
      this.pending = undefined; // a failed read is tried again by the next request
      throw error;
    });
    return this.pending;
  }

  private async read(): Promise<SlackSecrets> {
    const out = await callAws('SSM', `GetParameter ${this.name}`, () =>
      this.ssm.send(new GetParameterCommand({ Name: this.name, WithDecryption: true })),
    );
    const value = out.Parameter?.Value;
    if (value === undefined || value.trim() === '') {
      throw new ConfigError(`parameter ${this.name} holds no Slack signing secret`);
    }
    return parseSlackSecrets(value, this.name);
  }
}

export function parseSlackSecrets(value: string, name: string): SlackSecrets {
  if (!value.trimStart().startsWith('{')) return { signingSecret: value.trim() };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    throw new ConfigError(`parameter ${name} starts with "{" but is not JSON`);
  }
  const parsed = z.safeParse(SecretJson, json);
  if (!parsed.success) {
    throw new ConfigError(
      `parameter ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data.botToken === undefined
    ? { signingSecret: parsed.data.signingSecret }
    : { signingSecret: parsed.data.signingSecret, botToken: parsed.data.botToken };
}
