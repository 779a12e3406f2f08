import { parseChaosArgs, replayCommand } from '../../../../sandbox/chaos/cli';

describe('npm run chaos arguments', () => {
  it('runs seeds from --from for --seeds, on two workers at fleet 2 of the default story by default', () => {
    expect(parseChaosArgs(['--seeds', '3', '--from', '10'])).toMatchObject({
      seeds: [10, 11, 12],
      scenario: 'default',
      fleet: 2,
      workers: 2,
    });
  });

  it('reads back the replay command it prints, seed, story, fleet and sabotage', () => {
    const command = replayCommand({
      seed: 52,
      scenario: 'drain',
      fleet: 1,
      sabotage: 'never-complete-lifecycle',
    });
    const [, args = ''] = command.split(' -- ');
    expect(parseChaosArgs(args.split(' '))).toMatchObject({
      seeds: [52],
      scenario: 'drain',
      fleet: 1,
      sabotage: 'never-complete-lifecycle',
    });
  });

  describe('refuses, naming the option,', () => {
    it.each([
      [['--seeds', '0'], /--seeds must be a whole number/],
      [['--seeds', '2', '--fleet', 'many'], /--fleet must be a whole number/],
      [['--seed', '3', '--scenario', 'nope'], /--scenario: unknown story nope/],
      [['--seed', '3', '--sabotage', 'everything'], /--sabotage/],
      [['--seeds', '3', '--seed', '4'], /either --seeds N .* or --seed S/],
      [[], /either --seeds N .* or --seed S/],
      [['--seeds', '2', '--timeline', 't.jsonl'], /--timeline needs --seed/],
    ])('%j', (argv, message) => {
      expect(() => parseChaosArgs(argv)).toThrow(message);
    });
  });
});
