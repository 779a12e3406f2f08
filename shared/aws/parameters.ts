/**
 * SecureString parameters (Parameter Store) read decrypted, for secrets the manifest names by
 * parameter rather than holding them (a Slack webhook URL). GetParameter with WithDecryption
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html); the
 * caller needs kms:Decrypt on the parameter's key, through SSM
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html).
 *
 * Values are kept for `cacheMs` (a warm container does not read the secret for every notice) and
 * never logged or put in an error message.
 */
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { callAws } from './aws-errors';

export class SecureParameters {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: SSMClient,
    private readonly options: { now?: () => number; cacheMs?: number } = {},
  ) {}

  async value(name: string, signal?: AbortSignal): Promise<string> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(name);
    if (cached && cached.until > now) return cached.value;
    const result = await callAws(
      'Systems Manager',
      `read the parameter ${name}`,
      () =>
        this.client.send(
          new GetParameterCommand({ Name: name, WithDecryption: true }),
          signal === undefined ? {} : { abortSignal: signal },
        ),
      {
        ParameterNotFound: () => {
          throw new Error(`the parameter ${name} does not exist`);
        },
      },
    );
    const value = result.Parameter?.Value;
    if (value === undefined || value === '') throw new Error(`the parameter ${name} has no value`);
    this.cache.set(name, { value, until: now + (this.options.cacheMs ?? 5 * 60 * 1000) });
    return value;
  }
}
