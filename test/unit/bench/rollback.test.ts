import type { TimedEntry } from '../../../sandbox/core/timeline';
import { greenHealthyToSwitch } from '../../../bench/rollback';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123';

function target(t: number, id: string, to: string): TimedEntry {
  return { t, kind: 'state', resource: `${TG}/${id}`, from: null, to };
}

describe('the blue/green bench', () => {
  describe('greenHealthyToSwitch', () => {
    const blue = new Set(['i-blue1', 'i-blue2']);

    it('measures from the last green target healthy to the first blue target draining', () => {
      const entries = [
        target(100, 'i-green1', 'initial'),
        target(130, 'i-green1', 'healthy'),
        target(140, 'i-green2', 'healthy'),
        target(215, 'i-blue2', 'draining'),
        target(216, 'i-blue1', 'draining'),
        target(300, 'i-green3', 'healthy'),
      ];

      expect(greenHealthyToSwitch(entries, TG, blue)).toEqual({ greenHealthy: 140, moved: 215 });
    });

    it('finds no switch while every blue target still serves', () => {
      const entries = [target(130, 'i-green1', 'healthy'), target(140, 'i-blue1', 'healthy')];

      expect(greenHealthyToSwitch(entries, TG, blue)).toBeUndefined();
    });

    it('ignores targets of other target groups', () => {
      const other = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0456';
      const entries = [
        target(130, 'i-green1', 'healthy'),
        { t: 150, kind: 'state', resource: `${other}/i-green9`, from: null, to: 'healthy' } as TimedEntry,
        target(200, 'i-blue1', 'draining'),
      ];

      expect(greenHealthyToSwitch(entries, TG, blue)).toEqual({ greenHealthy: 130, moved: 200 });
    });
  });
});
