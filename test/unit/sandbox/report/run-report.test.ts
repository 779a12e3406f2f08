import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSandbox } from '../../../../sandbox/run';
import { storySettings } from '../../../../sandbox/stories/settings';
import type { Story } from '../../../../sandbox/stories/types';

/** A story that declares an environment, then hits a bug (an error that is no story outcome). */
const buggyStory: Story = {
  name: 'buggy',
  description: 'declares web, then throws',
  settings: storySettings({
    strategy: {
      type: 'rolling',
      minHealthyPercentage: 90,
      maxHealthyPercentage: 100,
      instanceWarmupSeconds: 60,
    },
  }),
  async run(_region, options) {
    options.declareEnvironment({
      service: 'web',
      environment: 'production',
      groups: ['web'],
      targetGroupArns: [],
      alarmNames: [],
    });
    options.print('story: about to fail');
    throw new TypeError('a bug in the story');
  },
};

describe('runSandbox with reportFile', () => {
  it('writes the report of a run that ended in a bug, saying so, before the error reaches the caller', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
    try {
      const file = join(dir, 'run.html');
      await expect(
        runSandbox({
          seed: 1,
          fleet: 1,
          scenario: 'buggy',
          stories: { buggy: buggyStory },
          reportFile: file,
        }),
      ).rejects.toThrow('a bug in the story');
      const html = readFileSync(file, 'utf8');
      expect(html).toContain('The run stopped with an error');
      expect(html).toContain('TypeError: a bug in the story');
      expect(html).toContain('data-environment="production"');
      expect(html).toContain('story: about to fail');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
