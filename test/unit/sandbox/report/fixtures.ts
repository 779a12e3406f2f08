/**
 * A small run's record built by hand: web in staging and production, one deployment that bakes
 * 1.1.0, rolls staging, waits a bake time, then rolls production. Each call gives a fresh record.
 */
import type { TimedEntry } from '../../../../sandbox/core/timeline';
import type { InstanceFacts, RunRecord } from '../../../../sandbox/observe/record';

export const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:kiln-sandbox-deploy:web-1_1_0-abc';
export const LIFECYCLE =
  'arn:aws:states:us-east-1:123456789012:execution:kiln-sandbox-lifecycle:i-1-terminate';
export const TG = (env: string) =>
  `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-${env}/abc`;
export const ALARM = (env: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-${env}-5xx`;

export function state(t: number, resource: string, from: string | null, to: string): TimedEntry {
  return { t, kind: 'state', resource, from, to };
}

export function log(t: number, message: string): TimedEntry {
  return { t, kind: 'log', message };
}

/** The deploy execution entering `states` one after another at `t`. */
export function transitions(t: number, ...states: string[]): TimedEntry[] {
  return states.map((to, i) => state(t, `${EXECUTION}#state`, i === 0 ? null : (states[i - 1] ?? null), to));
}

function instance(id: string, version: string, group: string, launchedAt: number): [string, InstanceFacts] {
  return [id, { instanceId: id, imageId: `ami-${version}`, version, group, launchedAt }];
}

export function deploymentRecord(extra: TimedEntry[] = []): RunRecord {
  const entries: TimedEntry[] = [
    state(0, 'autoscaling:web-staging/i-1', null, 'InService'),
    state(0, 'autoscaling:web-production/i-2', null, 'InService'),
    state(0, ALARM('staging'), null, 'OK'),
    log(60, 'ci: uploaded s3://artifacts/web-1.1.0.tar.gz'),
    state(60, EXECUTION, null, 'RUNNING'),
    ...transitions(60, 'Start', 'Begin', 'BakeCache', 'LaunchBuilder'),
    ...transitions(
      400,
      'RecordRelease',
      'RolloutBegin',
      'NextEnvironment',
      'TakeLock',
      'LockTaken',
      'PrepareEnvironment',
      'Strategy',
      'StartRefresh',
    ),
    state(400, 'instance-refresh:web-staging/r-1', null, 'Pending'),
    state(410, 'autoscaling:web-staging/i-3', null, 'Pending'),
    state(440, 'autoscaling:web-staging/i-3', 'Pending', 'InService'),
    state(500, 'autoscaling:web-staging/i-1', 'InService', 'Terminated'),
    ...transitions(600, 'RefreshDone', 'EnvironmentDone', 'Promote', 'BakeGate'),
    ...transitions(
      1200,
      'CheckGate',
      'GateClear',
      'PassGate',
      'NextEnvironment',
      'TakeLock',
      'LockTaken',
      'PrepareEnvironment',
      'Strategy',
      'StartRefresh',
    ),
    state(1200, 'instance-refresh:web-production/r-2', null, 'Pending'),
    state(1210, 'autoscaling:web-production/i-4', null, 'Pending'),
    state(1240, 'autoscaling:web-production/i-4', 'Pending', 'InService'),
    ...transitions(1400, 'RefreshDone', 'EnvironmentDone', 'Promote', 'RolloutSucceeded', 'Done'),
    state(1400, EXECUTION, 'RUNNING', 'SUCCEEDED'),
    ...extra,
  ];
  entries.sort((a, b) => a.t - b.t);
  return {
    entries,
    instances: new Map([
      instance('i-1', '1.0.0', 'web-staging', 0),
      instance('i-2', '1.0.0', 'web-production', 0),
      instance('i-3', '1.1.0', 'web-staging', 410),
      instance('i-4', '1.1.0', 'web-production', 1210),
    ]),
    groups: new Map(),
    environments: ['staging', 'production'].map((environment) => ({
      service: 'web',
      environment,
      groups: [`web-${environment}`],
      targetGroupArns: [TG(environment)],
      alarmNames: [`web-${environment}-5xx`],
      alarmArns: [ALARM(environment)],
      minHealthyPercentage: 90,
    })),
    region: 'us-east-1',
    accountId: '123456789012',
  };
}
