import { faultPlanSchema } from '../../../../sandbox/core/faults';
import { describeSchedule, drawSchedule, FAULT_HORIZON_SECONDS } from '../../../../sandbox/chaos/schedule';

describe('a chaos fault schedule', () => {
  it('is the same for the same seed', () => {
    expect(drawSchedule(42)).toEqual(drawSchedule(42));
    expect(describeSchedule(drawSchedule(42))).toEqual(describeSchedule(drawSchedule(42)));
  });

  it('differs between seeds', () => {
    const distinct = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(drawSchedule(i + 1))));
    expect(distinct.size).toBe(20);
  });

  it('draws only fault rules the engine accepts, each ending within the horizon', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const { faults } = drawSchedule(seed);
      expect(faultPlanSchema.safeParse(faults).success).toBe(true);
      for (const rule of faults) expect(rule.until ?? 0).toBeLessThanOrEqual(FAULT_HORIZON_SECONDS);
    }
  });

  it('over many seeds, draws every fault kind and every disturbance', () => {
    const schedules = Array.from({ length: 50 }, (_, i) => drawSchedule(i + 1));
    expect(new Set(schedules.flatMap((s) => s.faults.map((f) => f.kind)))).toEqual(
      new Set([
        'throttle',
        'api-5xx',
        'event-loss',
        'event-duplicate',
        'event-delay',
        'handler-crash',
        'instance-boot-failure',
        'create-image-failure',
        'ssm-command-failure',
      ]),
    );
    expect(new Set(schedules.flatMap((s) => s.disturbances.map((d) => d.kind)))).toEqual(
      new Set(['alarm-flap', 'concurrent-artifact', 'kill-execution']),
    );
  });
});
