import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { environmentSpans, rolloutFigures, type RolloutFigures } from '../../sandbox/preview/figures';
import { AWS_DEFAULT_TARGET_GROUP, previewInput, type PreviewInput } from '../../sandbox/preview/input';
import { previewRollout } from '../../sandbox/preview/preview';
import { runSandbox } from '../../sandbox/run';
import { blueGreenStory } from '../../sandbox/stories/blue-green';
import { rollingStory } from '../../sandbox/stories/rollout';
import type { Story } from '../../sandbox/stories/types';

/**
 * `kiln preview` against the full scenarios: the same strategy and target group settings give the
 * same figures (durations within one health-check interval), so the rehearsal tells what the real
 * rollout path does; and a manifest whose constraints cannot hold is reported with its reason.
 */
jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');
const FLEET = 3;

function input(
  file: string,
  env: string,
  extra: Partial<Pick<PreviewInput, 'targetGroup'>> = {},
): PreviewInput {
  return previewInput({ text: readFileSync(join(ROOT, file), 'utf8'), file, env, fleet: FLEET, ...extra });
}

/**
 * `story` as it is, plus the declaration of the environment (service/environment on its group
 * `group`) for the run's record, made once the story ran.
 */
function declaring(story: Story, service: string, environment: string, group: string): Story {
  return {
    ...story,
    async run(region, options) {
      const result = await story.run(region, options);
      const aws = region.clientsFor('test:observer', 'operator');
      // The platform team's target group is named after the group (stories/fleet.ts); blue/green
      // has detached the group from it by now.
      const described = await aws.elbv2.send(new DescribeTargetGroupsCommand({ Names: [group] }));
      options.declareEnvironment({
        service,
        environment,
        groups: [group],
        targetGroupArns: (described.TargetGroups ?? []).map((tg) => tg.TargetGroupArn ?? ''),
        alarmNames: [`${group}-5xx`],
      });
      return result;
    },
  };
}

/** The scenario's figures for its environment's part of the first deployment. */
async function scenarioFigures(
  story: Story,
  key: { service: string; environment: string; group: string },
  settings: PreviewInput,
): Promise<RolloutFigures> {
  const wrapped = declaring(story, key.service, key.environment, key.group);
  const result = await runSandbox({
    seed: 7,
    fleet: FLEET,
    scenario: wrapped.name,
    stories: { [wrapped.name]: wrapped },
    settings: { strategy: settings.environment.strategy, targetGroup: settings.targetGroup },
  });
  expect(result.checks.filter((c) => !c.ok && ['setup', 'rollout'].includes(c.name))).toEqual([]);
  const span = environmentSpans(result.record).find((s) => s.index === 0);
  if (span === undefined) throw new Error('the scenario rolled no environment');
  return rolloutFigures(result.record, key, span, '2.0.0');
}

function expectAgreement(preview: RolloutFigures, scenario: RolloutFigures, interval: number): void {
  expect(Math.abs(preview.durationSeconds - scenario.durationSeconds)).toBeLessThanOrEqual(interval);
  expect(preview.leastHealthy.count).toBe(scenario.leastHealthy.count);
  expect(preview.peakInstances.count).toBe(scenario.peakInstances.count);
  expect(preview.checkpoints.length).toBe(scenario.checkpoints.length);
  preview.checkpoints.forEach((pause, i) => {
    const other = scenario.checkpoints[i];
    expect(other).toBeDefined();
    expect(Math.abs(pause.seconds - (other?.seconds ?? 0))).toBeLessThanOrEqual(interval);
    expect(Math.abs(pause.at - (other?.at ?? 0))).toBeLessThanOrEqual(interval);
    expect(pause.onRelease).toBe(other?.onRelease);
  });
}

describe('kiln preview', () => {
  describe('agrees with the full scenario run with the same settings', () => {
    it('on examples/checkout.yml production (rolling, checkpoints) against the rolling story', async () => {
      const settings = input('examples/checkout.yml', 'production');
      const report = await previewRollout({ input: settings });
      const scenario = await scenarioFigures(
        rollingStory,
        { service: 'shop', environment: 'staging', group: 'shop-staging' },
        settings,
      );
      expect(report.rollout.status).toBe('succeeded');
      expect(report.rollout.checkpoints.length).toBeGreaterThan(0);
      expectAgreement(report.rollout, scenario, AWS_DEFAULT_TARGET_GROUP.healthCheckIntervalSeconds);
      expect(report.violations).toEqual([]);
    });

    it('on examples/ledger.yml production (blue/green) against the blue-green story', async () => {
      const settings = input('examples/ledger.yml', 'production');
      const report = await previewRollout({ input: settings });
      const scenario = await scenarioFigures(
        blueGreenStory,
        { service: 'web', environment: 'production', group: 'web-production' },
        settings,
      );
      expect(report.rollout.status).toBe('succeeded');
      // Green comes up beside blue: the fleet doubles for the switch.
      expect(report.rollout.peakInstances.count).toBe(2 * FLEET);
      expectAgreement(report.rollout, scenario, AWS_DEFAULT_TARGET_GROUP.healthCheckIntervalSeconds);
      expect(report.violations).toEqual([]);
    });
  });

  describe('measures how long going back takes', () => {
    it('rehearses kiln rollback after the rollout and sees the fleet whole on the previous release', async () => {
      const report = await previewRollout({ input: input('examples/ledger.yml', 'dev') });
      expect(report.rollback).toEqual(
        expect.objectContaining({ kind: 'kiln rollback', status: 'succeeded' }),
      );
      expect(report.rollback.seconds).toBeGreaterThan(0);
      expect(report.rollback.restoredSeconds).toBeGreaterThan(0);
    });

    it('with --bad-version, times the automatic rollback from the alarm', async () => {
      const report = await previewRollout({
        input: input('examples/checkout.yml', 'staging'),
        badVersion: true,
      });
      expect(report.rollout.status).toBe('rolled-back');
      expect(report.rollback.kind).toBe('automatic');
      expect(report.rollback.detectedAfterSeconds).toBeGreaterThan(0);
      expect(report.rollback.restoredSeconds).toBeGreaterThanOrEqual(0);
      expect(report.violations).toEqual([]);
    });
  });

  describe("when the manifest's constraints cannot hold", () => {
    it('reports that a healthy release does not roll out when targets turn healthy only after the health gate times out', async () => {
      // 10 checks 60 s apart: 600 s before a green target is healthy, against a 120 s gate.
      const text = readFileSync(join(ROOT, 'examples/ledger.yml'), 'utf8')
        .replace('healthyForSeconds: 30', 'healthyForSeconds: 60')
        .replace('timeoutSeconds: 600', 'timeoutSeconds: 120');
      const tight = previewInput({
        text,
        file: 'tight.yml',
        env: 'dev',
        fleet: 2,
        targetGroup: {
          ...AWS_DEFAULT_TARGET_GROUP,
          healthCheckIntervalSeconds: 60,
          healthyThresholdCount: 10,
        },
      });
      const report = await previewRollout({ input: tight });
      // Kiln itself behaves: the gate times out and blue is restored (rolled-back, lock released).
      // What cannot hold is the manifest's promise that a healthy release rolls out.
      expect(report.rollout.status).toBe('rolled-back');
      expect(report.violations).toEqual([
        expect.stringMatching(
          /^a healthy release does not roll out: deployment rolled-back: health gate not passed within 120 s/,
        ),
      ]);
    });
  });
});
