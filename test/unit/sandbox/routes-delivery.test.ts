import { join } from 'node:path';
import { loadRoutes, parseServerlessYaml, RoutesError } from '../../../sandbox/core/routes';

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

const yml = (functionBody: string, extra = ''): string =>
  [
    'service: kiln',
    'provider:',
    '  name: aws',
    "  stage: ${opt:stage, 'dev'}",
    'params:',
    '  default:',
    '    buckets: default-a,default-b',
    '  prod:',
    '    buckets: prod-a',
    'functions:',
    '  f:',
    '    handler: functions/f.handler',
    functionBody,
    extra,
  ].join('\n');

const s3Rule = [
  '    events:',
  '      - eventBridge:',
  '          pattern:',
  '            source: [aws.s3]',
  '            detail:',
  '              bucket:',
  "                name: !Split [',', '${param:buckets}']",
].join('\n');

describe('routes: delivery settings from serverless.yml', () => {
  describe('stage parameters in patterns', () => {
    it('takes --param over the stage entry over params.default, and splits the list', () => {
      const names = (options: Parameters<typeof parseServerlessYaml>[1]) =>
        parseServerlessYaml(yml(s3Rule), options).eventBridge[0]?.pattern;
      expect(names({ stage: 'dev' })).toMatchObject({
        detail: { bucket: { name: ['default-a', 'default-b'] } },
      });
      expect(names({ stage: 'prod' })).toMatchObject({ detail: { bucket: { name: ['prod-a'] } } });
      expect(names({ stage: 'prod', params: { buckets: 'cli-a,cli-b' } })).toMatchObject({
        detail: { bucket: { name: ['cli-a', 'cli-b'] } },
      });
    });

    it('names the field when a parameter has no value anywhere', () => {
      const text = yml(s3Rule).replace('${param:buckets}', '${param:missing}');
      expect(fieldOf(() => parseServerlessYaml(text))).toBe(
        'functions.f.events[0].eventBridge.pattern.detail.bucket.name.Fn::Split[1]',
      );
    });

    it('refuses a malformed Fn::Split with the field at fault', () => {
      const text = yml(s3Rule).replace("!Split [',', '${param:buckets}']", "!Split [',']");
      expect(fieldOf(() => parseServerlessYaml(text))).toBe(
        'functions.f.events[0].eventBridge.pattern.detail.bucket.name',
      );
    });
  });

  describe('EventBridge targets', () => {
    it('reads the retry policy and the dead-letter queue of a rule', () => {
      const text = yml(
        `${s3Rule}\n          retryPolicy: { maximumEventAge: 3600, maximumRetryAttempts: 30 }\n          deadLetterQueueArn: !GetAtt Dlq.Arn`,
      );
      expect(parseServerlessYaml(text).eventBridge[0]).toMatchObject({
        retryPolicy: { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 30 },
        deadLetterQueue: 'Dlq',
      });
    });

    it('refuses a dead-letter queue that is not a queue of the file', () => {
      const text = yml(
        `${s3Rule}\n          deadLetterQueueArn: arn:aws:sqs:us-east-1:123456789012:elsewhere`,
      );
      expect(fieldOf(() => parseServerlessYaml(text))).toBe(
        'functions.f.events[0].eventBridge.deadLetterQueueArn',
      );
    });

    it('refuses a retry policy beyond what EventBridge allows', () => {
      const text = yml(`${s3Rule}\n          retryPolicy: { maximumRetryAttempts: 186 }`);
      expect(fieldOf(() => parseServerlessYaml(text))).toBe(
        'functions.f.events[0].eventBridge.retryPolicy.maximumRetryAttempts',
      );
    });
  });

  describe('asynchronous invocation settings', () => {
    it('reads retries, event age, the on-failure queue and reserved concurrency', () => {
      const text = yml(
        [
          '    reservedConcurrency: 5',
          '    maximumRetryAttempts: 1',
          '    maximumEventAge: 600',
          '    destinations:',
          '      onFailure: { type: sqs, arn: !GetAtt Dlq.Arn }',
        ].join('\n'),
      );
      const [fn] = parseServerlessYaml(text).functions;
      expect(fn?.async).toEqual({
        maximumRetryAttempts: 1,
        maximumEventAgeSeconds: 600,
        onFailureQueue: 'Dlq',
      });
      expect(fn?.reservedConcurrency).toBe(5);
    });

    it('refuses more than the two retries Lambda allows', () => {
      expect(fieldOf(() => parseServerlessYaml(yml('    maximumRetryAttempts: 3')))).toBe(
        'functions.f.maximumRetryAttempts',
      );
    });
  });

  describe('queues', () => {
    it('lists AWS::SQS::Queue resources with their resolved names', () => {
      const text = yml(
        '',
        [
          'resources:',
          '  Resources:',
          '    Dlq:',
          '      Type: AWS::SQS::Queue',
          '      Properties:',
          '        QueueName: kiln-${sls:stage}-dead-letters',
          '        MessageRetentionPeriod: 1209600',
          '        SqsManagedSseEnabled: true',
        ].join('\n'),
      );
      expect(parseServerlessYaml(text, { stage: 'qa' }).queues).toEqual([
        {
          logicalId: 'Dlq',
          name: 'kiln-qa-dead-letters',
          messageRetentionSeconds: 1_209_600,
          sqsManagedSse: true,
        },
      ]);
    });
  });

  describe('the project serverless.yml', () => {
    it('gives every rule a retry policy and the dead-letter queue, and every rule-invoked function an on-failure queue', () => {
      const routes = loadRoutes(PROJECT_YML, { stage: 'sandbox' });
      const queues = new Set(routes.queues.map((q) => q.logicalId));
      for (const route of routes.eventBridge) {
        expect(route.retryPolicy).toBeDefined();
        expect(queues.has(route.deadLetterQueue ?? '')).toBe(true);
      }
      const invoked = new Set(routes.eventBridge.map((r) => r.functionName));
      for (const fn of routes.functions.filter((f) => invoked.has(f.functionName))) {
        expect(queues.has(fn.async.onFailureQueue ?? '')).toBe(true);
      }
    });
  });
});
