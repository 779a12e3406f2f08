/**
 * Differential test: the sandbox's event-pattern matcher against moto's EventBridge.
 *
 * moto 5.2.1 accepts TestEventPattern but does not implement it (HTTP 200, empty body), so each
 * row goes through moto's real delivery path instead: PutRule with the pattern, a CloudWatch Logs
 * group as the rule's target, PutEvents, then FilterLogEvents tells whether the rule matched.
 * @aws-sdk/client-eventbridge is not a dependency, so the calls are plain JSON-protocol requests.
 *
 * Every row states what AWS does (from the EventBridge user guide); rows where moto disagrees
 * carry `motoDiffers` with the reason, and assert moto's (wrong) answer so a moto fix shows up.
 * Patterns avoid `time`: moto matches against a Unix number there, AWS against an ISO string.
 */
import { matchesPattern } from '../../sandbox/core/event-pattern';
import { motoEndpoint, resetMoto } from './moto';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

async function motoCall(service: 'events' | 'logs', target: string, body: object): Promise<Response> {
  return fetch(`${motoEndpoint()}/`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': target,
      // moto reads the region from the credential scope; it does not check the signature.
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
}

async function motoOk(service: 'events' | 'logs', target: string, body: object): Promise<unknown> {
  const response = await motoCall(service, target, body);
  const text = await response.text();
  if (!response.ok) throw new Error(`${target} failed: HTTP ${response.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : {};
}

interface Entry {
  source?: string;
  detailType?: string;
  /** Raw JSON text, so rows can use number spellings such as 3.0e2. */
  detail: string;
  resources?: string[];
}

/** Does moto's EventBridge deliver `entry` to a rule with `pattern`? */
async function motoMatches(pattern: object, entry: Entry): Promise<boolean> {
  const group = '/kiln/conformance';
  await motoOk('logs', 'Logs_20140328.CreateLogGroup', { logGroupName: group });
  await motoOk('events', 'AWSEvents.PutRule', { Name: 'row', EventPattern: JSON.stringify(pattern) });
  await motoOk('events', 'AWSEvents.PutTargets', {
    Rule: 'row',
    Targets: [{ Id: 'logs', Arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}` }],
  });
  const put = (await motoOk('events', 'AWSEvents.PutEvents', {
    Entries: [
      {
        Source: entry.source ?? 'kiln.test',
        DetailType: entry.detailType ?? 'Conformance Row',
        Detail: entry.detail,
        Resources: entry.resources ?? [],
      },
    ],
  })) as { FailedEntryCount: number };
  if (put.FailedEntryCount !== 0) throw new Error('moto rejected the test event');
  const logged = (await motoOk('logs', 'Logs_20140328.FilterLogEvents', { logGroupName: group })) as {
    events: unknown[];
  };
  return logged.events.length > 0;
}

/** The envelope EventBridge matches against (same fields moto builds, with an ISO time). */
function envelope(entry: Entry): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': entry.detailType ?? 'Conformance Row',
    source: entry.source ?? 'kiln.test',
    account: ACCOUNT,
    time: '2026-01-01T00:00:00Z',
    region: REGION,
    resources: entry.resources ?? [],
    detail: JSON.parse(entry.detail) as unknown,
  };
}

interface Row {
  name: string;
  pattern: object;
  event: Entry;
  /** What AWS does, per the EventBridge user guide. */
  expected: boolean;
  /** Why moto answers the opposite (only where moto is wrong against AWS's docs). */
  motoDiffers?: string;
}

const D = (detail: object): Entry => ({ detail: JSON.stringify(detail) });

// Doc pages: eb-event-patterns.html, eb-create-pattern-operators.html,
// eb-event-patterns-content-based-filtering.html, eb-event-patterns-arrays.html,
// eb-event-patterns-null-values.html (all under docs.aws.amazon.com/eventbridge/latest/userguide/).
const rows: Row[] = [
  // exact values; an array in the pattern is an OR
  {
    name: 'exact string in an OR list',
    pattern: { source: ['aws.ec2', 'kiln.ci'] },
    event: { source: 'kiln.ci', detail: '{}' },
    expected: true,
  },
  {
    name: 'exact string not in the list',
    pattern: { source: ['aws.ec2'] },
    event: { source: 'kiln.ci', detail: '{}' },
    expected: false,
  },
  {
    name: 'number compares numerically (300 vs 3.0e2)',
    pattern: { detail: { n: [300] } },
    event: { detail: '{"n": 3.0e2}' },
    expected: true,
  },
  {
    name: 'string "300" does not match number 300',
    pattern: { detail: { n: ['300'] } },
    event: D({ n: 300 }),
    expected: false,
  },
  { name: 'boolean true', pattern: { detail: { ok: [true] } }, event: D({ ok: true }), expected: true },
  {
    name: 'boolean true does not match string "true"',
    pattern: { detail: { ok: [true] } },
    event: D({ ok: 'true' }),
    expected: false,
  },
  { name: 'null matches null', pattern: { detail: { r: [null] } }, event: D({ r: null }), expected: true },
  {
    name: 'null does not match an empty string',
    pattern: { detail: { r: [null] } },
    event: D({ r: '' }),
    expected: false,
  },
  {
    name: 'empty string matches an empty string',
    pattern: { detail: { v: [''] } },
    event: D({ v: '' }),
    expected: true,
  },
  {
    name: 'nested object field',
    pattern: { detail: { bucket: { name: ['b1'] } } },
    event: D({ bucket: { name: 'b1' } }),
    expected: true,
  },
  {
    name: 'missing field never matches a value',
    pattern: { detail: { absent: ['x'] } },
    event: D({ other: 'x' }),
    expected: false,
  },
  {
    name: 'all fields must match (AND)',
    pattern: { source: ['kiln.ci'], detail: { a: ['1'] } },
    event: { source: 'kiln.ci', detail: '{"a": "2"}' },
    expected: false,
  },
  {
    name: 'event array matches when it intersects',
    pattern: { resources: ['arn:x', 'arn:z'] },
    event: { resources: ['arn:y', 'arn:x'], detail: '{}' },
    expected: true,
  },
  {
    name: 'event array without intersection',
    pattern: { resources: ['arn:z'] },
    event: { resources: ['arn:y', 'arn:x'], detail: '{}' },
    expected: false,
  },
  {
    name: 'objects inside event arrays are matched through',
    pattern: { detail: { items: { sku: ['A'] } } },
    event: D({ items: [{ sku: 'B' }, { sku: 'A' }] }),
    expected: true,
    motoDiffers:
      'moto does not descend into arrays of objects (eb-event-patterns-arrays.html; event-ruler "JSON Array Matching")',
  },
  // prefix / suffix
  {
    name: 'prefix',
    pattern: { 'detail-type': [{ prefix: 'EC2 Auto Scaling Instance Refresh' }] },
    event: { detailType: 'EC2 Auto Scaling Instance Refresh Started', detail: '{}' },
    expected: true,
  },
  {
    name: 'prefix that does not match',
    pattern: { detail: { r: [{ prefix: 'us-' }] } },
    event: D({ r: 'eu-west-1' }),
    expected: false,
  },
  {
    name: 'prefix never matches a number',
    pattern: { detail: { n: [{ prefix: '1' }] } },
    event: D({ n: 12 }),
    expected: false,
  },
  {
    name: 'prefix with equals-ignore-case',
    pattern: { detail: { s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: D({ s: 'eventbridge' }),
    expected: true,
  },
  {
    name: 'suffix',
    pattern: { detail: { f: [{ suffix: '.png' }] } },
    event: D({ f: 'a/b.png' }),
    expected: true,
  },
  {
    name: 'suffix with equals-ignore-case',
    pattern: { detail: { f: [{ suffix: { 'equals-ignore-case': '.PNG' } }] } },
    event: D({ f: 'a.png' }),
    expected: true,
  },
  {
    name: 'list mixing exact and prefix is an OR',
    pattern: { detail: { r: ['eu-west-1', { prefix: 'us-' }] } },
    event: D({ r: 'us-east-2' }),
    expected: true,
  },
  // anything-but
  {
    name: 'anything-but string, other value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: D({ state: 'running' }),
    expected: true,
  },
  {
    name: 'anything-but string, same value',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: D({ state: 'initializing' }),
    expected: false,
  },
  {
    name: 'anything-but string list',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: D({ state: 'stopped' }),
    expected: false,
  },
  {
    name: 'anything-but number list',
    pattern: { detail: { x: [{ 'anything-but': [100, 200, 300] }] } },
    event: D({ x: 150 }),
    expected: true,
  },
  {
    name: 'anything-but prefix',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: D({ state: 'initializing' }),
    expected: false,
  },
  {
    name: 'anything-but suffix',
    pattern: { detail: { f: [{ 'anything-but': { suffix: '.png' } }] } },
    event: D({ f: 'a.jpg' }),
    expected: true,
  },
  {
    name: 'anything-but equals-ignore-case',
    pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    event: D({ state: 'INITIALIZING' }),
    expected: false,
  },
  {
    name: 'anything-but wildcard excludes',
    pattern: { detail: { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    event: D({ p: '/usr/lib/x' }),
    expected: false,
  },
  {
    name: 'anything-but wildcard lets others through',
    pattern: { detail: { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] } },
    event: D({ p: '/usr/bin/x' }),
    expected: true,
  },
  {
    name: 'anything-but on a missing field',
    pattern: { detail: { state: [{ 'anything-but': 'x' }] } },
    event: D({ other: 1 }),
    expected: false,
  },
  {
    name: 'anything-but on an array with one other element',
    pattern: { detail: { s: [{ 'anything-but': 'stopped' }] } },
    event: D({ s: ['stopped', 'running'] }),
    expected: true,
  },
  // numeric
  {
    name: 'numeric range includes its closed bound',
    pattern: { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } },
    event: D({ c: 5 }),
    expected: true,
  },
  {
    name: 'numeric range excludes its open bound',
    pattern: { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } },
    event: D({ c: 0 }),
    expected: false,
  },
  {
    name: 'numeric equals with exponent',
    pattern: { detail: { x: [{ numeric: ['=', 3.018e2] }] } },
    event: D({ x: 301.8 }),
    expected: true,
  },
  {
    name: 'numeric never matches a numeric string',
    pattern: { detail: { c: [{ numeric: ['<', 10] }] } },
    event: D({ c: '5' }),
    expected: false,
  },
  // exists
  {
    name: 'exists true, field present',
    pattern: { detail: { state: [{ exists: true }] } },
    event: D({ state: 'pending' }),
    expected: true,
  },
  {
    name: 'exists true, field missing',
    pattern: { detail: { state: [{ exists: true }] } },
    event: D({ other: 1 }),
    expected: false,
  },
  {
    name: 'exists false, field missing',
    pattern: { detail: { c: [{ exists: false }] } },
    event: D({ state: 'x' }),
    expected: true,
  },
  {
    name: 'exists false, field present',
    pattern: { detail: { c: [{ exists: false }] } },
    event: D({ c: 1 }),
    expected: false,
  },
  {
    name: 'exists false on an intermediate node (not a leaf)',
    pattern: { detail: { c: [{ exists: false }] } },
    event: D({ c: { c1: 100 } }),
    expected: true,
  },
  {
    name: 'exists true on an intermediate node',
    pattern: { detail: { c: [{ exists: true }] } },
    event: D({ c: { c1: 100 } }),
    expected: false,
  },
  // equals-ignore-case, wildcard, cidr
  {
    name: 'equals-ignore-case',
    pattern: { detail: { name: [{ 'equals-ignore-case': 'alice' }] } },
    event: D({ name: 'ALICE' }),
    expected: true,
  },
  {
    name: 'wildcard',
    pattern: { detail: { s: [{ wildcard: 'Simple*Service' }] } },
    event: D({ s: 'SimpleNotificationService' }),
    expected: true,
  },
  {
    name: 'wildcard with an escaped star matches a star',
    pattern: { detail: { s: [{ wildcard: 'a\\*b' }] } },
    event: D({ s: 'a*b' }),
    expected: true,
  },
  {
    name: 'wildcard with an escaped star is literal',
    pattern: { detail: { s: [{ wildcard: 'a\\*b' }] } },
    event: D({ s: 'axb' }),
    expected: false,
  },
  {
    name: 'cidr IPv4 inside',
    pattern: { detail: { ip: [{ cidr: '10.0.0.0/24' }] } },
    event: D({ ip: '10.0.0.255' }),
    expected: true,
  },
  {
    name: 'cidr IPv4 outside',
    pattern: { detail: { ip: [{ cidr: '10.0.0.0/24' }] } },
    event: D({ ip: '10.0.1.1' }),
    expected: false,
  },
  {
    name: 'cidr IPv6',
    pattern: { detail: { ip: [{ cidr: '2001:db8::/32' }] } },
    event: D({ ip: '2001:db8::1' }),
    expected: true,
  },
  // $or
  {
    name: '$or, second alternative matches',
    pattern: { source: ['kiln.test'], $or: [{ detail: { a: ['1'] } }, { detail: { b: ['2'] } }] },
    event: D({ b: '2' }),
    expected: true,
  },
  {
    name: '$or, no alternative matches',
    pattern: { $or: [{ detail: { a: ['1'] } }, { detail: { b: ['2'] } }] },
    event: D({ a: '2', b: '1' }),
    expected: false,
  },
];

const invalidPatterns: Array<{ name: string; pattern: object }> = [
  { name: 'an empty match list', pattern: { source: [] } },
  { name: 'a bare scalar instead of a list', pattern: { source: 'aws.ec2' } },
];

describe('event-pattern matcher conformance with moto', () => {
  beforeEach(async () => {
    await resetMoto();
  });

  describe('matching', () => {
    it.each(rows)('$name', async (row) => {
      const ours = matchesPattern(row.pattern, envelope(row.event));
      const moto = await motoMatches(row.pattern, row.event);
      expect(ours).toBe(row.expected);
      expect(moto).toBe(row.motoDiffers ? !row.expected : row.expected);
    });
  });

  describe('validation', () => {
    it.each(invalidPatterns)('rejects $name like moto does', async ({ pattern }) => {
      expect(() => matchesPattern(pattern, envelope(D({})))).toThrow('Event pattern is not valid');
      const response = await motoCall('events', 'AWSEvents.PutRule', {
        Name: 'bad',
        EventPattern: JSON.stringify(pattern),
      });
      expect(response.status).toBe(400);
      expect(await response.text()).toContain('InvalidEventPatternException');
    });
  });
});
