import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseManifest } from '../../../shared/domain/manifest/schema';
import {
  parseStorySettings,
  parseStorySettingsText,
  refreshPreferences,
  settingsFromEnvironment,
  storySettings,
  withOverrides,
} from '../../../sandbox/stories/settings';

function storyDefaults() {
  return storySettings({
    strategy: {
      type: 'rolling',
      minHealthyPercentage: 90,
      instanceWarmupSeconds: 60,
      checkpoints: [25, 50, 100],
    },
  });
}

describe('story settings', () => {
  describe('parseStorySettings', () => {
    it('accepts an empty document: the story keeps all its own settings', () => {
      expect(parseStorySettings(null)).toEqual({});
      expect(withOverrides(storyDefaults(), parseStorySettings({}))).toEqual(storyDefaults());
    });

    it('fills a given strategy with the manifest’s defaults, not the story’s', () => {
      const overrides = parseStorySettings({ strategy: { type: 'rolling', minHealthyPercentage: 100 } });
      const settings = withOverrides(storyDefaults(), overrides);
      expect(settings.strategy).toEqual({
        type: 'rolling',
        minHealthyPercentage: 100,
        maxHealthyPercentage: 100,
        bakeTimeSeconds: 0,
        scaleInProtectedInstances: 'Wait',
        standbyInstances: 'Wait',
      });
      expect(settings.targetGroup).toEqual(storyDefaults().targetGroup);
    });

    it('fills a given blue-green strategy with the manifest’s defaults', () => {
      const blueGreen = storySettings({ strategy: { type: 'blue-green' } });
      const overrides = parseStorySettings({ strategy: { type: 'blue-green', bakeTimeSeconds: 60 } });
      expect(withOverrides(blueGreen, overrides).strategy).toEqual({
        type: 'blue-green',
        healthGate: { healthyForSeconds: 60, timeoutSeconds: 900 },
        bakeTimeSeconds: 60,
        keepOldGroups: 1,
      });
    });

    it('refuses a strategy of another type than the story rolls with, naming both', () => {
      const blueGreen = parseStorySettings({ strategy: { type: 'blue-green' } });
      expect(() => withOverrides(storyDefaults(), blueGreen)).toThrow(
        'invalid story settings: strategy.type: this story rolls with rolling, not blue-green',
      );
      const blueGreenStory = storySettings({ strategy: { type: 'blue-green' } });
      expect(() =>
        withOverrides(blueGreenStory, parseStorySettings({ strategy: { type: 'rolling' } })),
      ).toThrow('invalid story settings: strategy.type: this story rolls with blue-green, not rolling');
    });

    it('gives the target group today’s health check and ELBv2’s default deregistration delay by default', () => {
      expect(storyDefaults().targetGroup).toEqual({
        healthCheckPath: '/health',
        healthCheckIntervalSeconds: 10,
        healthyThresholdCount: 3,
        unhealthyThresholdCount: 2,
      });
    });
  });

  describe('settingsFromEnvironment', () => {
    const example = (file: string) =>
      parseManifest(parseYaml(readFileSync(join(__dirname, '../../../examples', file), 'utf8')));

    it('takes the rolling strategy of a real manifest environment as it is, valid as settings', () => {
      const production = example('checkout.yml').environments.find((env) => env.name === 'production');
      if (!production) throw new Error('examples/checkout.yml has no production environment');
      const settings = settingsFromEnvironment(production);
      expect(settings.strategy).toBe(production.strategy);
      expect(parseStorySettings(settings)).toEqual(settings);
    });

    it('takes a blue-green environment as it is, for the blue/green stories', () => {
      const [environment] = example('ledger.yml').environments;
      if (!environment) throw new Error('examples/ledger.yml has no environment');
      const settings = settingsFromEnvironment(environment);
      expect(settings.strategy).toBe(environment.strategy);
      expect(parseStorySettings(settings)).toEqual(settings);
    });
  });

  describe('parseStorySettings errors', () => {
    it.each([
      [
        { strategy: { type: 'rolling', minHealthyPercentage: 120 } },
        'strategy.minHealthyPercentage: must be between 0 and 100',
      ],
      [
        { strategy: { type: 'rolling', minHealthyPercentage: 50, maxHealthyPercentage: 200 } },
        'strategy.maxHealthyPercentage: must be at most 100 above minHealthyPercentage (50)',
      ],
      [{ strategy: { type: 'canary' } }, 'strategy.type: type must be "rolling" or "blue-green"'],
      [
        { strategy: { type: 'blue-green', healthGate: { healthyForSeconds: 60, timeoutSeconds: 30 } } },
        'strategy.healthGate.timeoutSeconds: must be between 60 and 7200',
      ],
      [{ strategy: { type: 'rolling', minHealthy: 90 } }, 'strategy.minHealthy:'],
      [
        { targetGroup: { healthCheckIntervalSeconds: 5 } },
        'targetGroup.healthCheckIntervalSeconds: the health check timeout (5 s, the default) must be smaller than the interval (5 s)',
      ],
      [
        { targetGroup: { deregistrationDelaySeconds: 4000 } },
        'targetGroup.deregistrationDelaySeconds: must be between 0 and 3600',
      ],
      [{ targetGroup: { healthCheckPath: 'health' } }, 'targetGroup.healthCheckPath: must start with "/"'],
      [{ rollout: {} }, 'rollout:'],
    ])('refuses %j naming the field', (value, message) => {
      expect(() => parseStorySettings(value)).toThrow(message);
    });
  });

  describe('parseStorySettingsText', () => {
    it('reads YAML and names the file in its errors', () => {
      expect(parseStorySettingsText('targetGroup:\n  deregistrationDelaySeconds: 0\n', 'fast.yml')).toEqual({
        targetGroup: {
          healthCheckPath: '/health',
          healthCheckIntervalSeconds: 10,
          healthyThresholdCount: 3,
          unhealthyThresholdCount: 2,
          deregistrationDelaySeconds: 0,
        },
      });
      expect(() => parseStorySettingsText('strategy: [', 'bad.yml')).toThrow(/^bad\.yml: not JSON or YAML/);
      expect(() => parseStorySettingsText('strategy: 3', 'bad.yml')).toThrow(
        'bad.yml: invalid story settings: strategy: must be a map (key: value), not a number',
      );
    });
  });

  describe('the README’s example settings file', () => {
    it('is valid and means what its comments say', () => {
      const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
      const block = /\*\*Story settings\.\*\*[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
      if (block === undefined) throw new Error('README: no yaml block under "Story settings."');
      expect(parseStorySettingsText(block, 'README.md')).toEqual({
        strategy: {
          type: 'rolling',
          minHealthyPercentage: 90,
          maxHealthyPercentage: 120,
          instanceWarmupSeconds: 60,
          checkpoints: [25, 50, 100],
          checkpointDelaySeconds: 600,
          bakeTimeSeconds: 0,
          scaleInProtectedInstances: 'Wait',
          standbyInstances: 'Wait',
        },
        targetGroup: {
          healthCheckPath: '/health',
          healthCheckIntervalSeconds: 10,
          healthCheckTimeoutSeconds: 5,
          healthyThresholdCount: 3,
          unhealthyThresholdCount: 2,
          deregistrationDelaySeconds: 300,
        },
      });
    });
  });

  describe('refreshPreferences', () => {
    it('always sends MaxHealthyPercentage, as Kiln does, and leaves unset warmup and delay to AWS', () => {
      expect(
        refreshPreferences({ type: 'rolling', minHealthyPercentage: 90, maxHealthyPercentage: 100 }),
      ).toEqual({
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 100,
      });
    });

    it('sends warmup, checkpoints and their delay when the strategy has them', () => {
      expect(
        refreshPreferences({
          type: 'rolling',
          minHealthyPercentage: 90,
          maxHealthyPercentage: 120,
          instanceWarmupSeconds: 180,
          checkpoints: [10, 50, 100],
          checkpointDelaySeconds: 600,
        }),
      ).toEqual({
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 120,
        InstanceWarmup: 180,
        CheckpointPercentages: [10, 50, 100],
        CheckpointDelay: 600,
      });
    });
  });
});
