/**
 * A chatops handler on a fresh table seeded with checkout (test/support/deployment-fixtures.ts),
 * with Step Functions and Lambda mocked, the signing secret given, and Slack's answers recorded.
 */
import type { Context } from 'aws-lambda';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { createChatopsHandler } from '../../../functions/chatops';
import type { ChatMessage } from '../../../shared/domain/chatops/messages';
import { slackSignature } from '../../../shared/domain/chatops/signature';
import type { UserGroupDirectory } from '../../../shared/usecases/chatops/ports';
import { countingIds, seededCheckout, STATE_MACHINE_ARN, T0 } from '../../support/deployment-fixtures';
import type { LocalDynamo } from '../../support/dynalite';

export const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:kiln-test-chatops';
export const RESPONSE_URL = 'https://hooks.slack.com/commands/T0TEST/1/abc';

export function context(requestId = 'req-1'): Context {
  return {
    functionName: 'kiln-test-chatops',
    invokedFunctionArn: FUNCTION_ARN,
    awsRequestId: requestId,
    getRemainingTimeInMillis: () => 30000,
  } as Context;
}

export function slashBody(text: string, user = 'U04ALICE01', responseUrl = RESPONSE_URL): string {
  return new URLSearchParams({
    team_id: 'T0TEST',
    user_id: user,
    command: '/kiln',
    text,
    response_url: responseUrl,
    trigger_id: '1.2.3',
  }).toString();
}

export function buttonBody(
  actionId: string,
  value: string,
  user = 'U04ALICE01',
  responseUrl = RESPONSE_URL,
): string {
  return new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      team: { id: 'T0TEST' },
      user: { id: user },
      response_url: responseUrl,
      actions: [{ action_id: actionId, value, type: 'button' }],
    }),
  }).toString();
}

/** The payload 2.0 event API Gateway makes of a Slack post (form bodies arrive base64-encoded). */
export function httpEvent(
  rawBody: string,
  options: { at?: number; sign?: boolean; secret?: string; headers?: Record<string, string> } = {},
) {
  const timestamp = String(Math.floor((options.at ?? T0) / 1000));
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.sign !== false) {
    headers['x-slack-request-timestamp'] = timestamp;
    headers['x-slack-signature'] = slackSignature(options.secret ?? SECRET, timestamp, rawBody);
  }
  return {
    version: '2.0',
    routeKey: 'POST /slack',
    rawPath: '/slack',
    rawQueryString: '',
    headers: { ...headers, ...options.headers },
    body: Buffer.from(rawBody).toString('base64'),
    isBase64Encoded: true,
    requestContext: { requestId: 'api-1', http: { method: 'POST', path: '/slack' } },
  };
}

export async function chatopsWorld(dynamo: LocalDynamo, options: { userGroups?: UserGroupDirectory } = {}) {
  const seeded = await seededCheckout(dynamo);
  const answers: Array<{ url: string; message: ChatMessage }> = [];
  let secretReads = 0;
  const sfn = new SFNClient({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const lambda = new LambdaClient({
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const handler = createChatopsHandler(() => ({
    documentClient: dynamo.client,
    tableName: seeded.tableName,
    ids: countingIds(),
    sfn,
    lambda,
    secrets: {
      get: async () => {
        secretReads++;
        return { signingSecret: SECRET };
      },
    },
    deployStateMachineArn: STATE_MACHINE_ARN,
    responder: {
      respond: async (url, message) => {
        answers.push({ url, message });
      },
    },
    userGroups: () => options.userGroups,
    now: seeded.clock.now,
  }));
  const table = async () =>
    (await dynamo.rawClient.send(new ScanCommand({ TableName: seeded.tableName }))).Items ?? [];
  return { ...seeded, handler, answers, secretReads: () => secretReads, table, sfn, lambda };
}

export { InvokeCommand };
