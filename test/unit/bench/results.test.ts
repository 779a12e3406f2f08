import { resultsJson, summaryTable, type SectionRecord } from '../../../bench/results';

const run = (startedAt: string) => ({ startedAt, seed: 7, node: 'v20.20.0', commit: 'abc1234' });

const section = (name: string, value: string, data: unknown = {}): SectionRecord => ({
  name,
  headlines: [{ figure: `${name} figure`, value }],
  data,
  wallMs: 1234.4,
});

describe('the bench results (bench/results.ts)', () => {
  describe('summaryTable', () => {
    it('lists every headline figure under its section, in the order the sections ran', () => {
      const table = summaryTable([section('cold', '1.40×'), section('cost', '$0.00315')]);
      const lines = table.split('\n');
      expect(lines[0]).toBe('all together: the headline figures of this run');
      expect(lines.slice(3)).toEqual([
        expect.stringMatching(/^\| cold: cold figure +\| +1\.40× \|$/),
        expect.stringMatching(/^\| cost: cost figure +\| +\$0\.00315 \|$/),
      ]);
    });
  });

  describe('resultsJson', () => {
    it("writes each section's headlines, figures and wall time, with the run it came from", () => {
      const file = JSON.parse(
        resultsJson(run('2026-12-02T03:00:00.000Z'), [section('cost', '$1', { usd: 1 })]),
      );
      expect(file).toEqual({
        run: { ...run('2026-12-02T03:00:00.000Z'), sections: ['cost'] },
        sections: {
          cost: {
            run: run('2026-12-02T03:00:00.000Z'),
            headlines: [{ figure: 'cost figure', value: '$1' }],
            wallMs: 1234,
            figures: { usd: 1 },
          },
        },
      });
    });

    it('keeps the sections an earlier run measured and this one did not, and replaces the ones it did', () => {
      const earlier = resultsJson(run('2026-12-01T00:00:00.000Z'), [
        section('cold', 'old'),
        section('cost', 'old'),
      ]);
      const file = JSON.parse(
        resultsJson(run('2026-12-02T00:00:00.000Z'), [section('cost', 'new')], earlier),
      );
      expect(Object.keys(file.sections).sort()).toEqual(['cold', 'cost']);
      expect(file.sections.cold.headlines[0].value).toBe('old');
      expect(file.sections.cold.run.startedAt).toBe('2026-12-01T00:00:00.000Z');
      expect(file.sections.cost.headlines[0].value).toBe('new');
      expect(file.run.sections).toEqual(['cost']);
    });

    it('starts afresh from an earlier file that is not a results file', () => {
      const file = JSON.parse(
        resultsJson(run('2026-12-02T00:00:00.000Z'), [section('cost', 'new')], '{not json'),
      );
      expect(Object.keys(file.sections)).toEqual(['cost']);
    });

    it('writes Maps as objects and non-finite numbers as null', () => {
      const data = { calls: new Map([['EC2:RunInstances', 2]]), seconds: Number.NaN };
      const file = JSON.parse(resultsJson(run('2026-12-02T00:00:00.000Z'), [section('bake', '-', data)]));
      expect(file.sections.bake.figures).toEqual({ calls: { 'EC2:RunInstances': 2 }, seconds: null });
    });
  });
});
