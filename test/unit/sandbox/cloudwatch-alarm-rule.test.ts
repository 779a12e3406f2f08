import {
  evaluateAlarmRule,
  parseAlarmRule,
  referencedAlarms,
} from '../../../sandbox/services/cloudwatch/alarm-rule';
import type { StateValue } from '@aws-sdk/client-cloudwatch';

function holds(rule: string, states: Record<string, StateValue>): boolean {
  return evaluateAlarmRule(parseAlarmRule(rule), (name) => states[name]);
}

describe('composite alarm rules', () => {
  describe('parseAlarmRule', () => {
    it('accepts bare and double-quoted alarm names and ARNs', () => {
      const rule = parseAlarmRule(
        'ALARM(a) OR OK("b c") OR INSUFFICIENT_DATA(arn:aws:cloudwatch:us-east-1:123456789012:alarm:d)',
      );
      expect(referencedAlarms(rule)).toEqual([
        'a',
        'b c',
        'arn:aws:cloudwatch:us-east-1:123456789012:alarm:d',
      ]);
    });

    it('rejects an unbalanced parenthesis, naming what it expected', () => {
      expect(() => parseAlarmRule('(ALARM(a) AND ALARM(b)')).toThrow("expected ')'");
    });

    it('rejects an unknown function', () => {
      expect(() => parseAlarmRule('FIRING(a)')).toThrow("unexpected 'FIRING'");
    });

    it('rejects a dangling operator', () => {
      expect(() => parseAlarmRule('ALARM(a) AND')).toThrow('unexpected end of rule');
    });

    it('rejects an empty rule', () => {
      expect(() => parseAlarmRule('  ')).toThrow('the rule is empty');
    });
  });

  describe('evaluateAlarmRule', () => {
    it('is TRUE for ALARM(x) only while x is in ALARM', () => {
      expect(holds('ALARM(x)', { x: 'ALARM' })).toBe(true);
      expect(holds('ALARM(x)', { x: 'OK' })).toBe(false);
    });

    it('evaluates OK() and INSUFFICIENT_DATA() against those states', () => {
      expect(holds('OK(x) AND INSUFFICIENT_DATA(y)', { x: 'OK', y: 'INSUFFICIENT_DATA' })).toBe(true);
    });

    it('evaluates TRUE and FALSE as constants', () => {
      expect(holds('TRUE AND NOT FALSE', {})).toBe(true);
    });

    it('follows the documented example: ALARM(cpu) AND NOT ALARM(deploying)', () => {
      expect(holds('ALARM(cpu) AND NOT ALARM(deploying)', { cpu: 'ALARM', deploying: 'OK' })).toBe(true);
      expect(holds('ALARM(cpu) AND NOT ALARM(deploying)', { cpu: 'ALARM', deploying: 'ALARM' })).toBe(false);
    });

    it('binds AND tighter than OR and honours parentheses', () => {
      const states: Record<string, StateValue> = { a: 'ALARM', b: 'OK', c: 'OK' };
      expect(holds('ALARM(a) OR ALARM(b) AND ALARM(c)', states)).toBe(true);
      expect(holds('(ALARM(a) OR ALARM(b)) AND ALARM(c)', states)).toBe(false);
    });
  });
});
