/**
 * Disturbances a chaos run schedules on the virtual clock before the story starts (runSandbox's
 * `prepare`): an alarm flapping, CI publishing a concurrent artifact, an operator stopping a deploy
 * execution mid-rollout. Each acts through the real SDK clients as an outside actor would (callers
 * `chaos:*` on the timeline), in a task of its own, and says what it did in a timeline log line.
 * A disturbance the region refuses (an injected fault, nothing to act on) is logged, never thrown:
 * it is the region's weather, not the run's outcome.
 */
import { DescribeAlarmsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { KilnStore } from '../../shared/store';
import type { Region } from '../region';
import { uploadArtifact } from '../stories/bake-kit';
import { sleep } from '../stories/fleet';
import type { Disturbance } from './schedule';

/** How often, and how many times, a kill looks again for a deploy execution that is rolling out. */
const KILL_RETRY_SECONDS = 60;
const KILL_ATTEMPTS = 60;

export function scheduleDisturbances(region: Region, disturbances: readonly Disturbance[]): void {
  const { engine } = region;
  const log = (message: string): void =>
    engine.timeline.record({ kind: 'log', message: `chaos: ${message}` });
  for (const disturbance of disturbances) {
    const delayMs = disturbance.atSeconds * 1000 - (engine.clock.now() - engine.timeline.epochMs);
    engine.clock.setTimeout(
      () => {
        void engine
          .spawn(`chaos:${disturbance.kind}`, () => act(region, disturbance, log))
          .catch((error: unknown) => {
            log(
              `${disturbance.kind} refused: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
            );
          });
      },
      Math.max(0, delayMs),
    );
  }
}

async function act(region: Region, disturbance: Disturbance, log: (message: string) => void): Promise<void> {
  switch (disturbance.kind) {
    case 'alarm-flap':
      return flapAlarm(region, disturbance, log);
    case 'concurrent-artifact':
      return publishArtifact(region, disturbance, log);
    case 'kill-execution':
      return killExecution(region, disturbance, log);
  }
}

async function flapAlarm(
  region: Region,
  d: Extract<Disturbance, { kind: 'alarm-flap' }>,
  log: (message: string) => void,
): Promise<void> {
  const { cloudWatch } = region.clientsFor('chaos:alarm-flap', 'operator');
  const names = ((await cloudWatch.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [])
    .map((a) => a.AlarmName ?? '')
    .filter((name) => name !== '')
    .sort();
  const name = names[Math.floor(d.pick * names.length)];
  if (name === undefined) return log('alarm-flap: no alarm to flap yet');
  // SetAlarmState: "the alarm state returns to its actual state" at its next evaluation
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html), so
  // a flap may end sooner than holdSeconds; setting OK afterwards is then a no-op.
  await cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'chaos: alarm flap' }),
  );
  log(`alarm-flap: ${name} set to ALARM for ${d.holdSeconds} s`);
  await sleep(d.holdSeconds);
  await cloudWatch.send(
    new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'chaos: alarm flap over' }),
  );
  log(`alarm-flap: ${name} set back to OK`);
}

function chaosStore(region: Region, caller: string): KilnStore {
  return new KilnStore({
    client: region.clientsFor(caller, 'operator').doc,
    tableName: region.tableName,
    ids: region.engine.kilnIds,
  });
}

async function publishArtifact(
  region: Region,
  d: Extract<Disturbance, { kind: 'concurrent-artifact' }>,
  log: (message: string) => void,
): Promise<void> {
  const services = (await chaosStore(region, 'chaos:concurrent-artifact').listServices()).items;
  if (services.length === 0)
    return log(`concurrent-artifact: no service known to Kiln yet, ${d.version} not published`);
  for (const service of services) {
    const { uri } = uploadArtifact(region, {
      service: service.service,
      version: d.version,
      etag: `c4a05${d.version.replace(/\D/g, '')}`.padEnd(32, '0'),
    });
    log(`concurrent-artifact: CI published ${uri}`);
  }
}

async function killExecution(
  region: Region,
  d: Extract<Disturbance, { kind: 'kill-execution' }>,
  log: (message: string) => void,
): Promise<void> {
  const machine = region.stateMachineArns.get('DeployStateMachine');
  const store = chaosStore(region, 'chaos:kill-execution');
  const { sfn } = region.clientsFor('chaos:kill-execution', 'operator');
  for (let attempt = 1; attempt <= KILL_ATTEMPTS; attempt++) {
    const running = region.stepFunctions.running().filter((e) => e.machine.arn === machine);
    const rolling: string[] = [];
    for (const execution of running) {
      // The execution's name is the deployment id (DESIGN.md rule 1).
      const deployment = await store.getDeployment(execution.name);
      if (deployment?.status === 'rolling-out') rolling.push(execution.arn);
    }
    // Mid-rollout when one is rolling out; any running one on the last look.
    const candidates =
      rolling.length > 0 ? rolling : attempt === KILL_ATTEMPTS ? running.map((e) => e.arn) : [];
    const arn = candidates[Math.floor(d.pick * candidates.length)];
    if (arn !== undefined) {
      await sfn.send(new StopExecutionCommand({ executionArn: arn, cause: 'chaos: killed mid-rollout' }));
      return log(`kill-execution: stopped ${arn}`);
    }
    await sleep(KILL_RETRY_SECONDS);
  }
  log('kill-execution: no deploy execution was running to stop');
}
