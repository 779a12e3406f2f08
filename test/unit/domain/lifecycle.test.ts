import {
  completeBy,
  globalTimeoutSeconds,
  heartbeatDue,
  latestWake,
  launchVerdict,
  lifecycleExecutionName,
} from '../../../shared/domain/lifecycle';

describe('lifecycle domain', () => {
  describe('lifecycleExecutionName', () => {
    it('is the same for the same instance, transition and hook (every delivery starts one handling)', () => {
      const action = {
        instanceId: 'i-0123456789abcdef0',
        transition: 'terminate' as const,
        hookName: 'kiln-drain',
      };
      expect(lifecycleExecutionName(action)).toBe('i-0123456789abcdef0-terminate-kiln-drain');
      expect(lifecycleExecutionName({ ...action })).toBe(lifecycleExecutionName(action));
    });

    it('keeps within Step Functions’ 80 characters and its allowed characters when the hook name is long', () => {
      const a = lifecycleExecutionName({
        instanceId: 'i-0123456789abcdef0',
        transition: 'launch',
        hookName: `team/${'x'.repeat(200)}`,
      });
      const b = lifecycleExecutionName({
        instanceId: 'i-0123456789abcdef0',
        transition: 'launch',
        hookName: `team/${'x'.repeat(199)}y`,
      });
      expect(a.length).toBeLessThanOrEqual(80);
      expect(a).not.toMatch(/[/\s]/);
      expect(a).not.toBe(b);
    });
  });

  describe('timeouts', () => {
    it('takes the global timeout as the smaller of 48 h and 100 × the heartbeat timeout', () => {
      expect(globalTimeoutSeconds(30)).toBe(3000);
      expect(globalTimeoutSeconds(3600)).toBe(172_800);
    });

    it('completes before the global timeout, with a margin', () => {
      expect(completeBy(0, 60)).toBe((6000 - 120) * 1000);
      expect(completeBy(0, 30)).toBeLessThan(3000 * 1000);
    });

    it('asks for a heartbeat once half the heartbeat timeout has passed, and never sleeps past it', () => {
      expect(heartbeatDue(0, 60, 29_999)).toBe(false);
      expect(heartbeatDue(0, 60, 30_000)).toBe(true);
      expect(latestWake(1_000, 60, 1_000_000)).toBe(31_000);
      expect(latestWake(1_000, 60, 20_000)).toBe(20_000);
    });
  });

  describe('launchVerdict', () => {
    const expected = [{ version: '1.0.0', imageId: 'ami-1' }];

    it('continues an instance running the release’s AMI', () => {
      expect(
        launchVerdict({ imageId: 'ami-1', state: 'running', expected, now: 0, healthyBy: 1 }),
      ).toMatchObject({ result: 'CONTINUE' });
    });

    it('abandons an instance on another AMI as drift, naming both', () => {
      const verdict = launchVerdict({ imageId: 'ami-old', state: 'running', expected, now: 0, healthyBy: 1 });
      expect(verdict).toMatchObject({ result: 'ABANDON', drift: { imageId: 'ami-old' } });
      expect(verdict.result === 'ABANDON' && verdict.reason).toContain('drift: the instance runs ami-old');
      expect(verdict.result === 'ABANDON' && verdict.reason).toContain('ami-1 (1.0.0)');
    });

    it('waits for a pending instance within the warm-up and abandons it after', () => {
      expect(launchVerdict({ imageId: 'ami-1', state: 'pending', expected, now: 0, healthyBy: 10 })).toEqual({
        result: 'wait',
      });
      expect(
        launchVerdict({ imageId: 'ami-1', state: 'pending', expected, now: 10, healthyBy: 10 }),
      ).toMatchObject({
        result: 'ABANDON',
        reason: expect.stringContaining('not healthy within the warm-up'),
      });
    });

    it('continues, saying it did not verify, when the environment has no release recorded', () => {
      expect(
        launchVerdict({ imageId: 'ami-x', state: 'running', expected: [], now: 0, healthyBy: 1 }),
      ).toMatchObject({
        result: 'CONTINUE',
        reason: expect.stringContaining('not verified'),
      });
    });
  });
});
