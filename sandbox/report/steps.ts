/**
 * What the control plane did, read back from a run's record: each deployment (one execution of
 * Kiln's deploy state machine) as a row of steps in plain words, with which environment each step
 * worked on; how many instances Kiln's lifecycle hook handler held at each moment; and the
 * moments a reader needs to follow the story (the story's own lines, Slack messages, alarms,
 * deployments starting and ending). Pure: the same record gives the same answer.
 *
 * Steps come from the state machine's own state names (statemachines/deploy.asl.json), grouped
 * into the few things a person would name; a state this table does not know still shows, under
 * its own name, so a new state in the ASL never disappears from the report.
 */
import type { TimedEntry } from '../core/timeline';
import type { RunRecord } from '../observe/record';

/** `work`: Kiln is doing something; `wait`: Kiln waits, on purpose, for time, people or AWS. */
export type StepKind = 'work' | 'wait' | 'rollback';

export interface StepKindInfo {
  label: string;
  kind: StepKind;
  /** Whether the step works on one environment (its name is shown beside it). */
  perEnvironment: boolean;
  /** One sentence for the legend: what happens in this step and why it takes time. */
  explain: string;
}

/** The steps of a deployment, in the order they usually happen (the legend's order). */
export const STEP_KINDS = {
  bake: {
    label: 'bake the image',
    kind: 'work',
    perEnvironment: false,
    explain:
      'a builder instance installs the artifact, is stopped and imaged (AMI), and the image is copied to the other regions',
  },
  lock: {
    label: 'wait for the lock',
    kind: 'wait',
    perEnvironment: true,
    explain: 'another deployment holds this environment; only one changes it at a time',
  },
  rolling: {
    label: 'rolling replace',
    kind: 'work',
    perEnvironment: true,
    explain:
      'an EC2 Auto Scaling instance refresh replaces instances a batch at a time, pausing at checkpoints',
  },
  green: {
    label: 'launch green',
    kind: 'work',
    perEnvironment: true,
    explain: 'blue/green: a second group (green) on the new release is made beside the serving one (blue)',
  },
  healthGate: {
    label: 'health gate',
    kind: 'wait',
    perEnvironment: true,
    explain: "green's targets must all be healthy behind the load balancer before any traffic moves",
  },
  switch: {
    label: 'move traffic',
    kind: 'work',
    perEnvironment: true,
    explain: 'blue leaves the load balancer (its connections drain); green serves alone',
  },
  watch: {
    label: 'watch alarms',
    kind: 'wait',
    perEnvironment: true,
    explain: 'after the switch Kiln watches the alarms for a while; an alarm brings blue back',
  },
  retire: {
    label: 'retire blue',
    kind: 'work',
    perEnvironment: true,
    explain: 'blue is scaled to zero and kept, so a rollback is instant',
  },
  bakeTime: {
    label: 'bake time',
    kind: 'wait',
    perEnvironment: true,
    explain: 'the release runs in this environment for a set time before the next one gets it',
  },
  approval: {
    label: 'wait for approval',
    kind: 'wait',
    perEnvironment: true,
    explain: 'a person must approve (Slack button or kiln approve) before the next environment',
  },
  rollback: {
    label: 'roll back',
    kind: 'rollback',
    perEnvironment: true,
    explain: 'the environment is put back exactly on its previous release',
  },
  cleanUp: {
    label: 'clean up',
    kind: 'work',
    perEnvironment: false,
    explain: 'after a failure: the builder and any partial image are removed',
  },
} as const satisfies Record<string, StepKindInfo>;

export type KnownStepKey = keyof typeof STEP_KINDS;

/** Deploy state → step; states not listed continue the step before them (choices, bookkeeping). */
const STEP_OF_STATE: Readonly<Record<string, KnownStepKey>> = {
  Begin: 'bake',
  BakeCache: 'bake',
  AdoptImage: 'bake',
  LaunchBuilder: 'bake',
  BuilderReady: 'bake',
  StartInstall: 'bake',
  SendCommand: 'bake',
  CheckCommand: 'bake',
  WaitCommand: 'bake',
  StartSmokeCheck: 'bake',
  StopBuilder: 'bake',
  CreateImage: 'bake',
  CheckImage: 'bake',
  WaitImage: 'bake',
  TerminateBuilder: 'bake',
  CopyToRegions: 'bake',
  CopyImage: 'bake',
  WaitCopy: 'bake',
  CheckCopy: 'bake',
  RecordRelease: 'bake',
  TakeLock: 'lock',
  WaitLock: 'lock',
  StartRefresh: 'rolling',
  CheckRefresh: 'rolling',
  WaitRefresh: 'rolling',
  CreateGreen: 'green',
  CheckGreen: 'green',
  WaitGreen: 'green',
  AttachGreen: 'healthGate',
  HealthGate: 'healthGate',
  WaitHealthGate: 'healthGate',
  SwitchTraffic: 'switch',
  WatchSwitch: 'watch',
  CheckWatch: 'watch',
  WatchOn: 'watch',
  RetireBlue: 'retire',
  BakeGate: 'bakeTime',
  CheckGate: 'bakeTime',
  WaitApproval: 'approval',
  RecordRollback: 'rollback',
  RollbackEnvironment: 'rollback',
  CheckRollback: 'rollback',
  WaitRollback: 'rollback',
  RolledBack: 'rollback',
  RollbackFailed: 'rollback',
  CleanUp: 'cleanUp',
};

/** States after which the deployment does nothing more (its row ends there). */
const FINAL_STATES = new Set([
  'Done',
  'RolloutSucceeded',
  'RolledBackEnd',
  'RolloutFailed',
  'RolloutFailedEnd',
  'ApprovalTimedOut',
  'ApprovalRefused',
  'Aborted',
  'AbortedEnd',
  'Superseded',
  'BakeFailed',
]);

/** States that do nothing a reader would name: they continue the step before them. */
const NEUTRAL_STATES = new Set([
  'Start',
  'RolloutBegin',
  'NextEnvironment',
  'EnvironmentDone',
  'Promote',
  'PassGate',
  'LockTaken',
  'PrepareEnvironment',
  'Strategy',
  'RefreshDone',
  'GreenReady',
  'GateDone',
  'WatchDone',
  'GateClear',
  'Approved',
  'CommandDone',
  'AfterCommand',
  'ImageDone',
  'CopyDone',
  'CopyFinished',
  'RollbackDone',
]);

export interface DeploymentStep {
  /** A key of STEP_KINDS, or `state:NAME` for a state the table does not know. */
  key: string;
  label: string;
  kind: StepKind;
  /** The environment it worked on, when the step is per environment and the record says which. */
  environment: string | undefined;
  start: number;
  end: number;
}

export interface Deployment {
  /** The execution's name (Kiln's deployment id, or `service-version-digest` for an artifact's). */
  name: string;
  stateMachine: string;
  start: number;
  /** When it ended, or the end of the run if it was still running. */
  end: number;
  /** Step Functions' status at the end of the run: RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT. */
  status: string;
  /** The release its rollout launched (from the instances it launched), when it launched any. */
  release: string | undefined;
  /** The last state it entered: why it ended (RolloutSucceeded, RolledBack, ApprovalTimedOut…). */
  lastState: string | undefined;
  steps: DeploymentStep[];
}

const EXECUTION = /^arn:aws:states:[^:]+:\d+:execution:([^:#]+):([^#]+)$/;
const EXECUTION_STATE = /^arn:aws:states:[^:]+:\d+:execution:([^:#]+):([^#]+)#state$/;

function isLifecycleMachine(stateMachine: string): boolean {
  return /lifecycle/i.test(stateMachine);
}

function stepFor(state: string): { key: string; label: string; kind: StepKind } | undefined {
  if (NEUTRAL_STATES.has(state) || FINAL_STATES.has(state)) return undefined;
  const known = STEP_OF_STATE[state];
  if (known !== undefined)
    return { key: known, label: STEP_KINDS[known].label, kind: STEP_KINDS[known].kind };
  return { key: `state:${state}`, label: state, kind: 'work' };
}

/** Environment names by the Auto Scaling groups that make them up. */
function environmentByGroup(record: RunRecord): Map<string, string> {
  const byGroup = new Map<string, string>();
  for (const env of record.environments) for (const g of env.groups) byGroup.set(g, env.environment);
  for (const g of record.groups.values()) {
    const env = g.tags['kiln:environment'];
    if (env !== undefined && !byGroup.has(g.name)) byGroup.set(g.name, env);
  }
  return byGroup;
}

/**
 * The group an environment step acted on: the first instance refresh started, or group made,
 * after the step began (entries from `from` on). Rollouts of one environment are serialized by
 * Kiln's lock, so the next such entry is this deployment's.
 */
function groupActedOn(
  entries: readonly TimedEntry[],
  from: number,
  step: DeploymentStep,
): string | undefined {
  for (let i = from; i < entries.length; i += 1) {
    const e = entries[i] as TimedEntry;
    // The next step's refresh may start at the very instant this one ends: not this step's.
    if (e.t > step.end || (e.t === step.end && step.end > step.start)) return undefined;
    if (e.kind !== 'state' || e.from !== null) continue;
    if (e.resource.startsWith('instance-refresh:')) {
      return e.resource.slice('instance-refresh:'.length, e.resource.lastIndexOf('/'));
    }
    if (e.resource.startsWith('autoscaling:') && !e.resource.includes('/') && e.to === 'Active') {
      return e.resource.slice('autoscaling:'.length);
    }
  }
  return undefined;
}

/** Every deploy execution of the run, oldest first, with its steps. */
export function deploymentsOf(record: RunRecord): Deployment[] {
  const { entries } = record;
  const runEnd = entries.length > 0 ? (entries[entries.length - 1] as TimedEntry).t : 0;
  const envOfGroup = environmentByGroup(record);
  const open = new Map<string, Deployment>();
  const all: Deployment[] = [];

  for (const e of entries) {
    if (e.kind !== 'state' || !e.resource.startsWith('arn:aws:states:')) continue;
    const execution = EXECUTION.exec(e.resource);
    if (execution !== null) {
      const [, stateMachine = '', name = ''] = execution;
      if (isLifecycleMachine(stateMachine)) continue;
      let d = open.get(e.resource);
      if (d === undefined) {
        d = {
          name,
          stateMachine,
          start: e.t,
          end: runEnd,
          status: e.to,
          release: undefined,
          lastState: undefined,
          steps: [],
        };
        open.set(e.resource, d);
        all.push(d);
      }
      d.status = e.to;
      if (e.to !== 'RUNNING') d.end = e.t;
      continue;
    }
    if (!EXECUTION_STATE.test(e.resource)) continue;
    const d = open.get(e.resource.slice(0, -'#state'.length));
    if (d === undefined) continue;
    const state = e.to;
    const { steps } = d;
    const last = steps[steps.length - 1];
    d.lastState = state;
    if (FINAL_STATES.has(state)) {
      if (last !== undefined) last.end = Math.min(last.end, e.t);
      continue;
    }
    const step = stepFor(state);
    if (step === undefined || last?.key === step.key) continue;
    if (last !== undefined) last.end = Math.min(last.end, e.t);
    steps.push({ ...step, environment: undefined, start: e.t, end: runEnd });
  }

  for (const d of all) {
    // A step ends where the next began or its deployment ended; a lock taken at once was no wait.
    d.steps.forEach((s, i) => {
      s.end = Math.min(s.end, d.steps[i + 1]?.start ?? d.end, d.end);
    });
    d.steps = d.steps.filter((s) => !(s.key === 'lock' && s.end - s.start < 0.001));
  }
  nameEnvironments(record, all, envOfGroup);
  return all;
}

/**
 * Each environment step's environment: the group the deployment acted on during it. A step that
 * acted on none (a lock wait, a bake time) takes the environment of the step that did, within the
 * same stretch between environment changes.
 */
function nameEnvironments(record: RunRecord, all: Deployment[], envOfGroup: Map<string, string>): void {
  const { entries } = record;
  const indexAt = (t: number): number => {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((entries[mid] as TimedEntry).t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const d of all) {
    for (const s of d.steps) {
      if (!ACTING_STEPS.has(s.key)) continue;
      const group = groupActedOn(entries, indexAt(s.start), s);
      if (group !== undefined) s.environment = envOfGroup.get(group) ?? group;
    }
    // Steps that start no refresh and make no group (a lock, a bake time, an approval, the watch)
    // belong to the environment of the rollout step around them: the one before (a bake time or
    // a watch is about what was just rolled), except a lock and an approval, which are for the
    // environment after them (the manifest asks approval on the environment it guards).
    const steps = d.steps;
    for (let i = 0; i < steps.length; i += 1) {
      const s = steps[i] as DeploymentStep;
      if (s.environment !== undefined || !isPerEnvironment(s.key)) continue;
      const before = s.key === 'lock' || s.key === 'approval' ? undefined : findEnvironment(steps, i, -1);
      s.environment = before ?? findEnvironment(steps, i, 1) ?? findEnvironment(steps, i, -1);
    }
    d.release = releaseOf(record, d, envOfGroup);
  }
}

/** Steps that start an instance refresh or make a group: the entry that names the environment. */
const ACTING_STEPS = new Set(['rolling', 'green', 'rollback']);

function isPerEnvironment(key: string): boolean {
  return key in STEP_KINDS ? STEP_KINDS[key as KnownStepKey].perEnvironment : false;
}

function findEnvironment(steps: DeploymentStep[], from: number, direction: 1 | -1): string | undefined {
  for (let i = from + direction; i >= 0 && i < steps.length; i += direction) {
    const s = steps[i] as DeploymentStep;
    if (s.key === 'bake') return undefined;
    if (s.environment !== undefined) return s.environment;
  }
  return undefined;
}

/** The release most of the instances launched during the deployment's forward steps run. */
function releaseOf(record: RunRecord, d: Deployment, envOfGroup: Map<string, string>): string | undefined {
  const counts = new Map<string, number>();
  for (const facts of record.instances.values()) {
    if (facts.version === undefined || facts.group === undefined || !envOfGroup.has(facts.group)) continue;
    const during = d.steps.some(
      (s) =>
        (s.key === 'rolling' || s.key === 'green') &&
        facts.launchedAt >= s.start &&
        facts.launchedAt <= s.end,
    );
    if (during) counts.set(facts.version, (counts.get(facts.version) ?? 0) + 1);
  }
  let best: [string, number] | undefined;
  for (const entry of counts) if (best === undefined || entry[1] > best[1]) best = entry;
  return best?.[0];
}

/** Instances held by Kiln's lifecycle hook handler (running lifecycle executions), over time. */
export interface HookActivity {
  t: number;
  running: number;
}

export function lifecycleActivity(record: RunRecord): HookActivity[] {
  const out: HookActivity[] = [];
  const running = new Set<string>();
  for (const e of record.entries) {
    if (e.kind !== 'state') continue;
    const execution = EXECUTION.exec(e.resource);
    if (execution === null || !isLifecycleMachine(execution[1] ?? '')) continue;
    if (e.to === 'RUNNING') running.add(e.resource);
    else running.delete(e.resource);
    const last = out[out.length - 1];
    if (last !== undefined && last.t === e.t) last.running = running.size;
    else out.push({ t: e.t, running: running.size });
  }
  return out;
}

export type MomentKind = 'story' | 'slack' | 'alarm' | 'deployment' | 'fault' | 'failure';

/** One line of "what happened", in plain words. */
export interface Moment {
  t: number;
  kind: MomentKind;
  text: string;
}

/** Log lines the simulator writes about itself (not the story): noise for a reader. */
const SIMULATOR_CHATTER = /^(lambda |instance-refresh )/;
/** What Kiln answered in Slack (sandbox/services/slack.ts records each response_url post). */
const SLACK_RESPONSE = /^slack response \(([^)]*)\): /;

/** The moments worth a line, in timeline order. */
export function momentsOf(record: RunRecord, deployments: readonly Deployment[]): Moment[] {
  const moments: Moment[] = [];
  const alarmNames = new Map<string, string>();
  for (const env of record.environments) {
    env.alarmArns.forEach((arn, i) => alarmNames.set(arn, `${env.environment}: ${env.alarmNames[i] ?? arn}`));
  }
  for (const e of record.entries) {
    if (e.kind === 'log') {
      if (SIMULATOR_CHATTER.test(e.message)) continue;
      const response = SLACK_RESPONSE.exec(e.message);
      if (response !== null) {
        const seenBy = response[1] === 'in_channel' ? 'everyone in the channel' : 'only the one who asked';
        moments.push({
          t: e.t,
          kind: 'slack',
          text: `Kiln answered (${seenBy}): ${e.message.slice(response[0].length)}`,
        });
        continue;
      }
      const kind: MomentKind = /fault/i.test(e.message)
        ? 'fault'
        : /failed|a bug/i.test(e.message) && /^(story step|run failed)/.test(e.message)
          ? 'failure'
          : 'story';
      moments.push({ t: e.t, kind, text: e.message });
    } else if (e.kind === 'api' && e.service === 'Slack') {
      const { text } = e as { text?: unknown };
      moments.push({
        t: e.t,
        kind: 'slack',
        text: typeof text === 'string' ? text : '(a message without text)',
      });
    } else if (e.kind === 'state' && alarmNames.has(e.resource) && e.from !== null) {
      moments.push({
        t: e.t,
        kind: 'alarm',
        text: `alarm ${alarmNames.get(e.resource) ?? e.resource}: ${e.from} → ${e.to}`,
      });
    }
  }
  for (const d of deployments) {
    moments.push({ t: d.start, kind: 'deployment', text: `deployment ${d.name} started` });
    for (const s of d.steps) {
      moments.push({
        t: s.start,
        kind: 'deployment',
        text: `deployment ${d.name}: ${s.label}${s.environment !== undefined ? ` (${s.environment})` : ''}`,
      });
    }
    if (d.status !== 'RUNNING') {
      moments.push({
        t: d.end,
        kind: 'deployment',
        text: `deployment ${d.name} ended ${d.status.toLowerCase()}${d.lastState !== undefined ? ` (${d.lastState})` : ''}`,
      });
    }
  }
  // Stable: moments at one instant keep the order they were added in.
  return moments
    .map((m, i) => ({ m, i }))
    .sort((a, b) => a.m.t - b.m.t || a.i - b.i)
    .map(({ m }) => m);
}
