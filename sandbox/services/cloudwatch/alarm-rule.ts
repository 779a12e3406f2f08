/**
 * The composite alarm rule language: ALARM(name), OK(name), INSUFFICIENT_DATA(name), TRUE, FALSE,
 * combined with AND, OR, NOT and parentheses. Names may be bare or double-quoted, and may be ARNs.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html
 *
 * Precedence is NOT over AND over OR (the usual boolean order; AWS's examples parenthesise
 * wherever the order would matter, and this reading agrees with all of them).
 */
import type { StateValue } from '@aws-sdk/client-cloudwatch';

export type AlarmRule =
  | { kind: 'state'; state: StateValue; alarm: string }
  | { kind: 'const'; value: boolean }
  | { kind: 'not'; operand: AlarmRule }
  | { kind: 'and' | 'or'; left: AlarmRule; right: AlarmRule };

export class AlarmRuleSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AlarmRuleSyntaxError';
  }
}

type Token =
  | { type: 'word'; value: string; at: number }
  | { type: 'quoted'; value: string; at: number }
  | { type: '(' | ')'; at: number };

const STATE_FUNCTIONS: ReadonlySet<string> = new Set(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ type: ch, at: i });
      i++;
    } else if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new AlarmRuleSyntaxError(`unterminated quote at position ${i}`);
      tokens.push({ type: 'quoted', value: text.slice(i + 1, end), at: i });
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !/[\s()"]/.test(text[i] as string)) i++;
      tokens.push({ type: 'word', value: text.slice(start, i), at: start });
    }
  }
  return tokens;
}

/** Parses an AlarmRule; throws AlarmRuleSyntaxError naming the position of the problem. */
export function parseAlarmRule(text: string): AlarmRule {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (token: Token | undefined, word: string): boolean =>
    token?.type === 'word' && token.value.toUpperCase() === word;
  const describe = (token: Token | undefined): string =>
    token === undefined
      ? 'end of rule'
      : `'${'value' in token ? token.value : token.type}' at position ${token.at}`;

  const parseOr = (): AlarmRule => {
    let left = parseAnd();
    while (isWord(peek(), 'OR')) {
      pos++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): AlarmRule => {
    let left = parseNot();
    while (isWord(peek(), 'AND')) {
      pos++;
      left = { kind: 'and', left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): AlarmRule => {
    if (isWord(peek(), 'NOT')) {
      pos++;
      return { kind: 'not', operand: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): AlarmRule => {
    const token = peek();
    if (token?.type === '(') {
      pos++;
      const inner = parseOr();
      if (peek()?.type !== ')') throw new AlarmRuleSyntaxError(`expected ')' but found ${describe(peek())}`);
      pos++;
      return inner;
    }
    if (token?.type === 'word') {
      const word = token.value.toUpperCase();
      if (word === 'TRUE' || word === 'FALSE') {
        pos++;
        return { kind: 'const', value: word === 'TRUE' };
      }
      if (STATE_FUNCTIONS.has(word)) {
        pos++;
        if (peek()?.type !== '(')
          throw new AlarmRuleSyntaxError(`expected '(' after ${word} at position ${token.at}`);
        pos++;
        const name = peek();
        if (name === undefined || (name.type !== 'word' && name.type !== 'quoted') || name.value === '') {
          throw new AlarmRuleSyntaxError(`expected an alarm name in ${word}(…) but found ${describe(name)}`);
        }
        pos++;
        if (peek()?.type !== ')')
          throw new AlarmRuleSyntaxError(`expected ')' but found ${describe(peek())}`);
        pos++;
        return { kind: 'state', state: word as StateValue, alarm: name.value };
      }
    }
    throw new AlarmRuleSyntaxError(`unexpected ${describe(token)}`);
  };

  if (tokens.length === 0) throw new AlarmRuleSyntaxError('the rule is empty');
  const rule = parseOr();
  if (pos < tokens.length) throw new AlarmRuleSyntaxError(`unexpected ${describe(peek())}`);
  return rule;
}

/** Every alarm name or ARN the rule refers to. */
export function referencedAlarms(rule: AlarmRule): string[] {
  switch (rule.kind) {
    case 'state':
      return [rule.alarm];
    case 'const':
      return [];
    case 'not':
      return referencedAlarms(rule.operand);
    default:
      return [...referencedAlarms(rule.left), ...referencedAlarms(rule.right)];
  }
}

/** Evaluates the rule against the current states; `stateOf` resolves a name or ARN. */
export function evaluateAlarmRule(
  rule: AlarmRule,
  stateOf: (alarm: string) => StateValue | undefined,
): boolean {
  switch (rule.kind) {
    case 'state':
      return stateOf(rule.alarm) === rule.state;
    case 'const':
      return rule.value;
    case 'not':
      return !evaluateAlarmRule(rule.operand, stateOf);
    case 'and':
      return evaluateAlarmRule(rule.left, stateOf) && evaluateAlarmRule(rule.right, stateOf);
    case 'or':
      return evaluateAlarmRule(rule.left, stateOf) || evaluateAlarmRule(rule.right, stateOf);
  }
}
