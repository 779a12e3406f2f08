/**
 * chatops: Slack's `/kiln` slash command and Kiln's buttons (HTTP API POST /slack), in one
 * function with two roles:
 * - an HTTP API event is acknowledged at once (shared/usecases/chatops/receive.ts): signature,
 *   replay claim, then the request is queued as an asynchronous invocation of this same function;
 * - that invocation (a `kiln.chatops.work` event) does the slow part and answers through the
 *   request's response_url (shared/usecases/chatops/work.ts).
 * One function, so a cold start is paid once and the role's grants stay in one place; the
 * acknowledgement loads nothing the work needs until it runs.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FunctionInvoker } from '../shared/aws/lambda';
import { SlackSecretsParameter, type SlackSecrets } from '../shared/aws/secrets';
import { DeployExecutions, SfnTasks } from '../shared/aws/sfn';
import type { ServiceManifest } from '../shared/domain/manifest/schema';
import * as z from '../shared/domain/zod';
import { ChatWorkSchema, HttpApiEventSchema } from '../shared/events/slack';
import { defaultDocumentClient } from '../shared/runtime/clients';
import { BaseConfigSchema, loadConfig, StateMachineArn } from '../shared/runtime/config';
import { kilnHandler } from '../shared/runtime/handler';
import { randomIds, type IdSource } from '../shared/runtime/ids';
import { createLogger } from '../shared/runtime/logger';
import { SlackResponseUrl } from '../shared/slack/response-url';
import { SlackUserGroups } from '../shared/slack/user-groups';
import { KilnStore } from '../shared/store';
import type { ChatResponder, UserGroupDirectory } from '../shared/usecases/chatops/ports';
import { receiveSlackRequest } from '../shared/usecases/chatops/receive';
import { handleChatWork } from '../shared/usecases/chatops/work';

export interface ChatopsDeps {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  ids?: IdSource;
  sfn: SFNClient;
  lambda: LambdaClient;
  /** The signing secret (and optional bot token), read once. */
  secrets: { get(): Promise<SlackSecrets> };
  deployStateMachineArn: string;
  /** Where answers go (default: an HTTPS POST to the response_url). */
  responder?: ChatResponder;
  /** Group memberships (default: Slack's Web API when the secret holds a bot token). */
  userGroups?: (secrets: SlackSecrets) => UserGroupDirectory | undefined;
  /** Epoch milliseconds (default Date.now; tests pass a fixed clock). */
  now?: () => number;
}

export const ChatopsConfigSchema = z.extend(BaseConfigSchema, {
  KILN_DEPLOY_STATE_MACHINE_ARN: StateMachineArn,
  // The parameter's name, never the secret: SSM SecureString, or /aws/reference/secretsmanager/ID.
  KILN_SLACK_SECRET_PARAMETER: z
    .string()
    .check(z.regex(/^\/[a-zA-Z0-9_.\-/]+$/, 'must be a parameter name starting with /')),
});

const ChatopsEventSchema = z.union([ChatWorkSchema, HttpApiEventSchema]);

export function createChatopsHandler(deps: () => ChatopsDeps) {
  const logger = createLogger('chatops');
  return kilnHandler({
    logger,
    what: 'chatops request',
    schema: ChatopsEventSchema,
    onInvalid: 'drop',
    useCase: async (input, context) => {
      const d = deps();
      const now = d.now ?? Date.now;
      const store = new KilnStore<ServiceManifest>({
        client: d.documentClient,
        tableName: d.tableName,
        now,
        ...(d.ids === undefined ? {} : { ids: d.ids }),
      });
      if ('kind' in input) {
        const secrets = await d.secrets.get();
        const directory = (d.userGroups ?? defaultUserGroups)(secrets);
        const result = await handleChatWork(input, {
          store,
          executions: new DeployExecutions(d.sfn, d.deployStateMachineArn),
          tasks: new SfnTasks(d.sfn),
          ids: d.ids ?? randomIds,
          now,
          responder: d.responder ?? new SlackResponseUrl(),
          ...(directory === undefined ? {} : { userGroups: directory }),
          log: (message, facts) => logger.info(message, facts),
        });
        logger.info('chat request handled', { outcome: result.outcome, user: input.userId });
        return result;
      }
      const invoker = new FunctionInvoker(d.lambda);
      const { outcome, reply } = await receiveSlackRequest(input, {
        signingSecret: async () => (await d.secrets.get()).signingSecret,
        store,
        queue: { enqueue: (work) => invoker.invokeAsync(context.invokedFunctionArn, work) },
        now,
        holder: context.awsRequestId,
      });
      if (outcome === 'queued') logger.info('slack request acknowledged', { outcome });
      else logger.warn('slack request refused; nothing changed', { outcome, status: reply.statusCode });
      return reply;
    },
  });
}

let directory: SlackUserGroups | undefined;

/** Slack's Web API when the secret holds a bot token; one per container, so its cache is shared. */
function defaultUserGroups(secrets: SlackSecrets): UserGroupDirectory | undefined {
  if (secrets.botToken === undefined) return undefined;
  directory ??= new SlackUserGroups(secrets.botToken, Date.now);
  return directory;
}

let defaults: ChatopsDeps | undefined;

/** The deployed handler: configuration read and checked once, on the first invocation. */
export const handler = createChatopsHandler(() => {
  if (defaults === undefined) {
    const config = loadConfig(ChatopsConfigSchema);
    defaults = {
      documentClient: defaultDocumentClient(),
      tableName: config.KILN_TABLE,
      sfn: new SFNClient({}),
      lambda: new LambdaClient({}),
      secrets: new SlackSecretsParameter(new SSMClient({}), config.KILN_SLACK_SECRET_PARAMETER),
      deployStateMachineArn: config.KILN_DEPLOY_STATE_MACHINE_ARN,
    };
  }
  return defaults;
});
