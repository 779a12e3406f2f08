import { parseBadVersion, parseFaultPlanText, parseFaultSpec } from '../../../sandbox/fault-options';

describe('--fault specs', () => {
  it.each([
    ['event-duplicate', { kind: 'event-duplicate' }],
    ['event-loss@0.25', { kind: 'event-loss', probability: 0.25 }],
    ['throttle:EC2:RunInstances', { kind: 'throttle', key: 'EC2:RunInstances' }],
    [
      'handler-crash:kiln-sandbox-on-artifact@1',
      { kind: 'handler-crash', key: 'kiln-sandbox-on-artifact', probability: 1 },
    ],
  ])('parses %s', (spec, rule) => {
    expect(parseFaultSpec(spec)).toEqual(rule);
  });

  it.each([
    ['meteor-strike', /kind/],
    ['event-loss@often', /probability/],
    ['event-loss@1.5', /probability/],
  ])('rejects %s naming the part at fault', (spec, message) => {
    expect(() => parseFaultSpec(spec)).toThrow(message);
  });
});

describe('--faults files', () => {
  it('reads a YAML list of rules', () => {
    expect(parseFaultPlanText('- kind: event-delay\n  probability: 0.5\n  until: 600\n', 'plan.yml')).toEqual(
      [{ kind: 'event-delay', probability: 0.5, until: 600 }],
    );
  });

  it('names the file and the field of a bad rule', () => {
    expect(() => parseFaultPlanText('[{"kind":"event-loss","count":0}]', 'plan.json')).toThrow(
      /plan\.json: .*faults\[0\]\.count/,
    );
  });
});

describe('--bad-version', () => {
  it('defaults to a release that serves errors', () => {
    expect(parseBadVersion('1.1.0')).toEqual({ version: '1.1.0', mode: 'errors' });
  });

  it('accepts a release that fails its health checks', () => {
    expect(parseBadVersion('1.1.0:failing-health')).toEqual({ version: '1.1.0', mode: 'failing-health' });
  });

  it('rejects an unknown mode by name', () => {
    expect(() => parseBadVersion('1.1.0:slow')).toThrow(/mode must be errors or failing-health, not slow/);
  });
});
