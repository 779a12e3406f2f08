/**
 * The simulated Systems Manager service: Run Command (SendCommand and its invocations' statuses on
 * the virtual clock, with the EventBridge notifications AWS sends) and Parameter Store for plain
 * parameters, including the public AMI parameters under /aws/service/ that resolve to seeded images.
 *
 * Instance states come from EC2 through `Ec2Fleet`; tag targets and public AMI parameters need the
 * optional `InstanceDirectory` and `PublicAmiCatalog` (Ec2Sim offers both).
 */
import { createHash } from 'node:crypto';
import {
  InvalidCommandId,
  InvalidDocument,
  InvalidFilterKey,
  InvalidInstanceId,
  InvalidParameters,
  InvalidPluginName,
  InvocationDoesNotExist,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
  SSMServiceException,
  UnsupportedParameterType,
} from '@aws-sdk/client-ssm';
import type {
  Command,
  CommandInvocation,
  CommandInvocationStatus,
  CommandPluginStatus,
  CommandStatus,
  GetCommandInvocationCommandInput,
  GetCommandInvocationCommandOutput,
  GetParameterCommandInput,
  GetParameterCommandOutput,
  GetParametersCommandInput,
  GetParametersCommandOutput,
  ListCommandInvocationsCommandInput,
  ListCommandInvocationsCommandOutput,
  ListCommandsCommandInput,
  ListCommandsCommandOutput,
  Parameter,
  ParameterType,
  PutParameterCommandInput,
  PutParameterCommandOutput,
  SendCommandCommandInput,
  SendCommandCommandOutput,
  Target,
} from '@aws-sdk/client-ssm';
import type { SimContext, SimService, TimerHandle, VirtualMs } from '../core/context';
import type { PublicAmiCatalog } from './ec2';
import type { Ec2Fleet, SimInstance } from './fleet';
import { badRequest, clientError, lookupOperation, operation, requiredWith } from './shared';
import type { OperationTable, Out } from './shared';

/** Lists instances, so SendCommand can resolve tag targets. */
export interface InstanceDirectory {
  listInstances(): SimInstance[];
}

export interface SsmSimOptions {
  /** Public AMI parameters; defaults to the fleet when it offers `publicAmiParameter`. */
  amis?: PublicAmiCatalog;
  /** Instance listing for tag targets; defaults to the fleet when it offers `listInstances`. */
  directory?: InstanceDirectory;
  /** Seconds from Pending to InProgress on a running instance. */
  deliverySeconds?: number;
  /** Seconds a command runs on an instance (plus jitter). */
  executionSeconds?: number;
  /** Upper bound of the seeded extra run time, in seconds. */
  executionJitterSeconds?: number;
  /**
   * How long after SendCommand GetCommandInvocation still answers InvocationDoesNotExist: AWS
   * creates invocations asynchronously, so callers must tolerate the error for a moment.
   */
  invocationVisibleAfterMs?: number;
}

/**
 * How a story or test wants commands to go on some instances: how long they run and how they end.
 * The first plan matching an invocation (every condition it gives) decides; without one, the
 * region's timings apply and the command succeeds (unless an `ssm-command-failure` fault strikes).
 * A plan whose minutes pass the command's execution timeout ends it TimedOut, as AWS would.
 */
export interface CommandPlan {
  /** Tags the instance must carry (all of them), e.g. `{ 'kiln:deployment': id }`. */
  instanceTags?: Record<string, string>;
  /** The document the command runs, e.g. `AWS-RunShellScript`. */
  documentName?: string;
  /** Text one of the command's `commands` lines contains, e.g. an install script's name. */
  commandContains?: string;
  /** Virtual minutes the command runs on the instance; the region's timing when omitted. */
  minutes?: number;
  /** How it ends: `Success` (the default) or `Failed` with exit code 1 and an error on stderr. */
  outcome?: 'Success' | 'Failed';
}

const RUN_SHELL_DOCUMENTS: Record<string, { plugin: string }> = {
  'AWS-RunShellScript': { plugin: 'aws:runShellScript' },
  'AWS-RunPowerShellScript': { plugin: 'aws:runPowerShellScript' },
};

const SHELL_PARAMETERS = ['commands', 'workingDirectory', 'executionTimeout'];

interface InvocationRecord {
  instanceId: string;
  status: CommandInvocationStatus;
  statusDetails: string;
  responseCode: number;
  startedAt?: VirtualMs;
  endedAt?: VirtualMs;
  stdout: string;
  stderr: string;
  timer?: TimerHandle;
}

interface CommandRecord {
  commandId: string;
  documentName: string;
  comment?: string;
  parameters: Record<string, string[]>;
  instanceIds: string[];
  targets?: Target[];
  requestedAt: VirtualMs;
  timeoutSeconds: number;
  executionTimeoutSeconds: number;
  expiresAt: VirtualMs;
  status: CommandStatus;
  statusDetails: string;
  invocations: Map<string, InvocationRecord>;
}

interface ParameterRecord {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModified: VirtualMs;
  history: Map<number, string>;
}

const TERMINAL: readonly CommandInvocationStatus[] = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

function validation(message: string): SSMServiceException {
  return clientError(SSMServiceException, 'ValidationException', message);
}

const required = requiredWith(
  (name) =>
    validation(
      `1 validation error detected: Value null at '${name}' failed to satisfy constraint: Member must not be null`,
    ),
  { emptyStringIsMissing: true },
);

function isPublicAmiCatalog(value: object): value is PublicAmiCatalog {
  return typeof (value as Partial<PublicAmiCatalog>).publicAmiParameter === 'function';
}

function isInstanceDirectory(value: object): value is InstanceDirectory {
  return typeof (value as Partial<InstanceDirectory>).listInstances === 'function';
}

/** A plugin has no Delayed or Cancelling state: it is still pending or running then. */
function pluginStatus(status: CommandInvocationStatus): CommandPluginStatus {
  if (status === 'Delayed') return 'Pending';
  if (status === 'Cancelling') return 'InProgress';
  return status;
}

/** ISO 8601 duration as GetCommandInvocation reports ExecutionElapsedTime, e.g. PT5.123S. */
function isoDuration(ms: number): string {
  return `PT${(ms / 1000).toFixed(3)}S`;
}

export class SsmSim implements SimService {
  readonly serviceId = 'SSM';

  private readonly commands = new Map<string, CommandRecord>();
  private readonly parameters = new Map<string, ParameterRecord>();
  private readonly amis: PublicAmiCatalog | undefined;
  private readonly directory: InstanceDirectory | undefined;
  private readonly opts: Required<Omit<SsmSimOptions, 'amis' | 'directory'>>;
  private plans: CommandPlan[] = [];

  constructor(
    private readonly ctx: SimContext,
    private readonly fleet: Ec2Fleet,
    options: SsmSimOptions = {},
  ) {
    this.amis = options.amis ?? (isPublicAmiCatalog(fleet) ? fleet : undefined);
    this.directory = options.directory ?? (isInstanceDirectory(fleet) ? fleet : undefined);
    this.opts = {
      deliverySeconds: options.deliverySeconds ?? 1,
      executionSeconds: options.executionSeconds ?? 5,
      executionJitterSeconds: options.executionJitterSeconds ?? 3,
      invocationVisibleAfterMs: options.invocationVisibleAfterMs ?? 0,
    };
    // Waiting invocations start when their instance comes up, and fail when it goes away.
    fleet.onStateChange((instance, _from, to) => this.onInstanceState(instance.instanceId, to));
  }

  /** Replaces the plans for commands that start from now on (see CommandPlan); `[]` restores the defaults. */
  planCommands(plans: readonly CommandPlan[]): void {
    for (const [index, plan] of plans.entries()) {
      if (plan.minutes !== undefined && !(Number.isFinite(plan.minutes) && plan.minutes >= 0)) {
        throw new TypeError(`command plan ${index}: minutes must be a number of minutes, 0 or more`);
      }
    }
    this.plans = plans.map((plan) => ({ ...plan }));
  }

  private planFor(command: CommandRecord, instanceId: string): CommandPlan | undefined {
    const tags = this.fleet.get(instanceId)?.tags ?? {};
    return this.plans.find(
      (plan) =>
        Object.entries(plan.instanceTags ?? {}).every(([key, value]) => tags[key] === value) &&
        (plan.documentName === undefined || plan.documentName === command.documentName) &&
        (plan.commandContains === undefined ||
          (command.parameters.commands ?? []).some((line) => line.includes(plan.commandContains ?? ''))),
    );
  }

  async handle(operation: string, input: unknown): Promise<object> {
    if (input === null || typeof input !== 'object')
      throw validation(`${operation}: the request must be an object`);
    const run = lookupOperation(this.operations, operation, (name) =>
      clientError(
        SSMServiceException,
        'InvalidAction',
        `The action ${name} is not valid for this web service.`,
      ),
    );
    return run(input);
  }

  /** Every operation the sandbox's SSM answers. */
  private readonly operations: OperationTable = {
    SendCommand: operation((input: SendCommandCommandInput) => this.sendCommand(input)),
    ListCommands: operation((input: ListCommandsCommandInput) => this.listCommands(input)),
    ListCommandInvocations: operation((input: ListCommandInvocationsCommandInput) =>
      this.listCommandInvocations(input),
    ),
    GetCommandInvocation: operation((input: GetCommandInvocationCommandInput) =>
      this.getCommandInvocation(input),
    ),
    GetParameter: operation((input: GetParameterCommandInput) => this.getParameter(input)),
    GetParameters: operation((input: GetParametersCommandInput) => this.getParameters(input)),
    PutParameter: operation((input: PutParameterCommandInput) => this.putParameter(input)),
  };

  // ---------------------------------------------------------------- Run Command

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
  sendCommand(input: SendCommandCommandInput): Out<SendCommandCommandOutput> {
    const documentName = required(input.DocumentName, 'documentName');
    const document = RUN_SHELL_DOCUMENTS[documentName];
    if (!document)
      throw new InvalidDocument({ message: `Document ${documentName} does not exist.`, ...badRequest() });
    const timeoutSeconds = input.TimeoutSeconds ?? 3600;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 30 || timeoutSeconds > 2592000) {
      throw validation(
        `1 validation error detected: Value '${timeoutSeconds}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between 30 and 2592000`,
      );
    }
    const parameters = this.shellParameters(input.Parameters);
    const executionTimeoutSeconds = Number(parameters.executionTimeout?.[0] ?? '3600');

    const hasIds = input.InstanceIds !== undefined && input.InstanceIds.length > 0;
    const hasTargets = input.Targets !== undefined && input.Targets.length > 0;
    if (hasIds === hasTargets) {
      throw validation('Exactly one of InstanceIds or Targets must be specified.');
    }
    const instanceIds = hasIds
      ? this.validInstanceIds(input.InstanceIds ?? [])
      : this.resolveTargets(input.Targets ?? []);

    const now = this.ctx.clock.now();
    const command: CommandRecord = {
      commandId: this.ctx.ids.uuid(),
      documentName,
      ...(input.Comment !== undefined ? { comment: input.Comment } : {}),
      parameters,
      instanceIds,
      ...(hasTargets && input.Targets ? { targets: input.Targets } : {}),
      requestedAt: now,
      timeoutSeconds,
      executionTimeoutSeconds,
      // The command's total timeout is the delivery timeout plus the execution timeout.
      // https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
      expiresAt: now + (timeoutSeconds + executionTimeoutSeconds) * 1000,
      status: 'Pending',
      statusDetails: 'Pending',
      invocations: new Map(),
    };
    this.commands.set(command.commandId, command);
    this.emitCommandStatus(command);
    for (const instanceId of instanceIds) {
      const invocation: InvocationRecord = {
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        responseCode: -1,
        stdout: '',
        stderr: '',
      };
      command.invocations.set(instanceId, invocation);
      this.emitInvocationStatus(command, invocation);
      if (this.fleet.get(instanceId)?.state === 'running') this.deliver(command, invocation);
    }
    // Invocations that were never delivered time out with the delivery timeout.
    this.ctx.clock.setTimeout(() => {
      for (const invocation of command.invocations.values()) {
        if (invocation.status === 'Pending' || invocation.status === 'Delayed') {
          this.finish(command, invocation, 'TimedOut', 'DeliveryTimedOut', -1);
        }
      }
    }, timeoutSeconds * 1000);
    this.updateCommandStatus(command);
    return { Command: this.renderCommand(command) };
  }

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListCommands.html
  listCommands(input: ListCommandsCommandInput): Out<ListCommandsCommandOutput> {
    let commands = [...this.commands.values()].reverse();
    if (input.CommandId !== undefined) {
      const command = this.commands.get(input.CommandId);
      if (!command)
        throw new InvalidCommandId({ message: `Command ${input.CommandId} not found.`, ...badRequest() });
      commands = [command];
    }
    if (input.InstanceId !== undefined) {
      const instanceId = input.InstanceId;
      commands = commands.filter((command) => command.invocations.has(instanceId));
    }
    for (const filter of input.Filters ?? []) {
      if (filter.key === 'Status') commands = commands.filter((command) => command.status === filter.value);
      else if (filter.key === 'DocumentName')
        commands = commands.filter((command) => command.documentName === filter.value);
      else
        throw new InvalidFilterKey({
          message: `The filter key ${String(filter.key)} is not simulated.`,
          ...badRequest(),
        });
    }
    return { Commands: commands.map((command) => this.renderCommand(command)) };
  }

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListCommandInvocations.html
  listCommandInvocations(
    input: ListCommandInvocationsCommandInput,
  ): Out<ListCommandInvocationsCommandOutput> {
    const commands =
      input.CommandId !== undefined
        ? [this.commands.get(input.CommandId)].flatMap((command) => (command ? [command] : []))
        : [...this.commands.values()].reverse();
    const CommandInvocations: CommandInvocation[] = commands.flatMap((command) =>
      [...command.invocations.values()]
        .filter((invocation) => input.InstanceId === undefined || invocation.instanceId === input.InstanceId)
        .map((invocation) => this.renderInvocation(command, invocation, input.Details === true)),
    );
    return { CommandInvocations };
  }

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html
  getCommandInvocation(input: GetCommandInvocationCommandInput): Out<GetCommandInvocationCommandOutput> {
    const commandId = required(input.CommandId, 'commandId');
    const instanceId = required(input.InstanceId, 'instanceId');
    const command = this.commands.get(commandId);
    const invocation = command?.invocations.get(instanceId);
    const visible =
      command !== undefined &&
      this.ctx.clock.now() >= command.requestedAt + this.opts.invocationVisibleAfterMs;
    if (!command || !invocation || !visible) {
      throw new InvocationDoesNotExist({ message: '', ...badRequest() });
    }
    const plugin = RUN_SHELL_DOCUMENTS[command.documentName]?.plugin ?? 'aws:runShellScript';
    if (input.PluginName !== undefined && input.PluginName !== plugin) {
      throw new InvalidPluginName({
        message: `Plugin ${input.PluginName} is not part of ${command.documentName}.`,
        ...badRequest(),
      });
    }
    const started = invocation.startedAt;
    const ended = invocation.endedAt;
    return {
      CommandId: command.commandId,
      InstanceId: instanceId,
      Comment: command.comment ?? '',
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      PluginName: plugin,
      ResponseCode: invocation.responseCode,
      ExecutionStartDateTime: started !== undefined ? new Date(started).toISOString() : '',
      ExecutionElapsedTime:
        started !== undefined ? isoDuration((ended ?? this.ctx.clock.now()) - started) : '',
      ExecutionEndDateTime: ended !== undefined && started !== undefined ? new Date(ended).toISOString() : '',
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      StandardOutputContent: invocation.stdout,
      StandardOutputUrl: '',
      StandardErrorContent: invocation.stderr,
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  // ---------------------------------------------------------------- Parameter Store

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
  putParameter(input: PutParameterCommandInput): Out<PutParameterCommandOutput> {
    const name = required(input.Name, 'name');
    const value = required(input.Value, 'value');
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
    if (/^\/?(aws|ssm)/i.test(name)) {
      throw validation(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`);
    }
    if (name.includes('/') && !name.startsWith('/')) {
      throw validation('Parameter name must be a fully qualified name.');
    }
    if (value.length > 4096)
      throw validation('Standard tier parameters support a maximum parameter value of 4096 characters.');
    // SecureString values are kept as given and handed out decrypted only with WithDecryption
    // (below); the KMS key is not modelled (AWS encrypts with alias/aws/ssm unless KeyId names one).
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html
    if (input.Type === 'SecureString' && input.KeyId !== undefined && input.KeyId !== 'alias/aws/ssm') {
      throw new UnsupportedParameterType({
        message:
          'The sandbox simulates SecureString parameters under the AWS managed key (alias/aws/ssm) only.',
        ...badRequest(),
      });
    }
    const existing = this.parameters.get(name);
    if (existing && input.Overwrite !== true) {
      throw new ParameterAlreadyExists({
        message:
          'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
        ...badRequest(),
      });
    }
    if (!existing && input.Type === undefined)
      throw validation('A parameter type is required when you create a parameter.');
    const version = (existing?.version ?? 0) + 1;
    const record: ParameterRecord = {
      name,
      type: input.Type ?? existing?.type ?? 'String',
      value,
      version,
      lastModified: this.ctx.clock.now(),
      history: new Map(existing?.history ?? []),
    };
    record.history.set(version, value);
    this.parameters.set(name, record);
    return { Version: version, Tier: 'Standard' };
  }

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
  getParameter(input: GetParameterCommandInput): Out<GetParameterCommandOutput> {
    const name = required(input.Name, 'name');
    const parameter = this.lookup(name, input.WithDecryption === true);
    if (!parameter) throw new ParameterNotFound({ message: `Parameter ${name} not found.`, ...badRequest() });
    return { Parameter: parameter };
  }

  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
  getParameters(input: GetParametersCommandInput): Out<GetParametersCommandOutput> {
    const names = required(input.Names, 'names');
    if (names.length < 1 || names.length > 10) {
      throw validation(
        `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10`,
      );
    }
    const Parameters: Parameter[] = [];
    const InvalidParameters: string[] = [];
    for (const name of names) {
      const parameter = this.lookup(name, input.WithDecryption === true);
      if (parameter) Parameters.push(parameter);
      else InvalidParameters.push(name);
    }
    return { Parameters, InvalidParameters };
  }

  // ---------------------------------------------------------------- internals: commands

  private shellParameters(given: Record<string, string[]> | undefined): Record<string, string[]> {
    const parameters: Record<string, string[]> = { ...given };
    for (const key of Object.keys(parameters)) {
      if (!SHELL_PARAMETERS.includes(key)) {
        throw new InvalidParameters({
          message: `Parameter "${key}" is not defined in the document.`,
          ...badRequest(),
        });
      }
    }
    if (!parameters.commands || parameters.commands.length === 0) {
      throw new InvalidParameters({ message: 'Parameter "commands" is required.', ...badRequest() });
    }
    // The document's default, which AWS also reports back in the command and its events.
    parameters.executionTimeout ??= ['3600'];
    const timeout = Number(parameters.executionTimeout[0]);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 172800) {
      throw new InvalidParameters({
        message: 'Parameter "executionTimeout" must be between 1 and 172800.',
        ...badRequest(),
      });
    }
    return parameters;
  }

  /**
   * Valid node states are running, pending, stopped and stopping; shutting-down and terminated are not.
   * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html (InvalidInstanceId)
   */
  private validInstanceIds(ids: string[]): string[] {
    if (ids.length > 50) throw validation('Member must have length less than or equal to 50 at instanceIds');
    const invalid = ids.filter((id) => {
      const state = this.fleet.get(id)?.state;
      return state === undefined || state === 'shutting-down' || state === 'terminated';
    });
    if (invalid.length > 0) {
      throw new InvalidInstanceId({
        message: `Instances [[${invalid.join(', ')}]] not in a valid state for account ${this.ctx.accountId}`,
        ...badRequest(),
      });
    }
    return [...new Set(ids)];
  }

  // https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-multiple.html
  private resolveTargets(targets: Target[]): string[] {
    let ids: string[] | undefined;
    for (const target of targets) {
      const key = required(target.Key, 'targets.key');
      const values = target.Values ?? [];
      let matched: string[];
      if (key === 'InstanceIds') {
        matched = values.filter((id) => {
          const state = this.fleet.get(id)?.state;
          return state !== undefined && state !== 'shutting-down' && state !== 'terminated';
        });
      } else if (key.startsWith('tag:') || key === 'tag-key') {
        if (!this.directory) throw validation('Tag targets need an instance directory in the sandbox.');
        matched = this.directory
          .listInstances()
          .filter((instance) => instance.state !== 'shutting-down' && instance.state !== 'terminated')
          .filter((instance) =>
            key === 'tag-key'
              ? values.some((value) => value in instance.tags)
              : values.includes(instance.tags[key.slice(4)] ?? '\u0000'),
          )
          .map((instance) => instance.instanceId);
      } else {
        throw validation(`Target key ${key} is not supported: use InstanceIds, tag:<key> or tag-key.`);
      }
      // Several targets narrow the set: an instance must match all of them.
      ids = ids === undefined ? matched : ids.filter((id) => matched.includes(id));
    }
    return ids ?? [];
  }

  private deliver(command: CommandRecord, invocation: InvocationRecord): void {
    if (invocation.timer || invocation.status !== 'Pending') return;
    invocation.timer = this.ctx.clock.setTimeout(() => {
      delete invocation.timer;
      if (invocation.status !== 'Pending') return;
      invocation.status = 'InProgress';
      invocation.statusDetails = 'InProgress';
      invocation.startedAt = this.ctx.clock.now();
      this.emitInvocationStatus(command, invocation);
      this.updateCommandStatus(command);
      const plan = this.planFor(command, invocation.instanceId);
      const runMs =
        plan?.minutes !== undefined
          ? plan.minutes * 60_000
          : this.opts.executionSeconds * 1000 + this.ctx.rng.int(0, this.opts.executionJitterSeconds * 1000);
      const limitMs = command.executionTimeoutSeconds * 1000;
      invocation.timer = this.ctx.clock.setTimeout(
        () => {
          delete invocation.timer;
          if (invocation.status !== 'InProgress') return;
          if (runMs > limitMs) {
            this.finish(command, invocation, 'TimedOut', 'ExecutionTimedOut', -1);
          } else if (this.fleet.get(invocation.instanceId)?.state !== 'running') {
            this.finish(command, invocation, 'Failed', 'Failed', -1);
          } else if (
            plan?.outcome === 'Failed' ||
            this.ctx.faults.should('ssm-command-failure', invocation.instanceId)
          ) {
            invocation.stderr = 'failed to run commands: exit status 1';
            this.finish(command, invocation, 'Failed', 'Failed', 1);
          } else {
            this.finish(command, invocation, 'Success', 'Success', 0);
          }
        },
        Math.min(runMs, limitMs),
      );
    }, this.opts.deliverySeconds * 1000);
  }

  private onInstanceState(instanceId: string, to: SimInstance['state']): void {
    for (const command of this.commands.values()) {
      const invocation = command.invocations.get(instanceId);
      if (!invocation || TERMINAL.includes(invocation.status)) continue;
      if (to === 'running') {
        this.deliver(command, invocation);
      } else if (to === 'shutting-down' || to === 'terminated') {
        // The node is gone: a waiting command cannot be delivered, a running one dies with it.
        // https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
        if (invocation.status === 'InProgress') this.finish(command, invocation, 'Failed', 'Failed', -1);
        else this.finish(command, invocation, 'Failed', 'Undeliverable', -1);
      } else if (to === 'stopping' && invocation.status === 'InProgress') {
        this.finish(command, invocation, 'Failed', 'Failed', -1);
      }
    }
  }

  private finish(
    command: CommandRecord,
    invocation: InvocationRecord,
    status: CommandInvocationStatus,
    details: string,
    responseCode: number,
  ): void {
    if (TERMINAL.includes(invocation.status)) return;
    if (invocation.timer) {
      this.ctx.clock.clearTimeout(invocation.timer);
      delete invocation.timer;
    }
    invocation.status = status;
    invocation.statusDetails = details;
    invocation.responseCode = responseCode;
    if (invocation.startedAt !== undefined) invocation.endedAt = this.ctx.clock.now();
    this.emitInvocationStatus(command, invocation);
    this.updateCommandStatus(command);
  }

  /**
   * The command's status aggregates its invocations': in flight while any is, else Success when all
   * succeeded, Failed when any failed, TimedOut when any execution timed out; only delivery
   * timeouts give TimedOut (all) or Incomplete (some).
   * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
   */
  private updateCommandStatus(command: CommandRecord): void {
    const invocations = [...command.invocations.values()];
    let status: CommandStatus;
    let details: string;
    if (invocations.some((i) => !TERMINAL.includes(i.status))) {
      const started = invocations.some((i) => i.status !== 'Pending');
      status = started ? 'InProgress' : 'Pending';
      details = status;
    } else if (invocations.every((i) => i.status === 'Success')) {
      status = 'Success';
      details = 'Success';
    } else if (invocations.some((i) => i.status === 'Failed')) {
      status = 'Failed';
      details = 'Failed';
    } else if (invocations.some((i) => i.statusDetails === 'ExecutionTimedOut')) {
      status = 'TimedOut';
      details = 'ExecutionTimedOut';
    } else if (invocations.every((i) => i.statusDetails === 'DeliveryTimedOut')) {
      status = 'TimedOut';
      details = 'DeliveryTimedOut';
    } else {
      status = 'Failed';
      details = 'Incomplete';
    }
    if (status === command.status && details === command.statusDetails) return;
    const from = command.status;
    command.status = status;
    command.statusDetails = details;
    this.ctx.timeline.record({ kind: 'state', resource: command.commandId, from, to: status });
    this.emitCommandStatus(command);
  }

  // https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
  private emitCommandStatus(command: CommandRecord): void {
    this.ctx.emit({
      source: 'aws.ssm',
      detailType: 'EC2 Command Status-change Notification',
      resources: command.instanceIds.map((id) => this.instanceArn(id)),
      detail: {
        'command-id': command.commandId,
        'document-name': command.documentName,
        'expire-after': new Date(command.expiresAt).toISOString(),
        parameters: structuredClone(command.parameters),
        'requested-date-time': new Date(command.requestedAt).toISOString(),
        status: command.status,
      },
    });
  }

  // https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
  private emitInvocationStatus(command: CommandRecord, invocation: InvocationRecord): void {
    if (invocation.status !== 'Pending') {
      this.ctx.timeline.record({
        kind: 'state',
        resource: `${command.commandId}/${invocation.instanceId}`,
        from: null,
        to: invocation.status,
      });
    }
    this.ctx.emit({
      source: 'aws.ssm',
      detailType: 'EC2 Command Invocation Status-change Notification',
      resources: [this.instanceArn(invocation.instanceId)],
      detail: {
        'command-id': command.commandId,
        'document-name': command.documentName,
        'instance-id': invocation.instanceId,
        'requested-date-time': new Date(command.requestedAt).toISOString(),
        status: invocation.status,
      },
    });
  }

  private instanceArn(instanceId: string): string {
    return `arn:aws:ec2:${this.ctx.region}:${this.ctx.accountId}:instance/${instanceId}`;
  }

  private renderCommand(command: CommandRecord): Command {
    const invocations = [...command.invocations.values()];
    return {
      CommandId: command.commandId,
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      Comment: command.comment ?? '',
      ExpiresAfter: new Date(command.expiresAt),
      Parameters: structuredClone(command.parameters),
      InstanceIds: command.targets ? [] : [...command.instanceIds],
      Targets: command.targets ? structuredClone(command.targets) : [],
      RequestedDateTime: new Date(command.requestedAt),
      Status: command.status,
      StatusDetails: command.statusDetails,
      MaxConcurrency: '50',
      MaxErrors: '0',
      TargetCount: invocations.length,
      CompletedCount: invocations.filter((i) => TERMINAL.includes(i.status)).length,
      ErrorCount: invocations.filter((i) => i.status === 'Failed' || i.statusDetails === 'ExecutionTimedOut')
        .length,
      DeliveryTimedOutCount: invocations.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
      TimeoutSeconds: command.timeoutSeconds,
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  private renderInvocation(
    command: CommandRecord,
    invocation: InvocationRecord,
    details: boolean,
  ): CommandInvocation {
    const plugin = RUN_SHELL_DOCUMENTS[command.documentName]?.plugin ?? 'aws:runShellScript';
    return {
      CommandId: command.commandId,
      InstanceId: invocation.instanceId,
      InstanceName: '',
      Comment: command.comment ?? '',
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      RequestedDateTime: new Date(command.requestedAt),
      Status: invocation.status,
      StatusDetails: invocation.statusDetails,
      StandardOutputUrl: '',
      StandardErrorUrl: '',
      CommandPlugins: details
        ? [
            {
              Name: plugin,
              Status: pluginStatus(invocation.status),
              StatusDetails: invocation.statusDetails,
              ResponseCode: invocation.responseCode,
              ...(invocation.startedAt !== undefined
                ? { ResponseStartDateTime: new Date(invocation.startedAt) }
                : {}),
              ...(invocation.endedAt !== undefined
                ? { ResponseFinishDateTime: new Date(invocation.endedAt) }
                : {}),
              Output: invocation.stdout + invocation.stderr,
              StandardOutputUrl: '',
              StandardErrorUrl: '',
            },
          ]
        : [],
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    };
  }

  // ---------------------------------------------------------------- internals: parameters

  /** A parameter by name, with an optional `:version` selector; public AMI names resolve to images. */
  private lookup(nameWithSelector: string, decrypt = false): Parameter | undefined {
    const match = /^(.*?)(?::(\d+))?$/.exec(nameWithSelector);
    const name = match?.[1] ?? nameWithSelector;
    const selector = match?.[2];
    if (name.startsWith('/aws/service/')) {
      // Public parameters live in AWS's account, so their ARN has no account id.
      // https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-finding-public-parameters.html
      const imageId = this.amis?.publicAmiParameter(name);
      if (imageId === undefined) return undefined;
      return {
        Name: name,
        Type: 'String',
        Value: imageId,
        Version: 1,
        LastModifiedDate: new Date(this.ctx.clock.now()),
        ARN: `arn:aws:ssm:${this.ctx.region}::parameter${name}`,
        DataType: 'text',
      };
    }
    const record = this.parameters.get(name);
    if (!record) return undefined;
    let value = record.value;
    let version = record.version;
    if (selector !== undefined) {
      version = Number(selector);
      const old = record.history.get(version);
      if (old === undefined) {
        throw new ParameterVersionNotFound({
          message: `Systems Manager could not find version ${selector} of ${name}.`,
          ...badRequest(),
        });
      }
      value = old;
    }
    const arnName = name.startsWith('/') ? name : `/${name}`;
    // "WithDecryption: Return decrypted values for secure string parameters. This flag is ignored
    // for String and StringList parameter types." Without it a SecureString reads as its
    // ciphertext (base64); the stand-in here is a digest, so it reveals nothing of the value.
    // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
    if (record.type === 'SecureString' && !decrypt) {
      value = createHash('sha256').update(`${name}:${version}:${value}`).digest('base64');
    }
    return {
      Name: name,
      Type: record.type,
      Value: value,
      Version: version,
      ...(selector !== undefined ? { Selector: `:${selector}` } : {}),
      LastModifiedDate: new Date(record.lastModified),
      ARN: `arn:aws:ssm:${this.ctx.region}:${this.ctx.accountId}:parameter${arnName}`,
      DataType: 'text',
    };
  }
}
