import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpRoute } from '../../../sandbox/core/routes';
import {
  loadRoutes,
  matchHttpRoute,
  parseRateExpression,
  parseServerlessYaml,
  RoutesError,
} from '../../../sandbox/core/routes';

const FIXTURE = join(__dirname, '../../fixtures/serverless/serverless.yml');
const PROJECT_YML = join(__dirname, '../../../serverless.yml');

function fieldOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof RoutesError) return error.field;
    throw error;
  }
  throw new Error('no RoutesError was thrown');
}

const minimal = (functions: string, top = ''): string =>
  `service: kiln\n${top}provider:\n  name: aws\n  stage: \${opt:stage, 'dev'}\nfunctions:\n${functions}`;

describe('routes', () => {
  describe('loadRoutes on the fixture serverless.yml', () => {
    it('reads service, stage and region with their defaults', () => {
      const routes = loadRoutes(FIXTURE);
      expect([routes.service, routes.stage, routes.region]).toEqual(['kiln', 'dev', 'us-east-1']);
    });

    it('maps every handler to a module path and an export name', () => {
      const { functions } = loadRoutes(FIXTURE);
      expect(functions.map((f) => [f.functionName, f.handler.modulePath, f.handler.exportName])).toEqual([
        ['onArtifact', 'functions/on-artifact', 'handler'],
        ['onLifecycle', 'functions/on-lifecycle', 'handler'],
        ['onProgress', 'functions/on-progress', 'handler'],
        ['onAlarm', 'functions/on-alarm', 'handler'],
        ['chatops', 'functions/chatops', 'handler'],
        ['reconcile', 'functions/reconcile', 'handler'],
      ]);
    });

    it('uses the name: override or the framework default <service>-<stage>-<key>', () => {
      const { functions } = loadRoutes(FIXTURE, { stage: 'prod' });
      expect(functions.find((f) => f.functionName === 'onArtifact')?.deployedName).toBe(
        'kiln-prod-on-artifact',
      );
      expect(functions.find((f) => f.functionName === 'onAlarm')?.deployedName).toBe('kiln-prod-onAlarm');
    });

    it('resolves a custom variable inside a pattern', () => {
      const [s3] = loadRoutes(FIXTURE).eventBridge;
      expect(s3?.pattern).toEqual({
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [{ prefix: 'amzn-s3-demo-' }] } },
      });
    });

    it('keeps rule names, resolving ${self:service} and ${sls:stage}', () => {
      const routes = loadRoutes(FIXTURE, { stage: 'qa' });
      expect(routes.eventBridge.filter((r) => r.ruleName).map((r) => r.ruleName)).toEqual([
        'kiln-qa-artifact-published',
      ]);
    });

    it('lists every eventBridge entry with the default bus, enabled', () => {
      const routes = loadRoutes(FIXTURE);
      expect(routes.eventBridge.map((r) => r.functionName)).toEqual([
        'onArtifact',
        'onArtifact',
        'onArtifact',
        'onArtifact',
        'onLifecycle',
        'onProgress',
        'onProgress',
        'onProgress',
        'onAlarm',
      ]);
      expect(routes.eventBridge.every((r) => r.eventBus === 'default' && r.enabled)).toBe(true);
    });

    it('reads schedules and HTTP API routes', () => {
      const routes = loadRoutes(FIXTURE);
      expect(routes.schedules).toEqual([
        {
          functionName: 'reconcile',
          expression: 'rate(1 minute)',
          rateMs: 60_000,
          cron: null,
          enabled: true,
        },
      ]);
      expect(routes.http).toEqual([{ functionName: 'chatops', method: 'POST', path: '/slack' }]);
    });
  });

  describe('the project serverless.yml', () => {
    it('parses without error and routes to existing handler modules', () => {
      expect(existsSync(PROJECT_YML)).toBe(true);
      const routes = loadRoutes(PROJECT_YML);
      expect(routes.service).toBe('kiln');
      expect(routes.eventBridge.length).toBeGreaterThan(0);
      for (const f of routes.functions) {
        const module = join(PROJECT_YML, '..', f.handler.modulePath);
        expect([`${module}.ts`, `${module}.js`].some((file) => existsSync(file))).toBe(true);
      }
    });

    it('names the deploy state machine per stage (custom.deployStateMachineName), whose ARN on-artifact starts', () => {
      expect(loadRoutes(PROJECT_YML, { stage: 'prod' }).deployStateMachineName).toBe('kiln-prod-deploy');
    });
  });

  describe('variables', () => {
    it('takes --stage and --region over the provider defaults', () => {
      const routes = parseServerlessYaml(minimal('  f:\n    handler: a.h\n', ''), {
        stage: 'prod',
        region: 'eu-west-1',
      });
      expect([routes.stage, routes.region]).toEqual(['prod', 'eu-west-1']);
    });

    it('falls back through defaults, including nested variables and env', () => {
      const yml = minimal(
        "  f:\n    name: ${opt:fn, ${env:KILN_FN, 'fallback'}}-${aws:region}\n    handler: a.h\n",
      );
      expect(parseServerlessYaml(yml, { env: {} }).functions[0]?.deployedName).toBe('fallback-us-east-1');
      expect(parseServerlessYaml(yml, { env: { KILN_FN: 'from-env' } }).functions[0]?.deployedName).toBe(
        'from-env-us-east-1',
      );
      expect(parseServerlessYaml(yml, { options: { fn: 'from-opt' } }).functions[0]?.deployedName).toBe(
        'from-opt-us-east-1',
      );
    });

    it('keeps the type of a value that is exactly one variable', () => {
      const yml = minimal(
        '  f:\n    handler: a.h\n    events:\n      - eventBridge:\n          pattern:\n            source: ${self:custom.sources}\n',
        'custom:\n  sources: [aws.ec2, aws.ssm]\n',
      );
      expect(parseServerlessYaml(yml).eventBridge[0]?.pattern).toEqual({ source: ['aws.ec2', 'aws.ssm'] });
    });

    it('rejects a variable with no value, naming the field', () => {
      const yml = minimal('  f:\n    handler: ${self:custom.missing}.h\n');
      expect(fieldOf(() => parseServerlessYaml(yml))).toBe('functions.f.handler');
    });

    it('rejects variable sources the sandbox cannot resolve, naming the field', () => {
      const yml = minimal('  f:\n    handler: a.h\n    name: ${ssm:/kiln/name}\n');
      expect(fieldOf(() => parseServerlessYaml(yml))).toBe('functions.f.name');
    });

    it('rejects self-referencing variables instead of looping', () => {
      const yml = minimal(
        '  f:\n    handler: a.h\n    name: ${self:custom.a}\n',
        'custom:\n  a: ${self:custom.a}\n',
      );
      expect(() => parseServerlessYaml(yml)).toThrow('nest too deep');
    });
  });

  describe('events', () => {
    it('rejects an invalid pattern, naming the pattern field', () => {
      const yml = minimal(
        '  f:\n    handler: a.h\n    events:\n      - eventBridge:\n          pattern:\n            source: aws.ec2\n',
      );
      expect(() => parseServerlessYaml(yml)).toThrow(
        'serverless.yml functions.f.events[0].eventBridge.pattern: Event pattern is not valid: source',
      );
    });

    it('rejects a handler without an export name', () => {
      const yml = minimal('  f:\n    handler: functions/on-artifact\n');
      expect(fieldOf(() => parseServerlessYaml(yml))).toBe('functions.f.handler');
    });

    it('reads schedule objects, eventBridge schedules, cron and disabled rules', () => {
      const yml = minimal(
        [
          '  f:',
          '    handler: a.h',
          '    events:',
          '      - schedule:',
          '          rate: [rate(5 minutes), cron(0 12 * * ? *)]',
          '          enabled: false',
          '      - eventBridge:',
          '          schedule: rate(2 hours)',
          '      - eventBridge:',
          '          enabled: false',
          '          eventBus: kiln-ci',
          '          pattern: { source: [kiln.ci] }',
          '',
        ].join('\n'),
      );
      const routes = parseServerlessYaml(yml);
      expect(routes.schedules.map((s) => [s.expression, s.rateMs, s.cron?.expression, s.enabled])).toEqual([
        ['rate(5 minutes)', 300_000, undefined, false],
        ['cron(0 12 * * ? *)', null, 'cron(0 12 * * ? *)', false],
        ['rate(2 hours)', 7_200_000, undefined, true],
      ]);
      expect(routes.eventBridge).toEqual([
        { functionName: 'f', pattern: { source: ['kiln.ci'] }, eventBus: 'kiln-ci', enabled: false },
      ]);
    });

    it.each([
      ['schedule', '      - schedule: cron(0 12 * * *)', 'functions.reconcile.events[0].schedule'],
      [
        'eventBridge schedule',
        '      - eventBridge:\n          schedule: cron(0 12 * * * *)',
        'functions.reconcile.events[0].eventBridge.schedule',
      ],
    ])(
      'refuses a %s with a cron expression EventBridge would refuse, naming the function and expression',
      (_kind, event, field) => {
        const yml = minimal(`  reconcile:\n    handler: a.h\n    events:\n${event}\n`);
        let error: unknown;
        try {
          parseServerlessYaml(yml);
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(RoutesError);
        expect(error).toMatchObject({ field });
        expect((error as RoutesError).message).toMatch(
          /^serverless\.yml functions\.reconcile\.events\[0\].*"cron\(0 12 \* \* \*( \*)?\)"/,
        );
      },
    );

    it('reads the httpApi shorthand', () => {
      const yml = minimal(
        "  f:\n    handler: a.h\n    events:\n      - httpApi: 'post /slack'\n      - httpApi: '*'\n",
      );
      expect(parseServerlessYaml(yml).http).toEqual([
        { functionName: 'f', method: 'POST', path: '/slack' },
        { functionName: 'f', method: '*', path: '*' },
      ]);
    });
  });

  describe('parseRateExpression', () => {
    it.each([
      ['rate(1 minute)', 60_000],
      ['rate(15 minutes)', 900_000],
      ['rate(1 hour)', 3_600_000],
      ['rate(7 days)', 604_800_000],
    ])('reads %s', (expression, ms) => {
      expect(parseRateExpression(expression)).toBe(ms);
    });

    it.each([
      'rate(1 minutes)',
      'rate(5 minute)',
      'rate(0 minutes)',
      'rate(1.5 hours)',
      'rate(1 week)',
      'every minute',
    ])('rejects %s', (expression) => {
      expect(() => parseRateExpression(expression)).toThrow(RoutesError);
    });
  });

  describe('matchHttpRoute', () => {
    const routes = (): HttpRoute[] => [
      { functionName: 'any', method: '*', path: '/slack' },
      { functionName: 'post', method: 'POST', path: '/slack' },
      { functionName: 'param', method: 'GET', path: '/services/{name}' },
      { functionName: 'proxy', method: 'GET', path: '/files/{proxy+}' },
      { functionName: 'fallback', method: '*', path: '*' },
    ];

    it.each([
      ['POST', '/slack', 'post'],
      ['PUT', '/slack', 'any'],
      ['GET', '/services/web', 'param'],
      ['GET', '/services/web/extra', 'fallback'],
      ['GET', '/files/a/b/c', 'proxy'],
      ['GET', '/files', 'fallback'],
      ['DELETE', '/nowhere', 'fallback'],
    ])('routes %s %s to %s', (method, path, functionName) => {
      expect(matchHttpRoute(routes(), method, path)?.functionName).toBe(functionName);
    });

    it('returns undefined when no route and no catch-all match', () => {
      expect(matchHttpRoute(routes().slice(0, 4), 'GET', '/nowhere')).toBeUndefined();
    });
  });
});
