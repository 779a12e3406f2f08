import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parseKnownFiles } from '@smithy/core/config';
import { EnvironmentError, KilnError } from '../shared/runtime/errors';

/**
 * Turns an SDK failure caused by the AWS environment into an EnvironmentError: one line naming
 * the setting to fix, for whichever service and resource the failing call used.
 */
export { EnvironmentError };

/** An AWS service the CLI talks to, as its messages name it. */
export interface AwsService {
  /** How AWS writes it in prose. */
  name: string;
  /**
   * Its own endpoint variable, AWS_ENDPOINT_URL_<SERVICE ID> (the service id upper-cased, spaces
   * as underscores): https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
   */
  endpointVariable: string;
  /** The error names with which it answers that the resource is not there. */
  notFound: readonly string[];
}

export const DYNAMODB: AwsService = {
  name: 'DynamoDB',
  endpointVariable: 'AWS_ENDPOINT_URL_DYNAMODB',
  notFound: ['ResourceNotFoundException'],
};

/**
 * A missing queue is QueueDoesNotExist (AWS.SimpleQueueService.NonExistentQueue is its AWS Query
 * code). SQS gives the same answer to a caller without access to the queue, or asked in another
 * Region: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-api-errors.html
 */
export const SQS: AwsService = {
  name: 'SQS',
  endpointVariable: 'AWS_ENDPOINT_URL_SQS',
  notFound: ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'],
};

/** https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html (ResourceNotFoundException, 404) */
export const LAMBDA: AwsService = {
  name: 'Lambda',
  endpointVariable: 'AWS_ENDPOINT_URL_LAMBDA',
  notFound: ['ResourceNotFoundException'],
};

/**
 * For `kiln deploy`, `rollback`, `approve`, `abort` (StartExecution, SendTaskSuccess,
 * DescribeExecution). The SDK's service id is `SFN`, so its endpoint variable is
 * AWS_ENDPOINT_URL_SFN. A missing machine is StateMachineDoesNotExist:
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export const STEP_FUNCTIONS: AwsService = {
  name: 'Step Functions',
  endpointVariable: 'AWS_ENDPOINT_URL_SFN',
  notFound: ['StateMachineDoesNotExist', 'ExecutionDoesNotExist'],
};

/** For `--wait`'s instance counts (DescribeAutoScalingGroups; service id `Auto Scaling`). */
export const AUTO_SCALING: AwsService = {
  name: 'Auto Scaling',
  endpointVariable: 'AWS_ENDPOINT_URL_AUTO_SCALING',
  notFound: [],
};

/** The resource a failing call used, and the setting that named it. */
export interface AwsResource {
  service: AwsService;
  /** What it is, in a word: `table`, `queue`, `function`. */
  kind: string;
  name: string;
  /** Where its name came from, as the user would change it. */
  namedBy: string;
  /** What the caller's identity must be allowed to do with it. */
  access: string;
}

/** Kiln's table, as the store commands (`services`, `history`) name it. */
export function kilnTable(name: string): AwsResource {
  return {
    service: DYNAMODB,
    kind: 'table',
    name,
    namedBy: '--table or KILN_TABLE (the stack output KilnTableName)',
    access: 'read and write it',
  };
}

/** What the failing command was using, so the message can name it. */
export type AwsSettingsInUse = ClientInUse &
  (
    | { resource: AwsResource }
    /** The table the command was pointed at (from `--table` or KILN_TABLE): `kilnTable(table)`. */
    | { table: string }
  );

interface ClientInUse {
  env: NodeJS.ProcessEnv;
  /** `--region`, when given (it wins over AWS_REGION and the profile). */
  region?: string;
  /** `--profile`, when given (it wins over AWS_PROFILE). */
  profile?: string;
  /** The region the client resolved, or undefined when it has none. */
  resolvedRegion: () => Promise<string | undefined>;
}

/**
 * Node's socket error codes for an endpoint that cannot be reached, in words. The SDK rethrows
 * these unchanged after its retries; a connect timeout comes from @smithy/node-http-handler as
 * `TimeoutError`.
 */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};

/**
 * Errors AWS returns when it rejects the caller's identity rather than the request. Names from
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html and
 * the common errors of every AWS API: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html
 */
const REJECTED_CREDENTIALS: Record<string, string> = {
  UnrecognizedClientException: 'AWS does not recognise the access key',
  InvalidClientTokenId: 'AWS does not recognise the access key',
  InvalidSignatureException: 'AWS rejected the request signature (wrong secret key?)',
  IncompleteSignatureException: 'AWS rejected the request signature (wrong secret key?)',
  SignatureDoesNotMatch: 'AWS rejected the request signature (wrong secret key?)',
  MissingAuthenticationTokenException: 'the request carried no credentials',
  ExpiredTokenException: 'the AWS session token has expired',
  ExpiredToken: 'the AWS session token has expired',
};

/**
 * The EnvironmentError an SDK failure stands for, or undefined when it is not an environment
 * problem (then it is Kiln's own, and the caller lets it propagate). Reads the shared config
 * files only on this failure path, to list the profiles they hold.
 */
export async function explainEnvironmentError(
  error: unknown,
  settings: AwsSettingsInUse,
): Promise<EnvironmentError | undefined> {
  // Explained already, by a call made inside another (a Step Functions call while the table is
  // open): that explanation names the service that failed; re-reading its cause here would blame
  // the outer one's.
  if (error instanceof EnvironmentError) return error;
  // Kiln's adapters name some SDK errors (QueueNotFoundError, FunctionNotFoundError) and keep
  // what AWS said as the cause.
  const said = error instanceof KilnError && error.cause !== undefined ? error.cause : error;
  if (!isErrorLike(said)) return undefined;
  const resource = 'resource' in settings ? settings.resource : kilnTable(settings.table);
  const message = await describe(said, settings, resource);
  return message === undefined ? undefined : new EnvironmentError(message, { cause: error });
}

/**
 * Runs `call`; a failure caused by the AWS environment is rethrown as the EnvironmentError naming
 * the setting to fix, anything else unchanged.
 */
export async function explainingFailures<T>(settings: AwsSettingsInUse, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw (await explainEnvironmentError(error, settings)) ?? error;
  }
}

interface ErrorLike {
  name: string;
  message: string;
  code?: unknown;
  hostname?: unknown;
}

/**
 * Checked by shape, not `instanceof Error`: Node's socket and URL errors come from Node's own
 * realm, which is not the caller's inside a VM context such as Jest's.
 */
function isErrorLike(value: unknown): value is ErrorLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

async function describe(
  error: ErrorLike,
  settings: AwsSettingsInUse,
  resource: AwsResource,
): Promise<string | undefined> {
  const { env } = settings;
  const { service } = resource;
  const code = typeof error.code === 'string' ? error.code : undefined;

  // An unknown profile makes both the region and the credentials lookups fail; it is the cause.
  const isRegionMissing = error.message === 'Region is missing';
  const isCredentialsMissing = error.name === 'CredentialsProviderError';
  if (isRegionMissing || isCredentialsMissing) {
    const profile = await profileInUse(settings);
    if (profile.explicit && !profile.exists) return unknownProfile(profile);
    return isRegionMissing ? noRegion(settings, profile) : noCredentials(error, settings, profile);
  }

  if (code === 'ERR_INVALID_URL') {
    const endpoint = configuredEndpoint(env, service);
    if (endpoint !== undefined) {
      return `${endpoint.variable} is not a URL (${JSON.stringify(endpoint.url)}): set it to e.g. http://127.0.0.1:8000, or unset it to reach AWS`;
    }
    return undefined;
  }

  const unreachable = code !== undefined ? UNREACHABLE[code] : undefined;
  if (unreachable !== undefined || error.name === 'TimeoutError') {
    const reason = unreachable ?? 'no connection within the timeout';
    const endpoint = configuredEndpoint(env, service);
    if (endpoint !== undefined) {
      return `cannot reach ${service.name} at ${endpoint.url} (${reason}): check ${endpoint.variable}`;
    }
    const region = await settings.resolvedRegion();
    const host = typeof error.hostname === 'string' ? error.hostname : undefined;
    return (
      `cannot reach ${service.name}${host === undefined ? '' : ` at ${host}`} (${reason}): check ` +
      `${settings.region === undefined ? 'AWS_REGION' : '--region'}${region === undefined ? '' : ` ("${region}")`}, ` +
      `your network and proxy, or set ${service.endpointVariable} for a local endpoint`
    );
  }

  if (service.notFound.includes(error.name)) {
    const region = await settings.resolvedRegion();
    const endpoint = configuredEndpoint(env, service);
    const where = endpoint !== undefined ? `at ${endpoint.url}` : `in ${region ?? 'the configured region'}`;
    return (
      `${service.name} ${resource.kind} "${resource.name}" not found ${where}: check ${resource.namedBy}, ` +
      `and ${endpoint !== undefined ? endpoint.variable : 'the region'}`
    );
  }

  const rejected = REJECTED_CREDENTIALS[error.name];
  if (rejected !== undefined) {
    const profile = await profileInUse(settings);
    const source = profile.explicit
      ? `the credentials of profile "${profile.name}" (${profile.variable})`
      : 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or AWS_PROFILE';
    if (error.name.startsWith('ExpiredToken')) {
      const login = profile.explicit ? `aws sso login --profile ${profile.name}` : 'aws sso login';
      return `${rejected} (${error.name}): refresh ${source}, e.g. \`${login}\``;
    }
    return `${rejected} (${error.name}): check ${source}`;
  }

  if (error.name === 'AccessDeniedException') {
    return `access to ${service.name} ${resource.kind} "${resource.name}" denied (${firstLine(error.message)}): use a profile or role allowed to ${resource.access}`;
  }

  return undefined;
}

interface ProfileInUse {
  name: string;
  /** Named by --profile or AWS_PROFILE (the implicit `default` profile may rightly be absent). */
  explicit: boolean;
  /** The setting that named it. */
  variable: '--profile' | 'AWS_PROFILE' | 'the default profile';
  exists: boolean;
  hasRegion: boolean;
  /** Every profile the two files define, sorted. */
  available: string[];
  configFile: string;
  credentialsFile: string;
}

/**
 * The profile the SDK used and what the shared files say about it. The paths follow the SDK's
 * own rules (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and
 * ~/.aws/credentials): https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html
 */
async function profileInUse(settings: AwsSettingsInUse): Promise<ProfileInUse> {
  const { env } = settings;
  const fromEnv = nonEmpty(env.AWS_PROFILE);
  const name = settings.profile ?? fromEnv ?? 'default';
  const variable =
    settings.profile !== undefined
      ? '--profile'
      : fromEnv !== undefined
        ? 'AWS_PROFILE'
        : 'the default profile';
  const configFile = nonEmpty(env.AWS_CONFIG_FILE) ?? join(homedir(), '.aws', 'config');
  const credentialsFile = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(homedir(), '.aws', 'credentials');
  // parseKnownFiles is what the SDK's profile provider reads: both files merged, one key per
  // profile, plus `sso-session.NAME` / `services.NAME` sections that are not profiles.
  const profiles = await parseKnownFiles({
    configFilepath: configFile,
    filepath: credentialsFile,
    ignoreCache: true,
  });
  const available = Object.keys(profiles)
    .filter((key) => !key.startsWith('sso-session.') && !key.startsWith('services.'))
    .sort();
  const section = profiles[name];
  return {
    name,
    explicit: variable !== 'the default profile',
    variable,
    exists: section !== undefined,
    hasRegion: section?.region !== undefined,
    available,
    configFile,
    credentialsFile,
  };
}

function unknownProfile(profile: ProfileInUse): string {
  const choice =
    profile.available.length > 0
      ? `set ${profile.variable} to one of: ${profile.available.join(', ')}`
      : `no profiles are defined there: create one with \`aws configure --profile ${profile.name}\`, or unset ${profile.variable}`;
  return `AWS profile "${profile.name}" not found in ${tilde(profile.configFile)} or ${tilde(profile.credentialsFile)}: ${choice}`;
}

function noRegion(settings: AwsSettingsInUse, profile: ProfileInUse): string {
  const where = profile.explicit ? `profile "${profile.name}"` : 'the [default] profile';
  // The SDK for JavaScript reads AWS_REGION only (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-region.html),
  // while the AWS CLI also reads AWS_DEFAULT_REGION: a common reason the region seems set.
  const hint =
    nonEmpty(settings.env.AWS_DEFAULT_REGION) !== undefined
      ? ' (AWS_DEFAULT_REGION is not read by the AWS SDK)'
      : '';
  return `no AWS region: set AWS_REGION or pass --region, or add region to ${where} in ${tilde(profile.configFile)}${hint}`;
}

function noCredentials(error: ErrorLike, settings: AwsSettingsInUse, profile: ProfileInUse): string {
  const { env } = settings;
  // The SDK's catch-all says nothing the user can act on; anything more specific (an expired SSO
  // session, a failing credential_process) is worth keeping beside our advice.
  const detail =
    error.message === 'Could not load credentials from any providers' ? '' : ` (${firstLine(error.message)})`;
  if (profile.explicit) {
    return (
      `no usable AWS credentials in profile "${profile.name}"${detail}: add keys, a role or SSO settings to it in ` +
      `${tilde(profile.configFile)} or ${tilde(profile.credentialsFile)}, or sign in (\`aws sso login --profile ${profile.name}\`)`
    );
  }
  const keyId = nonEmpty(env.AWS_ACCESS_KEY_ID) !== undefined;
  const secret = nonEmpty(env.AWS_SECRET_ACCESS_KEY) !== undefined;
  if (keyId !== secret) {
    const [missing, present] = keyId
      ? ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID']
      : ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    return `${missing} is not set but ${present} is: set both, or unset both and set AWS_PROFILE`;
  }
  return `no AWS credentials${detail}: set AWS_PROFILE to a profile with credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (\`aws configure\` creates the default profile)`;
}

/**
 * The endpoint override the SDK applied, if any: the service-specific variable wins over the
 * global one (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
function configuredEndpoint(
  env: NodeJS.ProcessEnv,
  service: AwsService,
): { variable: string; url: string } | undefined {
  const own = nonEmpty(env[service.endpointVariable]);
  if (own !== undefined) return { variable: service.endpointVariable, url: own };
  const global = nonEmpty(env.AWS_ENDPOINT_URL);
  if (global !== undefined) return { variable: 'AWS_ENDPOINT_URL', url: global };
  return undefined;
}

/** Whether KILN_DEBUG asks for the SDK's original error beneath the one-line message. */
export function debugRequested(env: NodeJS.ProcessEnv): boolean {
  const value = env.KILN_DEBUG;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/** The original error in full (name, message, code, metadata, stack), for KILN_DEBUG. */
export function formatCause(error: EnvironmentError): string {
  return inspect(error.cause, { depth: 4, breakLength: Infinity });
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function tilde(path: string): string {
  const home = homedir();
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}
