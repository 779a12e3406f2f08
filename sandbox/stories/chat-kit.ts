/**
 * What a chat story (and `kiln sandbox --serve`) needs: a service in two environments whose
 * access lists name the sandbox's Slack users, the signing secret in Parameter Store, and a way
 * to send requests signed as Slack signs them through the local HTTP API.
 *
 * The sandbox's Slack users (README "ChatOps" and "`kiln sandbox --serve`"):
 * - U0SANDBOXLEAD: deploy, roll back and approve in every environment;
 * - U0SANDBOXDEV: deploy and roll back in staging;
 * - anyone else (e.g. U0SANDBOXVIEW): status and history only.
 */
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { slackSignature } from '../../shared/domain/chatops/signature';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import { sandboxSlackSecretParameter } from '../functions';
import type { Region, SandboxHttpApi } from '../region';
import type { SandboxClients } from '../core/sdk';
import type { RecordedResponse } from '../services/slack';
import { sleep } from './fleet';
import type { GateSpec } from './rollout-kit';
import { rolloutManifest, until, type RolloutEnvironment } from './rollout-kit';

export const SANDBOX_TEAM = 'T0SANDBOX';
export const SANDBOX_USERS = {
  lead: 'U0SANDBOXLEAD',
  dev: 'U0SANDBOXDEV',
  viewer: 'U0SANDBOXVIEW',
} as const;

/** The rollout kit's manifest with the sandbox users in its access lists (and no user groups). */
export function chatManifest(
  region: Region,
  service: string,
  environments: readonly RolloutEnvironment[],
  settings: Parameters<typeof rolloutManifest>[3],
  gates: Record<string, GateSpec>,
): ServiceManifest {
  const manifest = rolloutManifest(region, service, environments, settings, gates);
  for (const env of manifest.environments) {
    const first = env === manifest.environments[0];
    env.access = {
      deploy: first ? [SANDBOX_USERS.lead, SANDBOX_USERS.dev] : [SANDBOX_USERS.lead],
      rollback: first ? [SANDBOX_USERS.lead, SANDBOX_USERS.dev] : [SANDBOX_USERS.lead],
      approve: [SANDBOX_USERS.lead],
    };
  }
  return manifest;
}

/** Puts the signing secret where chatops reads it (a SecureString, as on AWS). */
export async function putSigningSecret(aws: SandboxClients, secret: string): Promise<string> {
  const name = sandboxSlackSecretParameter('sandbox');
  await aws.ssm.send(
    new PutParameterCommand({ Name: name, Type: 'SecureString', Value: secret, Overwrite: true }),
  );
  return name;
}

export interface SentRequest {
  status: number;
  body: string;
  headers: Record<string, string>;
  rawBody: string;
}

/** Slack's side of the conversation: signs and sends slash commands and button presses. */
export class SlackClient {
  private counter = 0;

  constructor(
    private readonly api: SandboxHttpApi,
    private readonly secret: string,
  ) {}

  newResponseUrl(): string {
    return `https://hooks.slack.com/commands/${SANDBOX_TEAM}/${++this.counter}/sandbox`;
  }

  slashBody(user: string, text: string, responseUrl: string): string {
    return new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: SANDBOX_TEAM,
      channel_id: 'C0SANDBOX',
      user_id: user,
      command: '/kiln',
      text,
      response_url: responseUrl,
      trigger_id: `${this.counter}.sandbox`,
    }).toString();
  }

  buttonBody(user: string, actionId: string, value: string, responseUrl: string): string {
    const payload = {
      type: 'block_actions',
      team: { id: SANDBOX_TEAM, domain: 'sandbox' },
      user: { id: user },
      api_app_id: 'A0SANDBOX',
      response_url: responseUrl,
      actions: [{ action_id: actionId, block_id: 'kiln', type: 'button', value, action_ts: '0' }],
    };
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  /** Headers as Slack sends them, signed now (virtual time) unless `signed` is false. */
  headersFor(rawBody: string, signed = true): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (!signed) return headers;
    const timestamp = String(Math.floor(Date.now() / 1000));
    headers['x-slack-request-timestamp'] = timestamp;
    headers['x-slack-signature'] = slackSignature(this.secret, timestamp, rawBody);
    return headers;
  }

  async send(rawBody: string, headers: Record<string, string>): Promise<SentRequest> {
    const response = await this.api.request('POST', '/slack', { headers, body: rawBody });
    return { status: response.status, body: await response.text(), headers, rawBody };
  }
}

/**
 * A person's side of a conversation: sends a request, then waits (virtual time, checking every
 * second, at most `limitSeconds`) until Kiln has posted `answers` messages to its response_url.
 * A refused request (not 200) gets no answer: five seconds pass for anything it might have set off.
 */
export async function converse(
  region: Region,
  slack: SlackClient,
  request: { rawBody: string; headers: Record<string, string>; responseUrl: string; answers?: number },
  limitSeconds = 120,
): Promise<{ sent: SentRequest; answer: RecordedResponse['message'] | undefined }> {
  const sent = await slack.send(request.rawBody, request.headers);
  if (sent.status === 200) {
    await until(
      `Kiln's answer to ${request.responseUrl}`,
      async () =>
        region.slackResponses.to(request.responseUrl).length >= (request.answers ?? 1) ? true : undefined,
      { everySeconds: 1, limitSeconds },
    );
  } else {
    await sleep(5);
  }
  return { sent, answer: region.slackResponses.to(request.responseUrl).at(-1)?.message };
}

/** The value of the Confirm button (`kiln.confirm`) in a preview Kiln answered with. */
export function confirmValueOf(blocks: unknown[] | undefined): string | undefined {
  return buttonValueOf(blocks, 'kiln.confirm');
}

/** The value of the first button with `actionId` in a message's blocks (Block Kit `actions` elements). */
export function buttonValueOf(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    const elements = (block as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [];
    const button = elements.find((e) => e.action_id === actionId);
    if (button?.value !== undefined) return button.value;
  }
  return undefined;
}
