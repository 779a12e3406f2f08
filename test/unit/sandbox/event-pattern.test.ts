import fc from 'fast-check';
import {
  compilePattern,
  EventPatternError,
  matchesPattern,
  validatePattern,
} from '../../../sandbox/core/event-pattern';

function event(detail: Record<string, unknown>, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '11111111-2222-4333-a444-555555555555',
    'detail-type': 'Thing Happened',
    source: 'kiln.test',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
    ...top,
  };
}

function fieldOf(pattern: unknown): string {
  try {
    validatePattern(pattern);
  } catch (error) {
    if (error instanceof EventPatternError) return error.field;
    throw error;
  }
  throw new Error('pattern was accepted');
}

describe('event-pattern', () => {
  describe('validatePattern', () => {
    it('accepts every documented operator', () => {
      expect(() =>
        validatePattern({
          source: ['aws.ec2', { prefix: 'aws.' }, { suffix: { 'equals-ignore-case': '.EC2' } }],
          detail: {
            a: [{ 'anything-but': ['x', 'y'] }, { 'anything-but': { wildcard: ['*/lib/*'] } }],
            n: [{ numeric: ['>=', 0, '<', 10] }, { numeric: ['=', 5] }],
            ip: [{ cidr: '10.0.0.0/8' }, { cidr: 'fe80::/10' }],
            e: [{ exists: false }],
            w: [{ wildcard: 'a*b\\*c\\\\' }],
            $or: [{ x: [1] }, { y: [null, true, ''] }],
          },
        }),
      ).not.toThrow();
    });

    it.each([
      ['the pattern is not an object', ['aws.ec2'], ''],
      ['a match list is empty', { source: [] }, 'source'],
      ['a value is a bare scalar', { detail: { state: 'running' } }, 'detail.state'],
      ['an object is empty', { detail: {} }, 'detail'],
      ['an operator is unknown', { detail: { s: [{ contains: 'x' }] } }, 'detail.s[0].contains'],
      ['an operator object has two keys', { s: [{ prefix: 'a', suffix: 'b' }] }, 's[0]'],
      ['exists is not a boolean', { s: [{ exists: 'yes' }] }, 's[0].exists'],
      ['prefix is not a string', { s: [{ prefix: 1 }] }, 's[0].prefix'],
      ['numeric has an unknown operator', { n: [{ numeric: ['!=', 1] }] }, 'n[0].numeric[0]'],
      ['numeric has an odd length', { n: [{ numeric: ['>', 1, '<'] }] }, 'n[0].numeric'],
      ['numeric bounds are reversed', { n: [{ numeric: ['>', 10, '<', 5] }] }, 'n[0].numeric'],
      ['numeric upper comes first', { n: [{ numeric: ['<', 10, '>', 5] }] }, 'n[0].numeric'],
      ['numeric is beyond ±5e9', { n: [{ numeric: ['>', 6e9] }] }, 'n[0].numeric[1]'],
      ['anything-but mixes strings and numbers', { s: [{ 'anything-but': ['a', 1] }] }, 's[0].anything-but'],
      [
        'anything-but has a prefix list',
        { s: [{ 'anything-but': { prefix: ['a', 'b'] } }] },
        's[0].anything-but.prefix',
      ],
      [
        'anything-but nests numeric',
        { s: [{ 'anything-but': { numeric: ['>', 1] } }] },
        's[0].anything-but.numeric',
      ],
      ['wildcard has two stars in a row', { s: [{ wildcard: 'a**b' }] }, 's[0].wildcard'],
      ['wildcard escapes an ordinary character', { s: [{ wildcard: 'a\\b' }] }, 's[0].wildcard'],
      ['cidr is not an address', { ip: [{ cidr: '10.0.0/8' }] }, 'ip[0].cidr'],
      ['cidr prefix is too long', { ip: [{ cidr: '10.0.0.0/33' }] }, 'ip[0].cidr'],
      ['$or has one alternative', { $or: [{ a: ['1'] }] }, '$or'],
      [
        '$or mixes objects and values (an ordinary field then)',
        { detail: { $or: [{ a: ['1'] }, 'b'] } },
        'detail.$or[0].a',
      ],
    ])('rejects the pattern when %s, naming the field', (_label, pattern, field) => {
      expect(fieldOf(pattern)).toBe(field);
    });

    it('rejects with a message that names the field', () => {
      expect(() => validatePattern({ detail: { state: 'running' } })).toThrow(
        'Event pattern is not valid: detail.state: must be an object or an array',
      );
    });
  });

  describe('matchesPattern', () => {
    describe('exact values', () => {
      it('matches any listed value (OR) and requires every field (AND)', () => {
        const pattern = { source: ['aws.ec2', 'kiln.test'], detail: { state: ['running'] } };
        expect(matchesPattern(pattern, event({ state: 'running' }))).toBe(true);
        expect(matchesPattern(pattern, event({ state: 'stopped' }))).toBe(false);
      });

      it('keeps null, empty string, booleans and numbers apart', () => {
        expect(matchesPattern({ detail: { v: [null] } }, event({ v: '' }))).toBe(false);
        expect(matchesPattern({ detail: { v: [''] } }, event({ v: null }))).toBe(false);
        expect(matchesPattern({ detail: { v: [true] } }, event({ v: 1 }))).toBe(false);
        expect(matchesPattern({ detail: { v: [1] } }, event({ v: true }))).toBe(false);
        expect(matchesPattern({ detail: { v: [0] } }, event({ v: '0' }))).toBe(false);
      });

      it('does not match a nested pattern against a scalar', () => {
        expect(matchesPattern({ detail: { state: { name: ['x'] } } }, event({ state: 'x' }))).toBe(false);
      });

      it('does not match a value against an object', () => {
        expect(matchesPattern({ detail: { state: ['x'] } }, event({ state: { name: 'x' } }))).toBe(false);
      });

      it('rejects non-object events instead of matching them', () => {
        expect(matchesPattern({ source: [{ exists: false }] }, 'not an event')).toBe(false);
      });
    });

    describe('arrays in events', () => {
      it('matches nested arrays of scalars', () => {
        expect(matchesPattern({ detail: { tags: ['b'] } }, event({ tags: [['a'], ['b']] }))).toBe(true);
      });

      it('requires fields to match inside the same array element', () => {
        const detail = {
          employees: [
            { first: 'Anna', last: 'Smith' },
            { first: 'Peter', last: 'Jones' },
          ],
        };
        expect(
          matchesPattern({ detail: { employees: { first: ['Anna'], last: ['Smith'] } } }, event(detail)),
        ).toBe(true);
        expect(
          matchesPattern({ detail: { employees: { first: ['Anna'], last: ['Jones'] } } }, event(detail)),
        ).toBe(false);
      });

      it('treats an empty array as an absent field', () => {
        expect(matchesPattern({ resources: [{ exists: false }] }, event({}))).toBe(true);
        expect(matchesPattern({ resources: [{ exists: true }] }, event({}))).toBe(false);
      });
    });

    describe('operators', () => {
      it('anything-but matches values of another type', () => {
        expect(matchesPattern({ detail: { s: [{ 'anything-but': 'x' }] } }, event({ s: 5 }))).toBe(true);
        expect(
          matchesPattern({ detail: { s: [{ 'anything-but': { prefix: 'x' } }] } }, event({ s: 5 })),
        ).toBe(true);
      });

      it('anything-but equals-ignore-case takes a list', () => {
        const pattern = { detail: { s: [{ 'anything-but': { 'equals-ignore-case': ['A', 'b'] } }] } };
        expect(matchesPattern(pattern, event({ s: 'B' }))).toBe(false);
        expect(matchesPattern(pattern, event({ s: 'c' }))).toBe(true);
      });

      it('numeric combines a lower and an upper bound', () => {
        const pattern = { detail: { n: [{ numeric: ['>=', -1.5, '<', 2] }] } };
        expect([-2, -1.5, 0, 1.999, 2].map((n) => matchesPattern(pattern, event({ n })))).toEqual([
          false,
          true,
          true,
          true,
          false,
        ]);
      });

      it('wildcard matches across separators and anchors both ends', () => {
        const pattern = { detail: { p: [{ wildcard: 'arn:*:instance/*' }] } };
        expect(matchesPattern(pattern, event({ p: 'arn:aws:ec2:us-east-1:1:instance/i-1' }))).toBe(true);
        expect(matchesPattern(pattern, event({ p: 'x-arn:aws:instance/i-1' }))).toBe(false);
        expect(matchesPattern({ detail: { p: [{ wildcard: 'a\\\\b' }] } }, event({ p: 'a\\b' }))).toBe(true);
      });

      it('cidr ignores strings that are not addresses and the other IP family', () => {
        expect(matchesPattern({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, event({ ip: 'ten' }))).toBe(
          false,
        );
        expect(matchesPattern({ detail: { ip: [{ cidr: '10.0.0.0/8' }] } }, event({ ip: '::1' }))).toBe(
          false,
        );
        expect(matchesPattern({ detail: { ip: [{ cidr: '10.1.2.3' }] } }, event({ ip: '10.1.2.3' }))).toBe(
          true,
        );
      });

      it('exists false matches below a missing parent object', () => {
        expect(matchesPattern({ detail: { deep: { leaf: [{ exists: false }] } } }, event({}))).toBe(true);
      });

      it('$or nests inside an alternative', () => {
        const pattern = {
          source: ['kiln.test'],
          $or: [{ detail: { a: ['1'] } }, { detail: { b: ['2'], $or: [{ c: ['3'] }, { d: ['4'] }] } }],
        };
        expect(matchesPattern(pattern, event({ b: '2', d: '4' }))).toBe(true);
        expect(matchesPattern(pattern, event({ b: '2', d: '5' }))).toBe(false);
      });

      it('treats "$or" without a list of objects as an ordinary field name', () => {
        expect(matchesPattern({ detail: { $or: { a: ['1'] } } }, event({ $or: { a: '1' } }))).toBe(true);
        expect(matchesPattern({ detail: { $or: ['x'] } }, event({ $or: 'x' }))).toBe(true);
      });
    });

    it('throws on an invalid pattern instead of matching nothing', () => {
      expect(() => matchesPattern({ source: 'aws.ec2' }, event({}))).toThrow(EventPatternError);
    });
  });

  describe('properties', () => {
    const scalar = fc.oneof(
      fc.string(),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.boolean(),
      fc.constant(null),
    );
    const detail = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), scalar, { minKeys: 1 });

    it('a pattern built from an event’s own values matches it', () => {
      fc.assert(
        fc.property(detail, (values) => {
          const pattern = { detail: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [v]])) };
          return compilePattern(pattern)(event(values));
        }),
      );
    });

    it('anything-but a value never matches that value and exists:true always does', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.integer()), (value) => {
          const e = event({ v: value });
          return (
            !matchesPattern({ detail: { v: [{ 'anything-but': value }] } }, e) &&
            matchesPattern({ detail: { v: [{ exists: true }] } }, e)
          );
        }),
      );
    });

    it('prefix and suffix of a string value always match it', () => {
      fc.assert(
        fc.property(fc.string(), fc.nat(), (value, cut) => {
          const at = value.length === 0 ? 0 : cut % (value.length + 1);
          const e = event({ v: value });
          return (
            matchesPattern({ detail: { v: [{ prefix: value.slice(0, at) }] } }, e) &&
            matchesPattern({ detail: { v: [{ suffix: value.slice(at) }] } }, e)
          );
        }),
      );
    });
  });
});
