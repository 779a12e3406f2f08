/**
 * Every documented sample event, routed through the fixture serverless.yml's patterns by the
 * simulated bus, reaches exactly the functions meant for it. The table must name every
 * EventBridge-shaped sample in test/fixtures/events, so a new sample needs a decision here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBridgeEnvelope } from '../../../sandbox/core/context';
import { loadRoutes, matchHttpRoute } from '../../../sandbox/core/routes';
import { createTestContext } from '../../../sandbox/core/testing';
import { EventBridgeSim } from '../../../sandbox/services/eventbridge';

const EVENTS = join(__dirname, '../../fixtures/events');
const SERVERLESS_YML = join(__dirname, '../../fixtures/serverless/serverless.yml');

function readSample(sample: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EVENTS, sample), 'utf8')) as Record<string, unknown>;
}

function eventBridgeSamples(): string[] {
  return readdirSync(EVENTS, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((dir) => readdirSync(join(EVENTS, dir.name)).map((file) => `${dir.name}/${file}`))
    .filter((sample) => sample.endsWith('.json') && 'detail-type' in readSample(sample))
    .sort();
}

function busWithFixtureRoutes(): EventBridgeSim {
  const bus = new EventBridgeSim(createTestContext(1));
  bus.addRoutes(loadRoutes(SERVERLESS_YML).eventBridge);
  return bus;
}

const routingTable: Array<[sample: string, functions: string[]]> = [
  ['autoscaling/instance-launch-lifecycle-action.json', ['onLifecycle']],
  ['autoscaling/instance-launch-successful.json', []],
  ['autoscaling/instance-launch-unsuccessful.json', []],
  ['autoscaling/instance-refresh-cancelled.json', ['onProgress']],
  ['autoscaling/instance-refresh-checkpoint-reached.json', ['onProgress']],
  ['autoscaling/instance-refresh-failed.json', ['onProgress']],
  ['autoscaling/instance-refresh-rollback-failed.json', ['onProgress']],
  ['autoscaling/instance-refresh-rollback-started.json', ['onProgress']],
  ['autoscaling/instance-refresh-rollback-succeeded.json', ['onProgress']],
  ['autoscaling/instance-refresh-started.json', ['onProgress']],
  ['autoscaling/instance-refresh-succeeded.json', ['onProgress']],
  ['autoscaling/instance-terminate-lifecycle-action.json', ['onLifecycle']],
  ['autoscaling/instance-terminate-successful.json', []],
  ['autoscaling/instance-terminate-unsuccessful.json', []],
  ['cloudwatch/alarm-state-change-anomaly-ok-to-alarm.json', ['onAlarm']],
  ['cloudwatch/alarm-state-change-composite-ok-to-alarm.json', ['onAlarm']],
  ['cloudwatch/alarm-state-change-metric-math-insufficient-data-to-alarm.json', ['onAlarm']],
  ['cloudwatch/alarm-state-change-metric-ok-to-alarm.json', ['onAlarm']],
  ['cloudwatch/alarm-state-change-multi-time-series-insufficient-data-to-alarm.json', ['onAlarm']],
  ['codeartifact/package-version-state-change-published.json', ['onArtifact']],
  ['ec2/ami-state-change-available.json', ['onProgress']],
  ['ec2/ami-state-change-failed.json', ['onProgress']],
  ['ec2/instance-state-change-terminated.json', []],
  // A scheduled rule's own delivery: it has no pattern, so no pattern routes it anywhere.
  ['events/scheduled-event.json', []],
  ['ecr/image-action-push.json', ['onArtifact']],
  ['imagebuilder/image-state-change-testing-to-available.json', ['onProgress']],
  ['s3/object-created.json', ['onArtifact']],
  ['ssm/command-invocation-status-change.json', []],
  ['ssm/command-status-change.json', ['onProgress']],
  // The fixture stack has no rule for Step Functions; Kiln's own (sweepBakes, matching the deploy
  // machine only) is exercised by test/integration/bake/deploy-bake.test.ts.
  ['stepfunctions/execution-status-change-aborted.json', []],
  ['stepfunctions/execution-status-change-failed.json', []],
  ['stepfunctions/execution-status-change-timed-out.json', []],
];

describe('event routing through serverless.yml patterns', () => {
  it('has a row for every EventBridge sample event', () => {
    expect(routingTable.map(([sample]) => sample).sort()).toEqual(eventBridgeSamples());
  });

  describe('documented AWS samples', () => {
    it.each(routingTable)('routes %s to %j', (sample, functions) => {
      const bus = busWithFixtureRoutes();
      const event = readSample(sample) as unknown as EventBridgeEnvelope;
      expect(bus.matchingFunctions(event).sort()).toEqual([...functions].sort());
    });
  });

  describe("the project's own serverless.yml", () => {
    // The fixture is the whole design; the project deploys its functions as they land. Each
    // sample must reach exactly the designed functions that the project already deploys.
    // The stage is told about the bucket AWS's sample event names (serverless.yml params).
    const projectRoutes = loadRoutes(join(__dirname, '../../../serverless.yml'), {
      stage: 'test',
      params: { artifactBuckets: 'amzn-s3-demo-bucket1' },
    });
    const deployed = new Set(projectRoutes.functions.map((f) => f.functionName));
    // Parts of a deployed function's design that land later, by detail-type prefix. When one
    // lands, the sample reaches the function and its entry here must go.
    const notYetRouted: Array<[fn: string, detailTypePrefix: string, why: string]> = [
      ['onProgress', 'EC2 Image Builder Image State Change', 'the bake makes images with EC2 itself'],
    ];
    const routedNow = (fn: string, event: EventBridgeEnvelope): boolean =>
      deployed.has(fn) &&
      !notYetRouted.some(([f, prefix]) => f === fn && event['detail-type'].startsWith(prefix));

    it.each(routingTable)('routes %s to the deployed ones of %j', (sample, functions) => {
      const bus = new EventBridgeSim(createTestContext(1));
      bus.addRoutes(projectRoutes.eventBridge);
      const event = readSample(sample) as unknown as EventBridgeEnvelope;
      expect(bus.matchingFunctions(event).sort()).toEqual(
        functions.filter((f) => routedNow(f, event)).sort(),
      );
    });

    it('ignores uploads to buckets the stage was not told about (params.artifactBuckets)', () => {
      const bus = new EventBridgeSim(createTestContext(1));
      bus.addRoutes(
        loadRoutes(join(__dirname, '../../../serverless.yml'), {
          stage: 'test',
          params: { artifactBuckets: 'acme-artifacts,acme-releases' },
        }).eventBridge,
      );
      const upload = (bucket: string): EventBridgeEnvelope => {
        const event = structuredClone(readSample('s3/object-created.json'));
        (event.detail as { bucket: { name: string } }).bucket.name = bucket;
        return event as unknown as EventBridgeEnvelope;
      };
      expect(bus.matchingFunctions(upload('acme-releases'))).toEqual(['onArtifact']);
      expect(bus.matchingFunctions(upload('amzn-s3-demo-bucket1'))).toEqual([]);
    });
  });

  describe('variations the patterns must tell apart', () => {
    const variant = (
      sample: string,
      change: (event: Record<string, unknown>) => void,
    ): EventBridgeEnvelope => {
      const event = structuredClone(readSample(sample));
      change(event);
      return event as unknown as EventBridgeEnvelope;
    };

    it('ignores an object created in a bucket outside the artifact prefix', () => {
      const event = variant('s3/object-created.json', (e) => {
        (e.detail as { bucket: { name: string } }).bucket.name = 'someone-elses-bucket';
      });
      expect(busWithFixtureRoutes().matchingFunctions(event)).toEqual([]);
    });

    it('ignores a failed ECR push', () => {
      const event = variant('ecr/image-action-push.json', (e) => {
        (e.detail as { result: string }).result = 'FAILURE';
      });
      expect(busWithFixtureRoutes().matchingFunctions(event)).toEqual([]);
    });

    it('ignores an alarm returning to OK', () => {
      const event = variant('cloudwatch/alarm-state-change-metric-ok-to-alarm.json', (e) => {
        (e.detail as { state: { value: string } }).state.value = 'OK';
      });
      expect(busWithFixtureRoutes().matchingFunctions(event)).toEqual([]);
    });

    it('ignores an SSM command still in progress', () => {
      const event = variant('ssm/command-status-change.json', (e) => {
        (e.detail as { status: string }).status = 'InProgress';
      });
      expect(busWithFixtureRoutes().matchingFunctions(event)).toEqual([]);
    });

    it('routes a CI "Artifact Published" event, but not one claiming an aws. source', () => {
      const bus = busWithFixtureRoutes();
      const published = variant('ec2/instance-state-change-terminated.json', (e) => {
        Object.assign(e, {
          source: 'kiln.ci',
          'detail-type': 'Artifact Published',
          detail: { service: 'web' },
        });
      });
      expect(bus.matchingFunctions(published)).toEqual(['onArtifact']);
      expect(bus.matchingFunctions({ ...published, source: 'aws.codebuild' })).toEqual([]);
    });
  });

  describe('HTTP API sample', () => {
    const http = loadRoutes(SERVERLESS_YML).http;
    const request = readSample('apigw/http-api-payload-v2-docs-example.json') as {
      rawPath: string;
      requestContext: { http: { method: string } };
    };

    it('routes nothing for the documented example path', () => {
      expect(matchHttpRoute(http, request.requestContext.http.method, request.rawPath)).toBeUndefined();
    });

    it('routes POST /slack to chatops and nothing for GET /slack', () => {
      expect(matchHttpRoute(http, request.requestContext.http.method, '/slack')?.functionName).toBe(
        'chatops',
      );
      expect(matchHttpRoute(http, 'GET', '/slack')).toBeUndefined();
    });
  });
});
