import type { Command } from 'commander';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { functionNameOf, type DeadLetter } from '../../shared/domain/dead-letter';
import type { DeadLetterQueuePort, InvokerPort, ReplayOutcome } from '../../shared/usecases/dead-letters';
import { explainingFailures, LAMBDA, SQS, type AwsResource } from '../environment-errors';
import {
  clientSettings,
  CliUsageError,
  CONNECT_TIMEOUT_MS,
  renderTable,
  runReported,
  type ClientSettings,
} from '../store-options';

/**
 * `kiln dead-letters list [--json]`: events that failed after AWS's retries (EventBridge could
 * not deliver them, or a function failed on them), oldest first.
 * `kiln dead-letters replay ID...|--all [--dry-run]`: hands each event back to the function that
 * failed on it and deletes the message once Lambda accepted the event.
 * The queue comes from `--queue URL` or KILN_DEAD_LETTER_QUEUE (stack output KilnDeadLetterQueueUrl).
 */
export interface DeadLetterCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Makes the SDK clients; `createDeadLetterClients` unless a test hands in its own. */
  createClients: (settings: ClientSettings) => Promise<{ sqs: SQSClient; lambda: LambdaClient }>;
}

export const processDeadLetterIo: DeadLetterCommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  createClients: createDeadLetterClients,
};

/**
 * The clients the command uses, configured like the store commands' (`--region`, `--profile`, the
 * SDK's configuration chain, a connect timeout), and redirected by AWS_ENDPOINT_URL_SQS /
 * AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL:
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
export async function createDeadLetterClients(
  settings: ClientSettings,
): Promise<{ sqs: SQSClient; lambda: LambdaClient }> {
  // Loaded only when the command runs, so `kiln --help` and the other commands start fast.
  const [{ SQSClient }, { LambdaClient }] = await Promise.all([
    import('@aws-sdk/client-sqs'),
    import('@aws-sdk/client-lambda'),
  ]);
  const config = { ...clientSettings(settings), requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS } };
  return {
    // By default the SDK for JavaScript sends SQS requests to the queue URL's host, ignoring
    // AWS_ENDPOINT_URL_SQS and the region, and warns on the console when they differ. Off, the
    // queue URL only names the queue: the region and the endpoint variables decide where requests
    // go, as for every other client, and a queue in another region is reported as not found
    // there, as AWS documents it: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-api-errors.html
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    lambda: new LambdaClient(config),
  };
}

interface DeadLetterOptions extends ClientSettings {
  queue?: string;
}

function queueUrl(options: DeadLetterOptions, env: NodeJS.ProcessEnv): string {
  const url = options.queue ?? env.KILN_DEAD_LETTER_QUEUE;
  if (url === undefined || url.trim() === '') {
    throw new CliUsageError(
      'no dead-letter queue: pass --queue URL or set KILN_DEAD_LETTER_QUEUE (the stack output KilnDeadLetterQueueUrl)',
    );
  }
  if (!/^https?:\/\/\S+\/\d{12}\/[A-Za-z0-9_-]{1,80}$/.test(url.trim())) {
    throw new CliUsageError(
      `--queue must be an SQS queue URL such as https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, got "${url}"`,
    );
  }
  return url.trim();
}

function deadLetterQueue(url: string): AwsResource {
  return {
    service: SQS,
    kind: 'queue',
    name: url,
    namedBy: '--queue or KILN_DEAD_LETTER_QUEUE (the stack output KilnDeadLetterQueueUrl)',
    access: 'receive, release and delete its messages',
  };
}

function replayTarget(functionArn: string): AwsResource {
  return {
    service: LAMBDA,
    kind: 'function',
    name: functionArn,
    namedBy: 'the function ARN the dead letter records (was the function removed or renamed?)',
    access: 'invoke it',
  };
}

/**
 * The queue and the invoker on the configured clients. As `withStore` does for the table, every
 * failure the AWS environment causes becomes an EnvironmentError naming the setting to fix, for
 * the service that failed: SQS and the queue, or Lambda and the function.
 */
async function open(options: DeadLetterOptions, io: DeadLetterCommandIo) {
  const url = queueUrl(options, io.env);
  const settings = clientSettings(options);
  const [{ DeadLetterQueue }, { FunctionInvoker }, usecases, clients] = await Promise.all([
    import('../../shared/aws/sqs'),
    import('../../shared/aws/lambda'),
    import('../../shared/usecases/dead-letters'),
    io.createClients(settings),
  ]);
  const using = (resource: AwsResource, client: SQSClient | LambdaClient) => ({
    env: io.env,
    ...settings,
    resource,
    resolvedRegion: () => client.config.region().catch(() => undefined),
  });
  const sqs = new DeadLetterQueue({ client: clients.sqs, queueUrl: url });
  const onQueue = using(deadLetterQueue(url), clients.sqs);
  const queue: DeadLetterQueuePort = {
    receiveAll: (o) => explainingFailures(onQueue, () => sqs.receiveAll(o)),
    release: (messages) => explainingFailures(onQueue, () => sqs.release(messages)),
    delete: (message) => explainingFailures(onQueue, () => sqs.delete(message)),
  };
  const lambda = new FunctionInvoker(clients.lambda);
  const invoker: InvokerPort = {
    invokeAsync: (arn, event) =>
      explainingFailures(using(replayTarget(arn), clients.lambda), () => lambda.invokeAsync(arn, event)),
  };
  return {
    queue,
    invoker,
    usecases,
    close: () => {
      clients.sqs.destroy();
      clients.lambda.destroy();
    },
  };
}

const withQueue = (command: Command): Command =>
  command
    .option('--queue <url>', 'SQS URL of the dead-letter queue (default: $KILN_DEAD_LETTER_QUEUE)')
    .option(
      '--region <region>',
      "AWS Region of the queue and the functions (default: $AWS_REGION, else the profile's region)",
    )
    .option('--profile <name>', 'AWS profile from ~/.aws/config (default: $AWS_PROFILE, else default)');

function eventLabel(letter: DeadLetter): string {
  const { detailType, source } = letter.event;
  if (detailType === undefined && source === undefined) return '-';
  return `${detailType ?? '?'} (${source ?? '?'})`;
}

function ruleName(letter: DeadLetter): string {
  return letter.ruleArn === undefined ? '-' : (letter.ruleArn.split('/').at(-1) ?? letter.ruleArn);
}

function asJson(letter: DeadLetter) {
  return {
    id: letter.shortId,
    messageId: letter.id,
    kind: letter.kind,
    failedAt: letter.failedAt ?? null,
    function: letter.functionArn === undefined ? null : functionNameOf(letter.functionArn),
    functionArn: letter.functionArn ?? null,
    rule: letter.ruleArn ?? null,
    error: letter.error,
    attempts: letter.attempts ?? null,
    event: {
      id: letter.event.id ?? null,
      source: letter.event.source ?? null,
      detailType: letter.event.detailType ?? null,
    },
  };
}

export function registerDeadLetters(program: Command, io: DeadLetterCommandIo = processDeadLetterIo): void {
  const deadLetters = program
    .command('dead-letters')
    .description('List and replay events that failed after AWS retried them.');

  withQueue(
    deadLetters
      .command('list')
      .description('List dead letters: what failed, when, where, and why.')
      .option('--json', 'print JSON'),
  ).action(async (options: DeadLetterOptions & { json?: boolean }) => {
    await runReported(io, async () => {
      const { queue, usecases, close } = await open(options, io);
      try {
        const letters = await usecases.listDeadLetters({ queue });
        if (options.json === true) {
          io.stdout(`${JSON.stringify(letters.map(asJson), null, 2)}\n`);
          return;
        }
        if (letters.length === 0) {
          io.stdout('no dead letters\n');
          return;
        }
        io.stdout(
          renderTable(
            ['ID', 'FAILED', 'KIND', 'FUNCTION', 'RULE', 'EVENT', 'ATTEMPTS', 'ERROR'],
            letters.map((l) => [
              l.shortId,
              l.failedAt ?? '-',
              l.kind,
              l.functionArn === undefined ? '-' : functionNameOf(l.functionArn),
              ruleName(l),
              eventLabel(l),
              l.attempts === undefined ? '-' : String(l.attempts),
              l.error.split('\n')[0] ?? '',
            ]),
          ),
        );
      } finally {
        close();
      }
    });
  });

  withQueue(
    deadLetters
      .command('replay')
      .description('Hand failed events back to their functions; delete each message once Lambda accepted it.')
      .argument('[ids...]', 'dead-letter ids (from `list`; a unique prefix of 4 or more characters will do)')
      .option('--all', 'replay every dead letter')
      .option('--dry-run', 'show what would be replayed, change nothing'),
  ).action(async (ids: string[], options: DeadLetterOptions & { all?: boolean; dryRun?: boolean }) => {
    await runReported(io, async () => {
      if (options.all === true && ids.length > 0)
        throw new CliUsageError('pass dead-letter ids or --all, not both');
      if (options.all !== true && ids.length === 0) {
        throw new CliUsageError('replay needs dead-letter ids or --all (see `kiln dead-letters list`)');
      }
      const { queue, invoker, usecases, close } = await open(options, io);
      try {
        const outcomes = await usecases.replayDeadLetters(
          options.all === true ? { all: true } : { ids },
          {
            dryRun: options.dryRun === true,
            onOutcome: (outcome) => io.stdout(`${describeOutcome(outcome)}\n`),
          },
          { queue, invoker },
        );
        if (outcomes.length === 0) io.stdout('no dead letters\n');
        if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
      } finally {
        close();
      }
    });
  });
}

function describeOutcome(outcome: ReplayOutcome): string {
  const { letter } = outcome;
  const target = letter.functionArn === undefined ? '?' : functionNameOf(letter.functionArn);
  const what = `${letter.shortId} ${eventLabel(letter)}`;
  switch (outcome.status) {
    case 'replayed':
      return `replayed ${what} → ${target} (message deleted)`;
    case 'would-replay':
      return `would replay ${what} → ${target}`;
    case 'failed':
      return `not replayed ${what}: ${outcome.reason} (message kept)`;
  }
}
