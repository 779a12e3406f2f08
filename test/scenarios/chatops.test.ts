import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { slackSignature } from '../../shared/domain/chatops/signature';
import { sandboxFunctions } from '../../sandbox/functions';
import { runSandbox } from '../../sandbox/run';

/**
 * The chatops story (`kiln sandbox --scenario chatops`): passes against Kiln as it is, and its
 * checks read the timeline and Kiln's records, so they fail when chat misbehaves (second case).
 */
jest.setTimeout(180_000);

describe('chatops scenario', () => {
  it('passes every check', async () => {
    const result = await runSandbox({ seed: 7, fleet: 1, scenario: 'chatops' });
    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.length).toBeGreaterThanOrEqual(7);
  });

  it('fails the unsigned check when chatops is given requests it never verified (signed on its behalf)', async () => {
    const real = sandboxFunctions.chatops!;
    const result = await runSandbox({
      seed: 7,
      fleet: 1,
      scenario: 'chatops',
      region: {
        functions: {
          // A broken front door: every unsigned request is signed before the real handler sees it.
          chatops: async (env) => {
            const handler = await real(env);
            return (event, context) => {
              const e = event as APIGatewayProxyEventV2;
              if (
                e.headers !== undefined &&
                e.headers['x-slack-signature'] === undefined &&
                e.body !== undefined
              ) {
                const timestamp = String(Math.floor(Date.now() / 1000));
                const raw = e.isBase64Encoded ? Buffer.from(e.body, 'base64') : Buffer.from(e.body);
                e.headers['x-slack-request-timestamp'] = timestamp;
                e.headers['x-slack-signature'] = slackSignature(
                  'sandbox-signing-secret-0123456789',
                  timestamp,
                  raw,
                );
              }
              return handler(e, context);
            };
          },
        },
      },
    });
    const failed = result.checks.filter((check) => !check.ok).map((check) => check.name);
    expect(failed).toEqual([expect.stringMatching(/^an unsigned request was refused/)]);
  });
});
