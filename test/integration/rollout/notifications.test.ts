/**
 * Notifications through the real deploy state machine (README "Notifications"): a notification
 * that cannot be delivered never fails the deployment, and a step the state machine retries after
 * it notified sends nothing again.
 */
import { sandboxFunctions } from '../../../sandbox/functions';
import type { SandboxFunctionFactory } from '../../../sandbox/functions';
import { stage, type Stage } from './harness';

jest.setTimeout(120_000);

/**
 * rollout-steps whose first answer for each of `steps` is lost after the step ran (the function
 * did its work, then the invocation failed): the state machine's Retry runs the step again.
 */
function answersLostOnce(steps: readonly string[]): SandboxFunctionFactory {
  return async (env) => {
    const real = await sandboxFunctions.rolloutSteps!(env);
    const lost = new Set<string>();
    return async (event, context) => {
      const output = await real(event, context);
      const step = typeof event === 'object' && event !== null && 'step' in event ? String(event.step) : '';
      if (steps.includes(step) && !lost.has(step)) {
        lost.add(step);
        const error = new Error(`the answer of ${step} was lost`);
        error.name = 'TransientAwsError';
        throw error;
      }
      return output;
    };
  };
}

describe('deploy state machine: notifications', () => {
  let s: Stage | undefined;
  afterEach(async () => {
    await s?.region.dispose();
    s = undefined;
  });

  it('succeeds when no notification can be delivered, and audits each failure with its reason', async () => {
    s = await stage({ notifications: 'broken' });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const arn = await st.deploy({ id: 'd-quiet', environments: ['staging'] });
      return { execution: await st.end(arn), deployment: await st.deployment('d-quiet') };
    });
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(outcome.deployment?.status).toBe('succeeded');
    const audit = await st.region.engine.run(() => st.store.listAudit({ target: 'deployment:d-quiet' }));
    const failures = audit.items.filter((entry) => entry.action === 'notification.failed');
    expect(failures.map((entry) => (entry.after as { kind: string }).kind).sort()).toEqual([
      'started',
      'succeeded',
    ]);
    expect(failures[0]?.reason).toMatch(
      /slack failed: .*the parameter \/kiln\/notifications\/web-missing does not exist/,
    );
    expect(failures[0]?.reason).toMatch(/sns failed: .*NotFound/);
  });

  it('sends each notice once when the state machine retries a step whose answer was lost after it notified', async () => {
    s = await stage({
      notifications: 'working',
      functions: { rolloutSteps: answersLostOnce(['take-lock', 'finish']) },
    });
    const st = s;
    const outcome = await st.region.engine.run(async () => {
      const arn = await st.deploy({ id: 'd-retried', environments: ['staging'] });
      return { arn, execution: await st.end(arn) };
    });
    expect(outcome.execution.status).toBe('SUCCEEDED');
    // Both steps did run twice: the lost answers were retried.
    expect(st.region.stepFunctions.execution(outcome.arn)?.retries).toBe(2);
    expect(st.region.slack.posts.map((post) => [post.status, post.message?.text])).toEqual([
      [200, 'web 2.0.0: deployment started'],
      [200, 'web 2.0.0: deployment succeeded'],
    ]);
  });
});
