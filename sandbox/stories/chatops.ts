/**
 * The `chatops` story (issue 11, item 9): Slack talks to Kiln through the HTTP API's POST /slack,
 * every request signed as Slack signs it (sandbox/stories/chat-kit.ts), answers recorded instead
 * of sent (region.slackResponses). Service `shop` in staging (N) and production (2N, approval required).
 *
 * Course:
 * 1. Setup: fleets on 1.0.0, releases 1.5.0 and 2.0.0 recorded, the signing secret in Parameter
 *    Store. `kiln deploy` (and `kiln approve`) put both environments on 1.5.0, then 2.0.0 starts
 *    through staging and production and waits for approval before production.
 * 2. The approval: the notification's Approve button (kiln.approve) pressed by the lead shows what
 *    will change; Confirm resumes the deployment's own approval wait; 2.0.0 reaches production.
 * 3. Refused, each changing nothing: an unsigned `/kiln rollback shop staging`, the same command
 *    from a user the manifest does not list, and a Confirm button (a valid proposal) pressed by
 *    that user.
 * 4. Allowed: the dev's `/kiln rollback shop staging` shows 2.0.0 → 1.5.0 on N instances; Confirm
 *    starts the rollback; then the very same Confirm request is replayed and refused.
 * Checks read Kiln's records, the recorded answers and the timeline: a refused request made no
 * call to Step Functions, Auto Scaling or EC2, created no deployment or audit entry and left the
 * environment's record as it was; the unsigned one made no call at all, the replay only its
 * refused claim.
 */
import { DeployExecutions, SfnTasks } from '../../shared/aws/sfn';
import { CHAT_ACTIONS } from '../../shared/domain/chat-actions';
import { isFinal } from '../../shared/domain/deployment';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore } from '../../shared/store';
import { approveDeployment } from '../../shared/usecases/deployments/approve';
import { startDeployment } from '../../shared/usecases/deployments/start';
import type { TimedEntry } from '../core/timeline';
import type { Region } from '../region';
import { operatorStore, seedBaseImage } from './bake-kit';
import { storyCatalog } from './catalog';
import {
  chatManifest,
  confirmValueOf,
  converse as converseWith,
  putSigningSecret,
  SANDBOX_TEAM,
  SANDBOX_USERS,
  SlackClient,
  type SentRequest,
} from './chat-kit';
import { required } from './fleet';
import { provisionStagingAndProduction, recordRelease, seedReleaseImage, until } from './rollout-kit';
import { storySettings } from './settings';
import { step } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'shop';
const SECRET = 'sandbox-signing-secret-0123456789';

/** Calls a refused request may not cause: anything that acts on the fleet or a deployment. */
const ACTING_SERVICES = ['SFN', 'Auto Scaling', 'EC2', 'Elastic Load Balancing v2'];

export const chatopsStory: Story = {
  name: 'chatops',
  description: storyCatalog.chatops,
  settings: storySettings({
    strategy: {
      type: 'rolling',
      minHealthyPercentage: 50,
      maxHealthyPercentage: 100,
      instanceWarmupSeconds: 60,
    },
  }),
  async run(region: Region, options: StoryOptions): Promise<StoryResult> {
    const { print } = options;
    const aws = region.clientsFor('story:platform-team', 'operator');
    const store = operatorStore(region);
    const environments = await step('setup', async () => {
      const base = seedBaseImage(region);
      const images = Object.fromEntries(
        ['1.0.0', '1.5.0', '2.0.0'].map((v) => [v, seedReleaseImage(region, SERVICE, v, base)]),
      );
      const made = await provisionStagingAndProduction(region, aws, {
        service: SERVICE,
        fleet: options.fleet,
        imageId: images['1.0.0'] ?? '',
        settings: options.settings,
        declare: options.declareEnvironment,
      });
      await store.putServiceManifest(
        chatManifest(region, SERVICE, made, options.settings, { production: { approval: true } }),
        { actor: 'kiln-cli:platform-team' },
      );
      for (const version of ['1.5.0', '2.0.0'])
        await recordRelease(store, region, { service: SERVICE, version, imageId: images[version] ?? '' });
      await putSigningSecret(aws, SECRET);
      print(
        `platform: ${made.map((e) => `${e.groupName} (${e.size})`).join(', ')} on 1.0.0; signing secret in Parameter Store`,
      );
      return made;
    });
    const staging = required(environments[0], 'staging');
    const api = await region.startHttpApi();
    const slack = new SlackClient(api, SECRET);
    const executions = new DeployExecutions(
      aws.sfn,
      required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine'),
    );
    const cliDeploy = async (version: string, names: string[]): Promise<Deployment> =>
      (
        await startDeployment(
          {
            service: SERVICE,
            version,
            environments: names,
            mode: 'deploy',
            trigger: 'cli',
            actor: 'cli:story',
          },
          { store, executions, ids: region.engine.kilnIds, now: () => Date.now() },
        )
      ).deployment;
    const follow = (id: string, until_: (d: Deployment) => boolean) =>
      until(
        `deployment ${id}`,
        async () => {
          const d = await store.getDeployment(id);
          return d !== undefined && until_(d) ? d : undefined;
        },
        { everySeconds: 30, limitSeconds: 4 * 3600 },
      );
    /** Sends, then waits (virtual time) for the worker's answer to that response_url. */
    const converse = (rawBody: string, headers: Record<string, string>, responseUrl: string) =>
      converseWith(region, slack, { rawBody, headers, responseUrl });

    // 1. Both environments on 1.5.0 (approved with `kiln approve`), so Kiln has a record of each
    // (release, capacity) and staging a release to go back to; then 2.0.0 through both.
    await step('first release', async () => {
      const first = await cliDeploy('1.5.0', ['staging', 'production']);
      await follow(first.id, (d) => d.status === 'waiting-approval' || isFinal(d.status));
      await approveDeployment(
        { deploymentId: first.id, actor: 'cli:story', approved: true },
        { store, tasks: new SfnTasks(aws.sfn) },
      );
      const done = await follow(first.id, (d) => isFinal(d.status));
      print(`kiln deploy: ${first.id} 1.5.0 → staging, production (kiln approve): ${done.status}`);
    });
    const second = await step('second release waits for approval', async () => {
      const d = await cliDeploy('2.0.0', ['staging', 'production']);
      const waiting = await follow(d.id, (x) => x.status === 'waiting-approval' || isFinal(x.status));
      print(`kiln deploy: ${d.id} 2.0.0 → staging, production: ${waiting.status}`);
      return waiting;
    });

    // 2. The Approve button, its preview, and Confirm.
    const approval = await step('approve from Slack', async () => {
      const url = slack.newResponseUrl();
      const value = JSON.stringify({ kind: 'approve', deploymentId: second.id, environment: 'production' });
      const body = slack.buttonBody(SANDBOX_USERS.lead, CHAT_ACTIONS.approve, value, url);
      const pressed = await converse(body, slack.headersFor(body), url);
      const preview = pressed.answer;
      const confirmValue = confirmValueOf(preview?.blocks);
      const confirmUrl = slack.newResponseUrl();
      const confirmBody = slack.buttonBody(
        SANDBOX_USERS.lead,
        'kiln.confirm',
        confirmValue ?? '',
        confirmUrl,
      );
      const confirmed = await converse(confirmBody, slack.headersFor(confirmBody), confirmUrl);
      print(`slack: ${preview?.text ?? 'no preview'} → ${confirmed.answer?.text ?? 'no answer'}`);
      const final = await follow(second.id, (x) => isFinal(x.status));
      print(`kiln: ${second.id} ${final.status}`);
      return { preview: preview?.text ?? '', ack: pressed.sent.status, final };
    });

    // 3. Refused requests, each in its own window of the timeline.
    const before = await snapshot(store, 'staging');
    const refusedCommand = `rollback ${SERVICE} staging`;
    const unsigned = await step('unsigned', async () => {
      const url = slack.newResponseUrl();
      const body = slack.slashBody(SANDBOX_USERS.dev, refusedCommand, url);
      return measured(region, () => converse(body, slack.headersFor(body, false), url));
    });
    const unauthorized = await step('unauthorized', async () => {
      const url = slack.newResponseUrl();
      const body = slack.slashBody(SANDBOX_USERS.viewer, refusedCommand, url);
      return measured(region, () => converse(body, slack.headersFor(body), url));
    });
    const forgedConfirm = await step('unauthorized confirm', async () => {
      const url = slack.newResponseUrl();
      const proposal = JSON.stringify({
        action: 'rollback',
        service: SERVICE,
        environment: 'staging',
        version: '1.5.0',
        from: '2.0.0',
      });
      const body = slack.buttonBody(SANDBOX_USERS.viewer, 'kiln.confirm', proposal, url);
      return measured(region, () => converse(body, slack.headersFor(body), url));
    });
    const afterRefusals = await snapshot(store, 'staging');

    // 4. The allowed rollback, then its Confirm replayed.
    const rollback = await step('rollback from Slack', async () => {
      const url = slack.newResponseUrl();
      const body = slack.slashBody(SANDBOX_USERS.dev, refusedCommand, url);
      const asked = await converse(body, slack.headersFor(body), url);
      const confirmUrl = slack.newResponseUrl();
      const confirmBody = slack.buttonBody(
        SANDBOX_USERS.dev,
        'kiln.confirm',
        confirmValueOf(asked.answer?.blocks) ?? '',
        confirmUrl,
      );
      const confirmed = await converse(confirmBody, slack.headersFor(confirmBody), confirmUrl);
      print(`slack: ${asked.answer?.text ?? 'no preview'} → ${confirmed.answer?.text ?? 'no answer'}`);
      const replay = await measured(region, () => slack.send(confirmed.sent.rawBody, confirmed.sent.headers));
      const started = (await store.listDeployments(SERVICE, { limit: 5 })).items.filter(
        (d) => d.mode === 'rollback',
      );
      const deployment = started[0];
      const final =
        deployment === undefined ? undefined : await follow(deployment.id, (x) => isFinal(x.status));
      return { preview: asked.answer?.text ?? '', replay, rollbacks: started.length, final };
    });

    return step('checks', async () => {
      const state = await store.getEnvironmentState(SERVICE, 'staging');
      const approveAudit = (await store.listAudit({ service: SERVICE }, { limit: 100 })).items.filter(
        (a) => a.action === 'deployment.approve',
      );
      const lead = `slack:${SANDBOX_TEAM}/${SANDBOX_USERS.lead}`;
      const checks: StoryCheck[] = [
        {
          name: "the Approve button showed what would change, and its Confirm resumed the deployment's approval wait",
          ok:
            approval.ack === 200 &&
            approval.preview.includes(
              `promotes shop 1.5.0 → 2.0.0 to production on ${options.fleet * 2} instances`,
            ) &&
            approval.final.status === 'succeeded' &&
            approveAudit.some((a) => a.actor === lead),
          detail: `preview "${approval.preview}"; deployment ${approval.final.status}; approvals audited by ${approveAudit.map((a) => a.actor).join(', ') || 'nobody'}`,
        },
        refusedCheck('an unsigned request', unsigned, 401, (calls) => calls.length === 0),
        refusedCheck(
          'a request from a user the access lists do not name',
          unauthorized,
          200,
          (calls) => calls.every((c) => !ACTING_SERVICES.includes(c.service)),
          /may not roll back shop\/staging/,
        ),
        refusedCheck(
          'a Confirm pressed by a user the access lists do not name',
          forgedConfirm,
          200,
          (calls) => calls.every((c) => !ACTING_SERVICES.includes(c.service)),
          /may not roll back shop\/staging/,
        ),
        {
          name: 'the refused requests changed nothing: no deployment, no audit entry, staging record untouched',
          ok: JSON.stringify(before) === JSON.stringify(afterRefusals),
          detail: `before ${JSON.stringify(before)}; after ${JSON.stringify(afterRefusals)}`,
        },
        {
          name: 'a signed /kiln rollback by an allowed user showed 2.0.0 → 1.5.0 and restored 1.5.0',
          ok:
            /2\.0\.0 → 1\.5\.0 on \d+ instance/.test(rollback.preview) &&
            rollback.final?.status === 'succeeded' &&
            state.currentRelease === '1.5.0' &&
            rollback.final.actor === `slack:${SANDBOX_TEAM}/${SANDBOX_USERS.dev}`,
          detail: `preview "${rollback.preview}"; rollback ${rollback.final?.id ?? 'none'} ${rollback.final?.status ?? ''} by ${rollback.final?.actor ?? '?'}; staging on ${state.currentRelease ?? '?'} (${staging.size} instances)`,
        },
        {
          name: 'the replayed Confirm was refused (409) and started nothing: only its refused claim reached AWS',
          ok:
            rollback.replay.result.status === 409 &&
            rollback.rollbacks === 1 &&
            rollback.replay.calls.every(
              (c) =>
                c.service === 'DynamoDB' &&
                (c.operation === 'PutItem' ? c.ok === false : c.operation === 'GetItem'),
            ),
          detail: `HTTP ${rollback.replay.result.status}; ${rollback.rollbacks} rollback deployment(s); chatops calls: ${describeCalls(rollback.replay.calls)}`,
        },
      ];
      return { checks, figures: { 'slack answers': region.slackResponses.responses.length } };
    });
  },
};

type ApiEntry = Extract<TimedEntry, { kind: 'api' }>;

/** Runs `send` and collects the calls chatops made meanwhile (its caller name in the timeline). */
async function measured<T>(
  region: Region,
  send: () => Promise<T>,
): Promise<{ result: T; calls: ApiEntry[] }> {
  const from = region.engine.timeline.entries.length;
  const result = await send();
  const calls = region.engine.timeline.entries
    .slice(from)
    .filter((e): e is ApiEntry => e.kind === 'api' && e.caller === 'fn:chatops');
  return { result, calls };
}

function describeCalls(calls: ApiEntry[]): string {
  return calls.map((c) => `${c.service}:${c.operation}${c.ok ? '' : ' (refused)'}`).join(', ') || 'none';
}

function refusedCheck(
  what: string,
  measured_: { result: { sent: SentRequest; answer?: { text: string } | undefined }; calls: ApiEntry[] },
  status: number,
  callsOk: (calls: ApiEntry[]) => boolean,
  answer?: RegExp,
): StoryCheck {
  const { sent, answer: said } = measured_.result;
  return {
    name: `${what} was refused and made no call that acts (Step Functions, Auto Scaling, EC2, ELB)`,
    ok:
      sent.status === status &&
      callsOk(measured_.calls) &&
      (answer === undefined || answer.test(said?.text ?? '')),
    detail: `HTTP ${sent.status}${said ? `, answered "${said.text}"` : ''}; chatops calls: ${describeCalls(measured_.calls)}`,
  };
}

async function snapshot(store: KilnStore<ServiceManifest>, environment: string) {
  const deployments = (await store.listDeployments(SERVICE, { limit: 100 })).items.map(
    (d) => `${d.id}:${d.status}`,
  );
  const audit = (await store.listAudit({ service: SERVICE }, { limit: 100 })).items.length;
  const state = await store.getEnvironmentState(SERVICE, environment);
  return {
    deployments,
    audit,
    stateVersion: state.version,
    current: state.currentRelease,
    lock: state.lock?.holder,
  };
}
