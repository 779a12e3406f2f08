import { AwsCron, CronExpressionError } from '../../../sandbox/core/cron';

const JAN_1_2026 = Date.UTC(2026, 0, 1, 0, 0, 0); // a Thursday

/** The next `count` times the expression fires after `from`, as ISO strings. */
function firings(expression: string, count: number, from = JAN_1_2026): string[] {
  const cron = AwsCron.parse(expression);
  const out: string[] = [];
  let at: number | undefined = from;
  while (out.length < count) {
    at = cron.nextAfter(at);
    if (at === undefined) break;
    out.push(new Date(at).toISOString());
  }
  return out;
}

function refusal(expression: string): string {
  try {
    AwsCron.parse(expression);
  } catch (error) {
    if (error instanceof CronExpressionError) return error.message;
    throw error;
  }
  throw new Error(`${expression} was accepted`);
}

describe('AwsCron (EventBridge cron expressions)', () => {
  describe('the examples of eb-scheduled-rule-pattern.html, in UTC', () => {
    it.each([
      ['cron(0 10 * * ? *)', ['2026-01-01T10:00:00.000Z', '2026-01-02T10:00:00.000Z']],
      ['cron(15 12 * * ? *)', ['2026-01-01T12:15:00.000Z', '2026-01-02T12:15:00.000Z']],
      // 2026-01-02 is a Friday; the weekend is skipped.
      [
        'cron(0 18 ? * MON-FRI *)',
        ['2026-01-01T18:00:00.000Z', '2026-01-02T18:00:00.000Z', '2026-01-05T18:00:00.000Z'],
      ],
      ['cron(0 8 1 * ? *)', ['2026-01-01T08:00:00.000Z', '2026-02-01T08:00:00.000Z']],
      ['cron(0/15 * * * ? *)', ['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z']],
      ['cron(0/5 8-17 ? * MON-FRI *)', ['2026-01-01T08:00:00.000Z', '2026-01-01T08:05:00.000Z']],
      // 3#2 is the second Tuesday; 2#1 the first Monday.
      ['cron(0 9 ? * 2#1 *)', ['2026-01-05T09:00:00.000Z', '2026-02-02T09:00:00.000Z']],
      ['cron(0 9 ? * 3#2 *)', ['2026-01-13T09:00:00.000Z', '2026-02-10T09:00:00.000Z']],
    ])('%s fires at %j', (expression, expected) => {
      expect(firings(expression, expected.length)).toEqual(expected);
    });
  });

  describe('AWS’s wildcards', () => {
    it('numbers the days of the week 1–7 from Sunday', () => {
      expect(firings('cron(0 9 ? * 1 *)', 1)).toEqual(['2026-01-04T09:00:00.000Z']); // a Sunday
      expect(firings('cron(0 9 ? * 7 *)', 1)).toEqual(['2026-01-03T09:00:00.000Z']); // a Saturday
    });

    it('reads L as the last day of the month, and alone in Day-of-week as Saturday', () => {
      expect(firings('cron(0 9 L * ? *)', 2)).toEqual([
        '2026-01-31T09:00:00.000Z',
        '2026-02-28T09:00:00.000Z',
      ]);
      expect(firings('cron(0 9 ? * L *)', 1)).toEqual(['2026-01-03T09:00:00.000Z']);
      expect(firings('cron(0 9 ? * 6L *)', 1)).toEqual(['2026-01-30T09:00:00.000Z']); // the last Friday
    });

    it('reads 3W as the weekday nearest the 3rd', () => {
      // 2026-01-03 is a Saturday, so the Friday before.
      expect(firings('cron(0 9 3W * ? *)', 1)).toEqual(['2026-01-02T09:00:00.000Z']);
    });

    it('limits runs to the years of the Year field and stops after the last one', () => {
      expect(firings('cron(0 0 1 1 ? 2027-2028)', 3)).toEqual([
        '2027-01-01T00:00:00.000Z',
        '2028-01-01T00:00:00.000Z',
      ]);
    });

    it('fires strictly after the time it is asked from', () => {
      expect(firings('cron(0 0 * * ? *)', 1)).toEqual(['2026-01-02T00:00:00.000Z']);
    });
  });

  describe('refusals (what EventBridge refuses)', () => {
    it.each([
      ['cron(0 10 * * ?)', 'has 5 fields; EventBridge needs 6'],
      ['cron(0 0 10 * * ? *)', 'has 7 fields'],
      ['rate(5 minutes)', 'is not a cron expression'],
      ['cron(0 10 * * * *)', 'Day-of-month and Day-of-week cannot both be given'],
      ['cron(0 10 1 * MON *)', 'Day-of-month and Day-of-week cannot both be given'],
      ['cron(? 10 * * ? *)', 'Minutes "?" uses a character AWS does not allow there'],
      ['cron(0 10 ? * 0 *)', 'Day-of-week 0 is outside 1–7'],
      ['cron(60 10 * * ? *)', 'Minutes 60 is outside 0–59'],
      ['cron(0 10 * * ? 2200)', 'Year 2200 is outside 1970–2199'],
      ['cron(0 10 ? * 2#1,4#2 *)', 'with #, Day-of-week takes only one expression'],
    ])('refuses %s', (expression, reason) => {
      expect(refusal(expression)).toContain(reason);
    });

    it('names the expression in the message', () => {
      expect(refusal('cron(0 10 * * * *)')).toMatch(/^"cron\(0 10 \* \* \* \*\)": /);
    });
  });
});
