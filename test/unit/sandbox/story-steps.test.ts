import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { createEngine, type SandboxEngine } from '../../../sandbox/core/engine';
import { step, StoryDeadlineError, StoryStepError, storyStepFailure } from '../../../sandbox/stories/steps';

/** The error a story sees when an injected 5xx outlasts the SDK's three attempts. */
async function injectedFailure(engine: SandboxEngine): Promise<unknown> {
  engine.register({ serviceId: 'EC2', handle: async () => ({ Reservations: [] }) });
  const { ec2 } = engine.clientsFor('story:test');
  return engine.run(() => ec2.send(new DescribeInstancesCommand({}))).catch((error: unknown) => error);
}

describe('story steps', () => {
  let engine: SandboxEngine | undefined;
  afterEach(async () => {
    await engine?.dispose();
    engine = undefined;
  });

  describe('step', () => {
    it('returns what its body returns', async () => {
      await expect(step('setup', async () => 42)).resolves.toBe(42);
    });

    it('lets any error the simulation did not cause through as itself (a bug)', async () => {
      const bug = new TypeError('undefined is not a function');

      await expect(step('setup', () => Promise.reject(bug))).rejects.toBe(bug);
    });

    it('turns a call an injected fault kept failing into a failed step naming the call and the rule', async () => {
      engine = await createEngine({
        seed: 1,
        dynamodb: false,
        faults: [{ kind: 'api-5xx', key: 'EC2:DescribeInstances' }],
      });
      const error = await injectedFailure(engine);

      const failure: unknown = await step('setup', () => Promise.reject(error)).catch((x: unknown) => x);

      expect(failure).toBeInstanceOf(StoryStepError);
      expect(failure).toMatchObject({
        step: 'setup',
        reason: 'simulated',
        detail:
          'DescribeInstances failed after 3 attempts: Unavailable (injected api-5xx:EC2:DescribeInstances)',
      });
    });

    it('turns a wait past its virtual deadline into a failed step', async () => {
      const failure: unknown = await step('rollout', () =>
        Promise.reject(new StoryDeadlineError('refresh still InProgress after 21600 s')),
      ).catch((x: unknown) => x);

      expect(failure).toMatchObject({
        step: 'rollout',
        reason: 'deadline',
        detail: 'refresh still InProgress after 21600 s',
      });
    });

    it('keeps the innermost step’s name when steps nest', async () => {
      const failure: unknown = await step('outer', () =>
        step('inner', () => Promise.reject(new StoryDeadlineError('late'))),
      ).catch((x: unknown) => x);

      expect(failure).toMatchObject({ step: 'inner' });
    });
  });

  describe('storyStepFailure', () => {
    it('finds an injected failure that other code wrapped, keeping its cause', async () => {
      engine = await createEngine({ seed: 2, dynamodb: false, faults: [{ kind: 'throttle' }] });
      const error = await injectedFailure(engine);
      const wrapped = new Error('could not list instances', { cause: error });

      expect(storyStepFailure('fleet healthy', wrapped)?.detail).toBe(
        'DescribeInstances failed after 3 attempts: RequestLimitExceeded (injected throttle)',
      );
    });

    it('is undefined for an error with no injected failure inside', () => {
      expect(storyStepFailure('setup', new Error('x', { cause: new Error('y') }))).toBeUndefined();
      expect(storyStepFailure('setup', 'a string')).toBeUndefined();
    });
  });
});
