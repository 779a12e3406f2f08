import { runSandbox } from '../../sandbox/run';

describe('the blue-green story through the deploy state machine (3 instances, gate 60 s healthy within 900 s, watch 120 s)', () => {
  it('moves traffic only after every green target is healthy, then retires blue at zero and keeps it', async () => {
    const result = await runSandbox({ seed: 7, fleet: 3, scenario: 'blue-green' });

    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.map((check) => check.name)).toEqual([
      'Kiln records the deployment succeeded and production on 2.0.0 in web-production-kiln-2.0.0',
      'no detach of blue before every green target is healthy',
      'only green serves',
      'blue retired at zero and kept',
      'green scales freely again, retired blue stays parked',
    ]);
    expect(result.figures['green group']).toBe('web-production-kiln-2.0.0');
  });
});

describe('the blue-green story with --settings', () => {
  it('rolls with the blue-green strategy the settings give: a 30 s gate moves traffic sooner', async () => {
    const result = await runSandbox({
      seed: 7,
      fleet: 3,
      scenario: 'blue-green',
      settings: {
        strategy: { type: 'blue-green', healthGate: { healthyForSeconds: 30, timeoutSeconds: 600 } },
      },
    });

    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    // The gate holds 30 s, then one 15 s poll at most before the switch.
    expect(result.figures['seconds from green all healthy to traffic moved']).toBeGreaterThanOrEqual(30);
    expect(result.figures['seconds from green all healthy to traffic moved']).toBeLessThanOrEqual(45);
  });

  it('refuses a rolling strategy before anything runs', async () => {
    await expect(
      runSandbox({ seed: 7, fleet: 3, scenario: 'blue-green', settings: { strategy: { type: 'rolling' } } }),
    ).rejects.toThrow('invalid story settings: strategy.type: this story rolls with blue-green, not rolling');
  });
});

describe('the scale-during-switch story (a simple +2 scale-out alarm goes off during the health gate)', () => {
  it('keeps both groups at their size during the switch, then scales green only, and traffic on healthy green targets', async () => {
    const result = await runSandbox({ seed: 7, fleet: 3, scenario: 'scale-during-switch' });

    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.map((check) => check.name)).toEqual([
      'Kiln records the deployment succeeded and production on 2.0.0 in web-production-kiln-2.0.0',
      'the alarm asked during the switch and neither group changed size',
      'no detach of blue before every green target is healthy',
      'after the switch the scale-out reaches green, and the retired blue stays at zero',
      'only green serves, every green instance healthy',
    ]);
    expect(result.figures['green desired after the switch']).toBe(5);
  });
});

describe('the bad-release-blue-green story (2.0.0 serves 5xx once it has traffic)', () => {
  it('stops the release with the rollout alarm during the watch, restores blue before green leaves, and records blue again', async () => {
    const result = await runSandbox({ seed: 7, fleet: 3, scenario: 'bad-release-blue-green' });

    expect(result.checks.filter((check) => !check.ok)).toEqual([]);
    expect(result.checks.map((check) => check.name)).toEqual([
      'Kiln records the deployment rolled-back and production on unrecorded in web-production',
      'the rollout alarm stopped 2.0.0 during the watch after the switch',
      'blue was healthy and attached again before green left',
      'blue serves at its recorded capacity, green is gone',
    ]);
  });
});
