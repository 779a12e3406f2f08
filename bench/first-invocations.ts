/**
 * The first invocation of each deployed function, for the cold-start bench: what the store must
 * hold beforehand, the event, and what the function must answer. Keyed by serverless.yml's
 * function keys; a test holds this map and serverless.yml to the same set, so a new function
 * cannot join the stack without being held to the cold-start budget.
 *
 * Each run gets its own event (`run` counts from 0), so every timed invocation does the work of a
 * first delivery (a new record, its audit entry), never the cheaper duplicate path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateManifestSource } from '../shared/domain/manifest/yaml';
import { recipeHash } from '../shared/domain/bake';
import type { KilnStore } from '../shared/store';
import { slackSignature } from '../shared/domain/chatops/signature';
import { BENCH_DEPLOY_STATE_MACHINE_ARN, BENCH_SLACK_SECRET } from './stub-sfn';

export interface FirstInvocation {
  /** Writes what the function reads on its first call (on a table of its own: bench/cold-start.ts). */
  seed?: (store: KilnStore, root: string) => Promise<void>;
  event: (run: number) => unknown;
  /** Why the function's answer is not what this event should give; undefined when it is. */
  check: (result: unknown) => string | undefined;
}

async function applyManifest(store: KilnStore, root: string, file: string) {
  const { manifest, diagnostics } = validateManifestSource(readFileSync(join(root, file), 'utf8'), file);
  if (manifest === undefined) throw new Error(`${file}: ${diagnostics.map((d) => d.message).join('; ')}`);
  return store.putServiceManifest(manifest, { actor: 'bench' });
}

const LEDGER_BASE_AMI = 'ami-0f3c9e5a7b1d24680'; // examples/ledger.yml's bake.baseImage.amiId
const LEDGER_ARTIFACT = {
  kind: 'ecr',
  uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/finance/ledger:3.2.0',
  digest: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
};

export const firstInvocations: Record<string, FirstInvocation> = {
  // An upload of a new checkout tarball (examples/checkout.yml builds from this bucket and prefix):
  // one GSI query for the services, one artifact write and its audit entry, the deployment record
  // and its audit entry, and StartExecution (answered by bench/stub-sfn.ts).
  onArtifact: {
    seed: async (store, root) => {
      await applyManifest(store, root, 'examples/checkout.yml');
    },
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:s3:::acme-artifacts-123456789012'],
      detail: {
        version: '0',
        bucket: { name: 'acme-artifacts-123456789012' },
        object: {
          key: `checkout/releases/checkout-2.${run}.0.tar.gz`,
          size: 1048576,
          etag: `b1946ac92492d2347c6235b4d26${String(run).padStart(5, '0')}`,
          sequencer: '617f08299329d189',
        },
        reason: 'PutObject',
      },
    }),
    check: (result) =>
      typeof result === 'object' &&
      result !== null &&
      'recorded' in result &&
      result.recorded === 1 &&
      'started' in result &&
      result.started === 1
        ? undefined
        : `expected { recorded: 1, started: 1 }, got ${JSON.stringify(result)}`,
  },
  // The bake's first step for an artifact whose release is already recorded (the bake cache):
  // DynamoDB only (manifest, deployment move, release), so the bench needs no EC2 or SSM.
  bakeSteps: {
    seed: async (store, root) => {
      const { version, manifest } = await applyManifest(store, root, 'examples/ledger.yml');
      const hash = recipeHash(manifest.bake);
      await store.putRelease(
        {
          service: 'ledger',
          version: '3.2.0',
          amis: { 'eu-west-1': LEDGER_BASE_AMI },
          artifact: { uri: LEDGER_ARTIFACT.uri, digest: LEDGER_ARTIFACT.digest },
          recipeHash: hash,
          baseAmiId: LEDGER_BASE_AMI,
        },
        { actor: 'bench' },
      );
      for (let run = 0; run < 20; run++) {
        const created = await store.createDeployment({
          id: `bench-ledger-${run}`,
          service: 'ledger',
          releaseVersion: '3.2.0',
          environments: manifest.environments.map((e) => e.name),
          trigger: 'artifact',
          actor: 'bench',
        });
        await store.updateDeployment(
          created.id,
          { bake: { baseAmiId: LEDGER_BASE_AMI, recipeHash: hash, deadline: 4102444800000 } },
          created.version,
          { actor: 'bench' },
        );
      }
      benchManifestVersion = version;
    },
    event: (run) => ({
      step: 'begin',
      state: {
        deploymentId: `bench-ledger-${run % 20}`,
        service: 'ledger',
        version: '3.2.0',
        manifestVersion: benchManifestVersion,
        artifact: LEDGER_ARTIFACT,
      },
    }),
    check: (result) =>
      typeof result === 'object' && result !== null && 'cache' in result && result.cache === 'release'
        ? undefined
        : `expected the bake cache to answer { cache: 'release' }, got ${JSON.stringify(result)}`,
  },
  // The rollout's first step for a release already recorded (`kiln deploy` of a baked version):
  // DynamoDB only (the release, the pinned manifest), so the bench needs no Auto Scaling or EC2.
  rolloutSteps: {
    seed: async (store, root) => {
      const { version, manifest } = await applyManifest(store, root, 'examples/ledger.yml');
      await store.putRelease(
        {
          service: 'ledger',
          version: '3.2.0',
          amis: { 'eu-west-1': LEDGER_BASE_AMI, 'eu-central-1': LEDGER_BASE_AMI },
          artifact: { uri: LEDGER_ARTIFACT.uri, digest: LEDGER_ARTIFACT.digest },
          recipeHash: recipeHash(manifest.bake),
          baseAmiId: LEDGER_BASE_AMI,
        },
        { actor: 'bench' },
      );
      rolloutManifestVersion = version;
    },
    event: (run) => ({
      step: 'rollout-begin',
      state: {
        deploymentId: `bench-ledger-rollout-${run}`,
        service: 'ledger',
        version: '3.2.0',
        manifestVersion: rolloutManifestVersion,
      },
    }),
    check: (result) =>
      typeof result === 'object' &&
      result !== null &&
      'environments' in result &&
      Array.isArray(result.environments) &&
      result.environments.length > 0
        ? undefined
        : `expected the rollout's course ({ environments: [...] }), got ${JSON.stringify(result)}`,
  },
  // The daily retention run over the checkout service with no release recorded yet: one GSI query
  // for the services, one for its releases, a read per environment state; no EC2 call.
  retainImages: {
    seed: async (store, root) => {
      await applyManifest(store, root, 'examples/checkout.yml');
    },
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/kiln-bench-retain-images'],
      detail: {},
    }),
    check: (result) =>
      typeof result === 'object' && result !== null && 'services' in result && result.services === 1
        ? undefined
        : `expected { services: 1 }, got ${JSON.stringify(result)}`,
  },
  // A deploy execution stopped before its deployment was even recorded (the commonest cheap path:
  // one GetItem that finds no deployment; no EC2 or Step Functions call). The path that cleans up
  // adds DescribeExecution and EC2 calls, which the bench has no endpoint for.
  sweepBakes: {
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [`arn:aws:states:us-east-1:123456789012:execution:kiln-bench-deploy:bench-${run}`],
      detail: {
        executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-bench-deploy:bench-${run}`,
        stateMachineArn: BENCH_DEPLOY_STATE_MACHINE_ARN,
        name: `bench-${run}`,
        status: 'ABORTED',
        startDate: 1767225600000,
        stopDate: 1767225660000,
        input: '{}',
        output: null,
      },
    }),
    check: (result) =>
      typeof result === 'object' &&
      result !== null &&
      'outcome' in result &&
      result.outcome === 'no-deployment'
        ? undefined
        : `expected { outcome: 'no-deployment' }, got ${JSON.stringify(result)}`,
  },
  // A minute's reconciler run with nothing to heal (the commonest run): its claim taken and
  // released; the alarms' healing lists the services (none), the lifecycle hooks' lists them and
  // asks Auto Scaling for Kiln's tagged groups (none: bench/stub-sfn.ts answers); no records scan
  // (every fifth minute), no EC2 (quarter hours) and no Step Functions call.
  reconcile: {
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2026-01-01T00:01:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/kiln-bench-reconcile'],
      detail: {},
    }),
    check: (result) =>
      typeof result === 'object' &&
      result !== null &&
      'outcome' in result &&
      result.outcome === 'reconciled' &&
      'errors' in result &&
      Array.isArray(result.errors) &&
      result.errors.length === 0
        ? undefined
        : `expected { outcome: 'reconciled', errors: [] }, got ${JSON.stringify(result)}`,
  },
  // An image of someone else's pipeline becomes available: the commonest delivery (every AMI event
  // in the account arrives), one conditional DeleteItem that finds no waiting task. The path that
  // wakes a task adds one SendTaskSuccess, which the bench has no endpoint for.
  onProgress: {
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'EC2 AMI State Change',
      source: 'aws.ec2',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [`arn:aws:ec2:us-east-1::image/ami-${String(run).padStart(17, '0')}`],
      detail: {
        RequestId: `bench-request-${run}`,
        ImageId: `ami-${String(run).padStart(17, '0')}`,
        State: 'available',
        ErrorMessage: '',
      },
    }),
    check: (result) =>
      typeof result === 'object' && result !== null && 'outcome' in result && result.outcome === 'no-waiter'
        ? undefined
        : `expected { outcome: 'no-waiter' }, got ${JSON.stringify(result)}`,
  },
  // Another team's alarm goes into ALARM: the commonest delivery (every alarm of the account and
  // Region going into ALARM arrives), one listing of the manifests that finds no environment
  // watching it. The paths that act add the environment's reads, a claim and StartExecution.
  onAlarm: {
    seed: async (store, root) => {
      await applyManifest(store, root, 'examples/checkout.yml');
    },
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'CloudWatch Alarm State Change',
      source: 'aws.cloudwatch',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:other-team-cpu-${run}`],
      detail: {
        alarmName: `other-team-cpu-${run}`,
        state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-01-01T00:00:00.000+0000' },
        previousState: {
          value: 'OK',
          reason: 'Threshold Crossed',
          timestamp: '2025-12-31T23:55:00.000+0000',
        },
        configuration: { metrics: [] },
      },
    }),
    check: (result) =>
      typeof result === 'object' &&
      result !== null &&
      'outcomes' in result &&
      Array.isArray(result.outcomes) &&
      result.outcomes.length === 0
        ? undefined
        : `expected { outcomes: [] }, got ${JSON.stringify(result)}`,
  },
  // Kiln's terminate hook fires: one StartExecution of the lifecycle machine (bench/stub-sfn.ts).
  onLifecycle: {
    event: (run) => ({
      version: '0',
      id: `bench-${run}`,
      'detail-type': 'EC2 Instance-terminate Lifecycle Action',
      source: 'aws.autoscaling',
      account: '123456789012',
      time: '2026-01-01T00:00:00Z',
      region: 'us-east-1',
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/checkout-staging',
      ],
      detail: {
        LifecycleActionToken: `87654321-4321-4321-4321-${String(run).padStart(12, '0')}`,
        AutoScalingGroupName: 'checkout-staging',
        LifecycleHookName: 'kiln-drain',
        EC2InstanceId: `i-${String(run).padStart(17, '0')}`,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        Origin: 'AutoScalingGroup',
        Destination: 'EC2',
      },
    }),
    check: (result) =>
      typeof result === 'object' && result !== null && 'outcome' in result && result.outcome === 'started'
        ? undefined
        : `expected { outcome: 'started' }, got ${JSON.stringify(result)}`,
  },
  // A launch verification at its deadline: the step decides to complete (ABANDON) without an AWS
  // call, so the bench needs no Auto Scaling or EC2 endpoint; the module's load is what it times.
  lifecycleSteps: {
    event: (run) => ({
      step: 'advance',
      action: {
        region: 'us-east-1',
        groupName: 'checkout-staging',
        instanceId: `i-${String(run).padStart(17, '0')}`,
        transition: 'launch',
        hookName: 'kiln-verify',
        startedAt: 1767225600000,
        source: 'event',
      },
      progress: { phase: 'verifying', next: 'wait', deadline: 1767225600000 },
    }),
    check: (result) =>
      typeof result === 'object' && result !== null && 'result' in result && result.result === 'ABANDON'
        ? undefined
        : `expected the deadline's { result: 'ABANDON' }, got ${JSON.stringify(result)}`,
  },
  // A signed `/kiln status checkout` as API Gateway delivers it: the acknowledgement only (the
  // signing secret from Parameter Store, the request's claim, the asynchronous invoke of the
  // worker, each answered by bench/stub-sfn.ts or dynalite). Signed when the run starts, with a
  // user id of its own per run, so every run is a first delivery, never a replay.
  chatops: {
    event: (run) => slashCommandEvent(run),
    check: (result) =>
      typeof result === 'object' &&
      result !== null &&
      'statusCode' in result &&
      result.statusCode === 200 &&
      'body' in result &&
      String(result.body).includes('Working on')
        ? undefined
        : `expected a 200 "Working on …" acknowledgement, got ${JSON.stringify(result)}`,
  },
};

/** A signed slash command (Slack's form body, base64 as API Gateway passes it), signed now. */
export function slashCommandEvent(run: number) {
  const body = new URLSearchParams({
    team_id: 'T0BENCH',
    user_id: `U0BENCH${run}`,
    command: '/kiln',
    text: 'status checkout',
    response_url: `https://hooks.slack.com/commands/T0BENCH/${run}/bench`,
  }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    version: '2.0',
    routeKey: 'POST /slack',
    rawPath: '/slack',
    rawQueryString: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(BENCH_SLACK_SECRET, timestamp, body),
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
    requestContext: { requestId: `bench-${run}`, http: { method: 'POST', path: '/slack' } },
  };
}

/** The manifest version the bake bench's seed stored (1 on a fresh table). */
let benchManifestVersion = 1;
let rolloutManifestVersion = 1;
