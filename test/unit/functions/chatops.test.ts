import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CHAT_ACTIONS } from '../../../shared/domain/chat-actions';
import { runningDeployment, T0 } from '../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import {
  buttonBody,
  chatopsWorld,
  context,
  FUNCTION_ARN,
  httpEvent,
  InvokeCommand,
  RESPONSE_URL,
  slashBody,
} from './chatops-harness';

const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  sfn.reset();
  lambda.reset();
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${input.name}`,
    startDate: new Date(T0),
  }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
});

type Reply = { statusCode: number; body: string };
type World = Awaited<ReturnType<typeof chatopsWorld>>;

const queued = (): unknown[] =>
  lambda
    .commandCalls(InvokeCommand)
    .map((call) => JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)) as unknown);

let requests = 0;
/** Slack posts `body`; Kiln acknowledges; the queued work runs; Kiln's answer is returned. */
async function ask(world: World, body: string, options: { at?: number } = {}) {
  const before = queued().length;
  const reply = (await world.handler(httpEvent(body, options), context(`ack-${++requests}`))) as Reply;
  const work = queued().slice(before);
  for (const item of work) await world.handler(item, context(`work-${requests}`));
  return { reply, answer: world.answers.at(-1)?.message, queued: work.length };
}

const confirmValue = (message: { blocks?: unknown[] } | undefined): string => {
  const actions = (message?.blocks ?? []).find((b) => (b as { type: string }).type === 'actions') as
    { elements: Array<{ action_id: string; value: string }> } | undefined;
  return actions?.elements.find((e) => e.action_id === 'kiln.confirm')?.value ?? '';
};

const PRODUCTION_APPROVER = 'U04ALICE01';
const ID = '01JZ0000000000000000000001';

describe('chatops', () => {
  describe('acknowledging POST /slack', () => {
    it('answers a signed slash command at once and queues the work to its own function', async () => {
      const world = await chatopsWorld(dynamo);
      const reply = (await world.handler(httpEvent(slashBody('status checkout')), context())) as Reply;
      expect(reply.statusCode).toBe(200);
      expect(JSON.parse(reply.body)).toEqual({
        response_type: 'ephemeral',
        text: 'Working on `/kiln status checkout`…',
      });
      expect(
        lambda
          .commandCalls(InvokeCommand)
          .map((c) => [c.args[0].input.FunctionName, c.args[0].input.InvocationType]),
      ).toEqual([[FUNCTION_ARN, 'Event']]);
      expect(queued()).toEqual([
        expect.objectContaining({
          kind: 'kiln.chatops.work',
          teamId: 'T0TEST',
          userId: 'U04ALICE01',
          ask: { type: 'command', text: 'status checkout' },
        }),
      ]);
    });

    it('refuses an unsigned request with 401 before reading the secret, and queues nothing', async () => {
      const world = await chatopsWorld(dynamo);
      const table = await world.table();
      const reply = (await world.handler(
        httpEvent(slashBody('rollback checkout staging'), { sign: false }),
        context(),
      )) as Reply;
      expect(reply.statusCode).toBe(401);
      expect(world.secretReads()).toBe(0);
      expect(queued()).toEqual([]);
      expect(await world.table()).toEqual(table);
    });

    it('refuses a signature made with another secret (401), changing nothing', async () => {
      const world = await chatopsWorld(dynamo);
      const table = await world.table();
      const reply = (await world.handler(
        httpEvent(slashBody('status'), { secret: 'not-the-secret' }),
        context(),
      )) as Reply;
      expect(reply.statusCode).toBe(401);
      expect(JSON.parse(reply.body)).toEqual({ error: 'X-Slack-Signature does not match the body' });
      expect(queued()).toEqual([]);
      expect(await world.table()).toEqual(table);
    });

    it('refuses a request signed more than five minutes ago (401)', async () => {
      const world = await chatopsWorld(dynamo);
      const reply = (await world.handler(
        httpEvent(slashBody('status'), { at: T0 - 301_000 }),
        context(),
      )) as Reply;
      expect(reply.statusCode).toBe(401);
      expect(reply.body).toMatch(/more than 300 s/);
      expect(queued()).toEqual([]);
    });

    it('refuses a replay of an accepted request with 409 and queues it once', async () => {
      const world = await chatopsWorld(dynamo);
      const event = httpEvent(slashBody('status'));
      const first = (await world.handler(structuredClone(event), context('a'))) as Reply;
      const table = await world.table();
      const replay = (await world.handler(structuredClone(event), context('b'))) as Reply;
      expect([first.statusCode, replay.statusCode]).toEqual([200, 409]);
      expect(queued()).toHaveLength(1);
      expect(await world.table()).toEqual(table);
    });

    it('answers a signed but malformed command naming the field, and claims and queues nothing', async () => {
      const world = await chatopsWorld(dynamo);
      const table = await world.table();
      const body = slashBody('status').replace('user_id=U04ALICE01', 'user_id=alice');
      const reply = (await world.handler(httpEvent(body), context())) as Reply;
      expect(reply.statusCode).toBe(200);
      expect(JSON.parse(reply.body).text).toBe(
        'Kiln could not read this slash command: user_id: must be a Slack user id (U… or W…)',
      );
      expect(queued()).toEqual([]);
      expect(await world.table()).toEqual(table);
    });

    it('answers a response_url off hooks.slack.com as malformed', async () => {
      const world = await chatopsWorld(dynamo);
      const reply = (await world.handler(
        httpEvent(slashBody('status', 'U04ALICE01', 'https://evil.example/x')),
        context(),
      )) as Reply;
      expect(JSON.parse(reply.body).text).toMatch(
        /response_url: must be a https:\/\/hooks\.slack\.com\/ URL/,
      );
      expect(queued()).toEqual([]);
    });

    it('does not answer buttons that are not Kiln’s', async () => {
      const world = await chatopsWorld(dynamo);
      const reply = (await world.handler(httpEvent(buttonBody('someone.else', 'x')), context())) as Reply;
      expect(JSON.parse(reply.body).text).toBe('Kiln does not answer the button "someone.else"');
      expect(queued()).toEqual([]);
    });

    it('lets the claim go when the work cannot be queued, so the same request can be sent again', async () => {
      const world = await chatopsWorld(dynamo);
      lambda
        .on(InvokeCommand)
        .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
      const event = httpEvent(slashBody('status'));
      const failed = (await world.handler(structuredClone(event), context('a'))) as Reply;
      expect(JSON.parse(failed.body).text).toMatch(
        /^Kiln could not start on this .*nothing was done, try again\.$/,
      );
      const again = (await world.handler(structuredClone(event), context('b'))) as Reply;
      expect(again.statusCode).toBe(200);
    });

    it('drops an event that is neither an HTTP API request nor chat work, changing nothing', async () => {
      const world = await chatopsWorld(dynamo);
      const result = await world.handler({ hello: 'world' }, context());
      expect(result).toMatchObject({ ignored: true });
    });
  });

  describe('reads', () => {
    it('status SERVICE lists each environment with current and previous releases', async () => {
      const world = await chatopsWorld(dynamo);
      const { answer } = await ask(world, slashBody('status checkout', 'U0SOMEONE'));
      expect(answer?.text).toContain('staging: 1.1.0 (previous 1.0.0, 4 instances)');
      expect(answer?.text).toContain('production: nothing recorded');
    });

    it('status without a service lists every service', async () => {
      const world = await chatopsWorld(dynamo);
      const { answer } = await ask(world, slashBody('status', 'U0SOMEONE'));
      expect(answer?.text).toMatch(/^\*checkout\*/);
    });

    it('history SERVICE lists deployments, and says so when there are none', async () => {
      const world = await chatopsWorld(dynamo);
      expect((await ask(world, slashBody('history checkout', 'U0SOMEONE'))).answer?.text).toBe(
        'checkout has no deployments yet.',
      );
      await world.store.createDeployment(runningDeployment(ID));
      // Another user: the same body again would be the same signed request, a replay.
      expect((await ask(world, slashBody('history checkout', 'U0SOMEONE2'))).answer?.text).toContain(
        `${ID} deploy 1.1.0 → staging, production: queued (by ci:github)`,
      );
    });

    it('names an unknown service', async () => {
      const world = await chatopsWorld(dynamo);
      expect((await ask(world, slashBody('history nope'))).answer?.text).toBe('no service named "nope"');
    });

    it('answers help and an unknown command with the usage', async () => {
      const world = await chatopsWorld(dynamo);
      expect((await ask(world, slashBody(''))).answer?.text).toMatch(/^Kiln's commands:\n`\/kiln status/);
      expect((await ask(world, slashBody('launch'))).answer?.text).toMatch(/^unknown command "launch"; try:/);
    });
  });

  describe('rollback', () => {
    it('shows what will change (from which release to which, on how many instances) and changes nothing yet', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      const { answer } = await ask(world, slashBody('rollback checkout staging', 'U0DEV'));
      expect(answer?.text).toBe(
        'Kiln will roll back checkout/staging: 1.1.0 → 1.0.0 on 3 instances. Confirm?',
      );
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect((await world.store.listDeployments('checkout')).items).toEqual([]);
    });

    it('starts the rollback on Confirm, with the chat trigger and the Slack user as actor, audited', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      const preview = await ask(world, slashBody('rollback checkout staging', 'U0DEV'));
      const { answer } = await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), 'U0DEV'));
      expect(answer).toMatchObject({ response_type: 'in_channel', replace_original: true });
      expect(answer?.text).toMatch(/^<@U0DEV> started rollback \S+: checkout\/staging 1\.1\.0 → 1\.0\.0\.$/);
      const [deployment] = (await world.store.listDeployments('checkout')).items;
      expect(deployment).toMatchObject({
        mode: 'rollback',
        releaseVersion: '1.0.0',
        trigger: 'chatops',
        actor: 'slack:T0TEST/U0DEV',
      });
      const audit = (await world.store.listAudit({ service: 'checkout' })).items.map((a) => a.actor);
      expect(audit).toContain('slack:T0TEST/U0DEV');
    });

    it('refuses a user the access list does not name, saying what they may not do, and changes nothing', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      const table = await world.table();
      const { answer } = await ask(world, slashBody('rollback checkout staging', 'U0STRANGER'));
      expect(answer?.text).toBe(
        '<@U0STRANGER> may not roll back checkout/staging: only those listed in environments[staging].access.rollback may',
      );
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
      const changed = (await world.table()).filter(
        (item) => !table.some((t) => JSON.stringify(t) === JSON.stringify(item)),
      );
      // Only the request's own claim (plumbing, not Kiln's state) was written.
      expect(changed.map((item) => item.kind?.S)).toEqual(['claim']);
    });

    it('refuses when the list names only groups and Slack cannot say who is in them', async () => {
      const world = await chatopsWorld(dynamo, {
        userGroups: {
          membersOf: async () => {
            throw new Error('Slack is down');
          },
        },
      });
      const { answer } = await ask(world, slashBody('rollback checkout staging', 'U0DEV'));
      expect(answer?.text).toMatch(/could not be checked, so they grant nothing$/);
    });

    it('checks authorization again on Confirm: a valid proposal pressed by another user is refused', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      const preview = await ask(world, slashBody('rollback checkout staging', 'U0DEV'));
      const { answer } = await ask(
        world,
        buttonBody('kiln.confirm', confirmValue(preview.answer), 'U0STRANGER'),
      );
      expect(answer?.text).toMatch(/^<@U0STRANGER> may not roll back checkout\/staging/);
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it('refuses a Confirm whose preview no longer holds (the environment moved on)', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      const preview = await ask(world, slashBody('rollback checkout staging', 'U0DEV'));
      const state = await world.store.getEnvironmentState('checkout', 'staging');
      await world.store.updateEnvironmentState(
        'checkout',
        'staging',
        { currentRelease: '1.2.0' },
        state.version,
      );
      const { answer } = await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), 'U0DEV'));
      expect(answer?.text).toBe(
        'checkout/staging now runs 1.2.0, not 1.1.0 as the preview showed; nothing changed. Ask again.',
      );
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    });

    it('cancels on Cancel, changing nothing', async () => {
      const world = await chatopsWorld(dynamo);
      const { answer } = await ask(world, buttonBody('kiln.cancel', 'cancel'));
      expect(answer).toEqual({
        response_type: 'ephemeral',
        text: 'Cancelled; nothing changed.',
        replace_original: true,
      });
    });

    it('names a version the history does not hold', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      const { answer } = await ask(world, slashBody('rollback checkout staging 0.9.0', 'U0DEV'));
      expect(answer?.text).toBe(
        'checkout/staging has no record of 0.9.0 to restore (its history holds 1.0.0)',
      );
    });
  });

  describe('deploy', () => {
    it('previews a deploy to production for its deployer and starts it on Confirm', async () => {
      const world = await chatopsWorld(dynamo);
      const preview = await ask(world, slashBody('deploy checkout 1.1.0 production', PRODUCTION_APPROVER));
      expect(preview.answer?.text).toBe(
        'Kiln will deploy checkout 1.1.0 to production: nothing recorded → 1.1.0. Confirm?',
      );
      await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), PRODUCTION_APPROVER));
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    });

    it('names a release Kiln has not baked', async () => {
      const world = await chatopsWorld(dynamo);
      const { answer } = await ask(world, slashBody('deploy checkout 9.9.9 production', PRODUCTION_APPROVER));
      expect(answer?.text).toBe('checkout has no release 9.9.9: Kiln deploys releases it has baked');
    });
  });

  describe('approval buttons', () => {
    async function waiting(world: World) {
      await world.store.createDeployment(runningDeployment(ID));
      await world.store.moveDeployment(ID, { from: 'queued', to: 'rolling-out' });
      await world.store.updateDeployment(
        ID,
        {
          rollout: {
            environment: 'staging',
            index: 0,
            strategy: 'rolling',
            phase: 'waiting-approval',
            at: new Date(T0).toISOString(),
          },
        },
        (await world.store.getDeployment(ID))!.version,
      );
      await world.store.moveDeployment(ID, { from: 'rolling-out', to: 'waiting-approval' });
      await world.store.putTaskToken({
        waitKind: 'approval',
        key: ID,
        token: 'approval-token',
        deploymentId: ID,
        expiresAt: T0 + 86_400_000,
      });
    }
    const approveValue = (kind: 'approve' | 'refuse') =>
      JSON.stringify({ kind, deploymentId: ID, environment: 'production' });

    it('Approve shows what the promotion will change, and Confirm resumes the deployment’s own approval token', async () => {
      const world = await chatopsWorld(dynamo);
      await waiting(world);
      const preview = await ask(
        world,
        buttonBody(CHAT_ACTIONS.approve, approveValue('approve'), PRODUCTION_APPROVER),
      );
      expect(preview.answer?.text).toBe(
        `Kiln will approve deployment ${ID}: promotes checkout nothing recorded → 1.1.0 to production. Confirm?`,
      );
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), PRODUCTION_APPROVER));
      const [call] = sfn.commandCalls(SendTaskSuccessCommand);
      expect(call?.args[0].input.taskToken).toBe('approval-token');
      expect(JSON.parse(call?.args[0].input.output ?? '{}')).toEqual({
        approved: true,
        actor: 'slack:T0TEST/U04ALICE01',
        reason: 'from Slack by <@U04ALICE01>',
      });
    });

    it('Refuse resumes it as refused', async () => {
      const world = await chatopsWorld(dynamo);
      await waiting(world);
      const preview = await ask(
        world,
        buttonBody(CHAT_ACTIONS.refuse, approveValue('refuse'), PRODUCTION_APPROVER),
      );
      await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), PRODUCTION_APPROVER));
      expect(
        JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.output ?? '{}'),
      ).toMatchObject({ approved: false });
    });

    it('refuses a user who is not an approver of production', async () => {
      const world = await chatopsWorld(dynamo);
      await waiting(world);
      const { answer } = await ask(
        world,
        buttonBody(CHAT_ACTIONS.approve, approveValue('approve'), 'U0STRANGER'),
      );
      expect(answer?.text).toBe(
        '<@U0STRANGER> may not approve promotions to checkout/production: only those listed in environments[production].access.approve may',
      );
    });

    it('says a deployment is not waiting for approval', async () => {
      const world = await chatopsWorld(dynamo);
      await world.store.createDeployment(runningDeployment(ID));
      const { answer } = await ask(world, slashBody(`approve ${ID}`, PRODUCTION_APPROVER));
      expect(answer?.text).toBe(`deployment ${ID} is queued, not waiting for approval`);
    });

    it('refuses a button whose value is not what its action id says', async () => {
      const world = await chatopsWorld(dynamo);
      const { answer } = await ask(world, buttonBody(CHAT_ACTIONS.rollback, approveValue('approve')));
      expect(answer?.text).toBe(
        'Kiln could not read the value of the button "kiln.rollback"; nothing changed.',
      );
    });
  });

  describe('abort', () => {
    it('previews, then records the abort request with the Slack user as actor', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0ONCALL'] } });
      await world.store.createDeployment(runningDeployment(ID));
      await world.store.moveDeployment(ID, { from: 'queued', to: 'rolling-out' });
      const preview = await ask(world, slashBody(`abort ${ID}`, 'U0ONCALL'));
      expect(preview.answer?.text).toBe(
        `Kiln will abort deployment ${ID}: staging goes back to its previous release on 4 instances. Confirm?`,
      );
      await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), 'U0ONCALL'));
      expect((await world.store.getDeployment(ID))?.abort?.actor).toBe('slack:T0TEST/U0ONCALL');
    });
  });

  describe('the worker', () => {
    it('skips work Lambda delivers twice (its claim is already settled)', async () => {
      const world = await chatopsWorld(dynamo);
      await world.handler(httpEvent(slashBody('status')), context('a'));
      const [work] = queued();
      await world.handler(work, context('w1'));
      const second = await world.handler(work, context('w2'));
      expect(second).toEqual({ outcome: 'duplicate' });
      expect(world.answers).toHaveLength(1);
    });

    it('answers the user and settles the claim when something unexpected fails (not retried)', async () => {
      const world = await chatopsWorld(dynamo, { userGroups: { membersOf: async () => ['U0DEV'] } });
      sfn
        .on(StartExecutionCommand)
        .rejects(Object.assign(new Error('boom'), { name: 'InternalFailure', $fault: 'server' }));
      const preview = await ask(world, slashBody('rollback checkout staging', 'U0DEV'));
      const { answer } = await ask(world, buttonBody('kiln.confirm', confirmValue(preview.answer), 'U0DEV'));
      expect(answer?.text).toMatch(
        /^Kiln failed on this request \(.*\); `\/kiln status` shows where things stand\.$/,
      );
      expect(world.answers.map((a) => a.url)).toEqual([RESPONSE_URL, RESPONSE_URL]);
    });
  });
});
