/**
 * EventBridge's `cron(...)` schedule expressions, evaluated so the sandbox fires them on the virtual
 * clock (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions).
 *
 * The calendar arithmetic is croner's (a maintained, dependency-free cron library that knows
 * Quartz-style `?`, `L`, `W`, `#`, Sunday-first weekday numbers and a year field). This module
 * holds only where AWS's dialect differs from croner's defaults:
 *
 * - six required fields, `Minutes Hours Day-of-month Month Day-of-week Year`, with no seconds
 *   (croner's seven-field form is `Seconds` + AWS's six, seconds pinned to 0);
 * - per field, only the wildcards AWS lists (`?` only in the day fields, `L`/`W` only where AWS
 *   allows them), years 1970–2199, and days of the week 1–7 = SUN–SAT;
 * - "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If
 *   you specify a value or a * (asterisk) in one of the fields, you must use a ? (question mark)
 *   in the other.";
 * - "If you use a '#' character, you can define only one expression in the day-of-week field.";
 * - `L` alone in Day-of-week is "the last day of the ... week", Saturday;
 * - AWS's own examples step from a number (`cron(0/15 * * * ? *)`), which croner allows only when
 *   asked (`sloppyRanges`);
 * - every rule runs in UTC: "All scheduled events use UTC+0 time zone, and the minimum precision
 *   for a schedule is one minute." (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html)
 */
import { Cron } from 'croner';

/** A `cron(...)` expression AWS would accept; refused ones throw `CronExpressionError`. */
export class CronExpressionError extends Error {
  override readonly name = 'CronExpressionError';
}

interface FieldRule {
  name: string;
  /** The characters AWS allows in the field (digits, its wildcards, names where it takes them). */
  allowed: RegExp;
  /** The range of plain numbers in the field. */
  min: number;
  max: number;
}

// The table "Cron expressions" of eb-scheduled-rule-pattern.html: field, values, wildcards.
const FIELDS: readonly FieldRule[] = [
  { name: 'Minutes', allowed: /^[0-9,*/-]+$/, min: 0, max: 59 },
  { name: 'Hours', allowed: /^[0-9,*/-]+$/, min: 0, max: 23 },
  { name: 'Day-of-month', allowed: /^[0-9,*/?LW-]+$/, min: 1, max: 31 },
  { name: 'Month', allowed: /^[0-9A-Za-z,*/-]+$/, min: 1, max: 12 },
  { name: 'Day-of-week', allowed: /^[0-9A-Za-z,*?L#-]+$/, min: 1, max: 7 },
  { name: 'Year', allowed: /^[0-9,*/-]+$/, min: 1970, max: 2199 },
];

export class AwsCron {
  private readonly cron: Cron;

  private constructor(
    /** The whole expression as written, `cron(...)` included. */
    readonly expression: string,
    pattern: string,
  ) {
    try {
      this.cron = new Cron(pattern, {
        mode: '7-part',
        alternativeWeekdays: true,
        sloppyRanges: true,
        timezone: 'UTC',
      });
    } catch (error) {
      throw new CronExpressionError(`"${expression}": ${(error as Error).message}`, { cause: error });
    }
  }

  /** Parses `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, refusing what AWS refuses. */
  static parse(expression: string): AwsCron {
    const inner = /^cron\((.*)\)$/.exec(expression.trim())?.[1];
    if (inner === undefined) {
      throw new CronExpressionError(`"${expression}" is not a cron expression such as cron(0 10 * * ? *)`);
    }
    const fields = inner.trim().split(/\s+/);
    if (fields.length !== FIELDS.length) {
      throw new CronExpressionError(
        `"${expression}" has ${fields.length} fields; EventBridge needs 6: Minutes Hours Day-of-month Month Day-of-week Year`,
      );
    }
    fields.forEach((field, i) => checkField(expression, field, FIELDS[i] as FieldRule));
    const [, , dayOfMonth, , dayOfWeek] = fields as [string, string, string, string, string, string];
    if (dayOfMonth !== '?' && dayOfWeek !== '?') {
      throw new CronExpressionError(
        `"${expression}": Day-of-month and Day-of-week cannot both be given; use ? in one of them`,
      );
    }
    if (dayOfWeek.includes('#') && dayOfWeek.includes(',')) {
      throw new CronExpressionError(`"${expression}": with #, Day-of-week takes only one expression`);
    }
    // Quartz's and AWS's lone L in Day-of-week is the week's last day; croner wants its number.
    const croned = fields.map((field, i) => (i === 4 && field === 'L' ? '7' : field));
    return new AwsCron(expression, `0 ${croned.join(' ')}`);
  }

  /** The first time the rule fires strictly after `afterMs` (epoch ms, UTC), or undefined if never again. */
  nextAfter(afterMs: number): number | undefined {
    return this.cron.nextRun(new Date(afterMs))?.getTime();
  }
}

function checkField(expression: string, field: string, rule: FieldRule): void {
  if (!rule.allowed.test(field)) {
    throw new CronExpressionError(
      `"${expression}": ${rule.name} "${field}" uses a character AWS does not allow there`,
    );
  }
  // Numbers before a `/` (start) and in ranges and lists must lie in the field's range; the step
  // itself (after `/`) and the ordinal after `#` are checked by the evaluator.
  for (const part of field.split(',')) {
    const [range = ''] = part.split(/[/#]/);
    for (const value of range.split('-')) {
      const digits = /^(\d+)[LW]?$/.exec(value)?.[1];
      if (digits === undefined) continue;
      const n = Number(digits);
      if (n < rule.min || n > rule.max) {
        throw new CronExpressionError(
          `"${expression}": ${rule.name} ${n} is outside ${rule.min}–${rule.max}`,
        );
      }
    }
  }
}
