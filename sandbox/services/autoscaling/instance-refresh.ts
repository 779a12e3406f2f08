/**
 * Instance refresh: replaces a group's instances in batches bounded by MinHealthyPercentage and
 * MaxHealthyPercentage, waits for warmup, pauses at checkpoints, bakes, fails on alarms or after an
 * hour without progress, and rolls back. The batch arithmetic and preference defaults are in
 * refresh-rules.ts; the retry window and its status texts in refresh-failures.ts.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
 */
import type {
  CancelInstanceRefreshAnswer,
  CancelInstanceRefreshType,
  DescribeInstanceRefreshesAnswer,
  DescribeInstanceRefreshesType,
  InstanceRefresh,
  LaunchTemplateSpecification,
  RollbackInstanceRefreshAnswer,
  RollbackInstanceRefreshType,
  StartInstanceRefreshAnswer,
  StartInstanceRefreshType,
} from '@aws-sdk/client-auto-scaling';
import type { SimContext } from '../../core/context';
import type { ResolvedLaunchTemplate } from '../fleet';
import { irreversible, noActiveRefresh, refreshInProgress, validationError } from './errors';
import type { Group, Member, Refresh, RefreshPass, RefreshStatus } from './model';
import {
  ACTIVE_REFRESH,
  EVENT_SOURCE,
  countsTowardCapacity,
  isStandby,
  isTerminating,
  matches,
} from './model';
import type { AutoScaling, InstanceRefreshesPart } from './parts';
import type { StuckCause } from './refresh-failures';
import {
  REFRESH_RETRY_SECONDS,
  STUCK_EXAMPLE,
  failedReason,
  rollbackFailedReason,
  waitingReason,
} from './refresh-failures';
import type { ResolvedPreferences } from './refresh-rules';
import { batchPlan, capBatch, checkpointTarget, resolvePreferences } from './refresh-rules';

export class InstanceRefreshes implements InstanceRefreshesPart {
  private readonly ctx: SimContext;

  constructor(private readonly asg: AutoScaling) {
    this.ctx = asg.ctx;
  }

  // ---------------------------------------------------------------- what the other parts use

  active(group: Group): Refresh | undefined {
    return group.refreshes.find((refresh) => ACTIVE_REFRESH.includes(refresh.status));
  }

  currentPass(refresh: Refresh): RefreshPass {
    return refresh.status === 'RollbackInProgress' && refresh.rollback
      ? refresh.rollback.pass
      : refresh.forward;
  }

  /** Advances a refresh as far as it can go now; called on every tick and on every instance change. */
  step(group: Group, refresh: Refresh): void {
    if (!ACTIVE_REFRESH.includes(refresh.status) || group.deleting) return;
    // A suspended InstanceRefresh process pauses the refresh (as-suspend-resume-processes.html).
    if (group.suspended.has('InstanceRefresh')) return;
    if (refresh.status === 'Pending') this.setStatus(group, refresh, 'InProgress');
    if (refresh.status === 'InProgress' || refresh.status === 'Baking') {
      const alarm = this.checkAlarms(refresh);
      if (alarm !== undefined) {
        this.failRefresh(group, refresh, alarm);
        return;
      }
    }
    const pass = this.currentPass(refresh);
    // New arrays only when something left: progress() keeps its lookup sets while the arrays stay.
    const stays = (id: string): boolean => {
      const member = group.members.get(id);
      return member !== undefined && !isTerminating(member);
    };
    if (!pass.pending.every(stays)) pass.pending = pass.pending.filter(stays);
    const isMember = (id: string): boolean => group.members.has(id);
    if (!pass.replaced.every(isMember)) pass.replaced = pass.replaced.filter(isMember);
    const { ready, inflight, oldLeaving } = this.progress(group, refresh, pass);
    // A new instance that passed its health checks and warmed up is progress: the retry hour
    // restarts (also during a checkpoint pause, so replacements that recover there count).
    if (ready > pass.lastReady) delete pass.stuck;
    pass.lastReady = ready;
    if (this.giveUpIfStuck(group, refresh)) return;
    const now = this.ctx.clock.now();
    if (refresh.pausedUntil !== undefined) {
      if (now < refresh.pausedUntil) return;
      delete refresh.pausedUntil;
    }
    if (inflight > 0 || this.launchesOwed(group, refresh, pass)) {
      const warming = [...group.members.values()].find(
        (member) =>
          member.state === 'InService' &&
          matches(member, pass.target) &&
          !this.isReady(group, refresh, member),
      );
      refresh.statusReason = pass.stuck
        ? waitingReason(pass.stuck)
        : warming
          ? `Waiting for instances to warm up before continuing. For example: ${warming.instanceId} is warming up.`
          : 'Waiting for new instances to launch and pass health checks.';
      return;
    }
    // Launch-first batch ready: now the old instances it replaces may go.
    if (pass.deferred.length > 0) {
      const deferred = pass.deferred;
      pass.deferred = [];
      pass.surge = 0;
      this.terminateForRefresh(group, deferred, false);
      return;
    }
    if (oldLeaving > 0) return;
    if (refresh.status === 'Cancelling') {
      this.setStatus(group, refresh, 'Cancelled', 'The instance refresh was cancelled.');
      return;
    }
    if (refresh.status === 'Baking') {
      if (refresh.bakeUntil !== undefined && now >= refresh.bakeUntil) this.succeed(group, refresh);
      return;
    }
    const percent = this.percentage(ready, pass.total);
    const next = pass.checkpoints[0];
    if (next !== undefined && percent >= next) {
      // A batch can carry the group past several checkpoints; only the highest one reached is reported.
      let reached = next;
      while (pass.checkpoints[0] !== undefined && percent >= pass.checkpoints[0])
        reached = pass.checkpoints.shift() ?? reached;
      // "Amazon EC2 Auto Scaling emits events for each checkpoint, except for the 100 percent complete checkpoint."
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
      const delay = refresh.preferences.CheckpointDelay;
      const reportCheckpoint = (): void =>
        this.emitRefreshEvent(group, refresh, 'EC2 Auto Scaling Instance Refresh Checkpoint Reached', {
          CheckpointPercentage: String(reached),
          CheckpointDelay: String(delay),
        });
      if (pass.checkpoints.length === 0) {
        // So the last checkpoint of a partial refresh (e.g. 50 of [20, 50]) is reported too. AWS does
        // not say whether CheckpointDelay is then waited before Successful; the sandbox ends at once
        // (or bakes), since "the instance refresh will stop replacing instances after reaching that
        // checkpoint percentage" leaves nothing to wait for.
        if (refresh.status === 'InProgress' && reached < 100) reportCheckpoint();
        this.finishPass(group, refresh);
        return;
      }
      if (refresh.status === 'InProgress') {
        reportCheckpoint();
        refresh.statusReason = `Waiting for ${delay} seconds at checkpoint ${reached}% before continuing.`;
        refresh.pausedUntil = now + delay * 1000;
        this.ctx.clock.setTimeout(() => this.step(group, refresh), delay * 1000);
        return;
      }
    }
    if (this.settleStandby(group, refresh, pass)) return;
    if (pass.pending.length === 0) {
      this.finishPass(group, refresh);
      return;
    }
    this.startBatch(group, refresh, pass, ready);
  }

  setStatus(group: Group, refresh: Refresh, to: RefreshStatus, reason?: string): void {
    const from = refresh.status;
    if (from === to) return;
    refresh.status = to;
    if (reason !== undefined) refresh.statusReason = reason;
    if (!ACTIVE_REFRESH.includes(to)) refresh.endTime = this.ctx.clock.now();
    this.ctx.timeline.record({
      kind: 'state',
      resource: `instance-refresh:${group.name}/${refresh.id}`,
      from,
      to,
    });
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-eventbridge-events.html
    const events: Partial<Record<RefreshStatus, string>> = {
      InProgress: 'EC2 Auto Scaling Instance Refresh Started',
      Successful: 'EC2 Auto Scaling Instance Refresh Succeeded',
      Failed: 'EC2 Auto Scaling Instance Refresh Failed',
      Cancelled: 'EC2 Auto Scaling Instance Refresh Cancelled',
      RollbackInProgress: 'EC2 Auto Scaling Instance Refresh Rollback Started',
      RollbackSuccessful: 'EC2 Auto Scaling Instance Refresh Rollback Succeeded',
      RollbackFailed: 'EC2 Auto Scaling Instance Refresh Rollback Failed',
    };
    const detailType = events[to];
    if (detailType !== undefined && !(to === 'InProgress' && from !== 'Pending')) {
      this.emitRefreshEvent(group, refresh, detailType, {});
    }
  }

  noteFailure(
    group: Group,
    cause: 'launch-failures' | 'health-checks',
    member: Member | undefined,
    example: string,
  ): void {
    const refresh = this.active(group);
    if (!refresh || (refresh.status !== 'InProgress' && refresh.status !== 'RollbackInProgress')) return;
    const pass = this.currentPass(refresh);
    // Only the pass's own new instances count: an old one failing is ordinary health replacement.
    if (member && (!matches(member, pass.target) || pass.pending.includes(member.instanceId))) return;
    this.markStuck(group, refresh, pass, cause, example);
  }

  // ---------------------------------------------------------------- operations

  startRefresh(input: StartInstanceRefreshType): StartInstanceRefreshAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    if (this.active(group)) throw refreshInProgress();
    if (input.Strategy !== undefined && input.Strategy !== 'Rolling') {
      throw validationError(`Strategy: the sandbox simulates only Rolling, got ${input.Strategy}`);
    }
    const preferences = resolvePreferences(input.Preferences, {
      defaultInstanceWarmup: group.defaultInstanceWarmup,
      healthCheckGracePeriod: group.healthCheckGracePeriod,
      maintenancePolicy: group.maintenancePolicy,
    });
    const desired = input.DesiredConfiguration?.LaunchTemplate;
    if (input.DesiredConfiguration?.MixedInstancesPolicy !== undefined) {
      throw validationError('DesiredConfiguration.MixedInstancesPolicy is not simulated by the sandbox');
    }
    if (preferences.AutoRollback) this.assertReversible(group, desired);
    const target = this.asg.groups.resolveTemplate(
      desired ?? group.launchTemplate,
      desired ? 'DesiredConfiguration.LaunchTemplate' : 'LaunchTemplate',
    );
    const replace = (member: Member): boolean => {
      // SkipMatching leaves instances already on the desired template version alone.
      // https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-instance-refresh-skip-matching.html
      if (preferences.SkipMatching && matches(member, target)) return false;
      if (member.protectedFromScaleIn && preferences.ScaleInProtectedInstances === 'Ignore') return false;
      return true;
    };
    const refresh: Refresh = {
      id: this.ctx.ids.uuid(),
      status: 'Pending',
      startTime: this.ctx.clock.now(),
      preferences,
      ...(desired ? { desiredConfiguration: { ...desired } } : {}),
      forward: this.newPass(
        group,
        target,
        replace,
        preferences.CheckpointPercentages,
        preferences.StandbyInstances,
      ),
    };
    group.refreshes.unshift(refresh);
    this.ctx.timeline.record({
      kind: 'state',
      resource: `instance-refresh:${group.name}/${refresh.id}`,
      from: null,
      to: 'Pending',
    });
    this.ctx.clock.setTimeout(() => this.step(group, refresh), 0);
    this.asg.health.armTick(group);
    return { InstanceRefreshId: refresh.id };
  }

  describeRefreshes(input: DescribeInstanceRefreshesType): DescribeInstanceRefreshesAnswer {
    // Newest first. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeInstanceRefreshes.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const ids = input.InstanceRefreshIds;
    const refreshes = group.refreshes.filter(
      (refresh) => !ids || ids.length === 0 || ids.includes(refresh.id),
    );
    const pageSize = Math.min(Math.max(input.MaxRecords ?? 50, 1), 100);
    const start = input.NextToken !== undefined ? Number.parseInt(input.NextToken, 10) : 0;
    const page = refreshes.slice(start, start + pageSize);
    const next = start + pageSize < refreshes.length ? String(start + pageSize) : undefined;
    return {
      InstanceRefreshes: page.map((refresh) => this.refreshView(group, refresh)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  cancelRefresh(input: CancelInstanceRefreshType): CancelInstanceRefreshAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CancelInstanceRefresh.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const refresh = this.refreshFor(group, ['Pending', 'InProgress', 'Baking']);
    if (!refresh) throw noActiveRefresh(group.name);
    this.giveBackSurge(group, refresh);
    delete refresh.pausedUntil;
    this.setStatus(group, refresh, 'Cancelling', 'Cancelling the instance refresh.');
    this.asg.capacity.reconcile(group, 'an instance refresh was cancelled');
    this.step(group, refresh);
    return { InstanceRefreshId: refresh.id };
  }

  rollbackRefresh(input: RollbackInstanceRefreshType): RollbackInstanceRefreshAnswer {
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RollbackInstanceRefresh.html
    const group = this.asg.groups.get(input.AutoScalingGroupName);
    const refresh = this.refreshFor(group, ['Pending', 'InProgress', 'Baking']);
    if (!refresh) throw noActiveRefresh(group.name);
    this.assertReversible(group, refresh.desiredConfiguration);
    this.beginRollback(group, refresh, 'Rollback started by a user request.');
    return { InstanceRefreshId: refresh.id };
  }

  // ---------------------------------------------------------------- a refresh at work

  private startBatch(group: Group, refresh: Refresh, pass: RefreshPass, ready: number): void {
    const { MinHealthyPercentage, MaxHealthyPercentage, maxHealthySpecified } = refresh.preferences;
    const checkpoint = pass.checkpoints[0] ?? 100;
    const untilCheckpoint = checkpointTarget(checkpoint, pass.total) - ready;
    const waitsOnProtected = refresh.preferences.ScaleInProtectedInstances === 'Wait';
    const replaceable = pass.pending.filter((id) => {
      const member = group.members.get(id);
      return member !== undefined && !isStandby(member) && !(waitsOnProtected && member.protectedFromScaleIn);
    });
    if (replaceable.length === 0) {
      // Only instances it must wait for are left: "waits one hour for you to remove scale-in
      // protection" / "to return the instances to service. Otherwise, the instance refresh will fail."
      // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
      const inStandby = pass.pending.find((id) => {
        const member = group.members.get(id);
        return member !== undefined && isStandby(member);
      });
      const [cause, example] =
        inStandby !== undefined
          ? (['standby', STUCK_EXAMPLE.inStandby(inStandby)] as const)
          : (['scale-in-protected', STUCK_EXAMPLE.protectedFromScaleIn(pass.pending[0] ?? '')] as const);
      this.markStuck(group, refresh, pass, cause, example);
      if (pass.stuck) refresh.statusReason = waitingReason(pass.stuck);
      return;
    }
    // The refresh can replace again: the wait is over.
    if (pass.stuck?.cause === 'standby' || pass.stuck?.cause === 'scale-in-protected') delete pass.stuck;
    const plan = capBatch(
      batchPlan(group.desired, {
        min: MinHealthyPercentage,
        max: MaxHealthyPercentage,
        maxSpecified: maxHealthySpecified,
      }),
      Math.min(Math.max(untilCheckpoint, 1), replaceable.length),
    );
    const size = plan.launchFirst + plan.terminateFirst;
    pass.batches.push(size);
    const victims = replaceable.slice(0, size);
    pass.pending = pass.pending.filter((id) => !victims.includes(id));
    pass.replaced.push(...victims);
    refresh.statusReason = `Replacing ${size} instance(s).`;
    this.ctx.timeline.record({
      kind: 'log',
      message: `instance-refresh ${refresh.id}: batch of ${size} (${plan.launchFirst} launched first)`,
    });
    // The launch-first share goes above desired and its old instances leave once it is ready; the rest
    // terminate and relaunch together (batchPlan in refresh-rules.ts says when each applies).
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-maintenance-policy-overview-and-considerations.html
    pass.deferred = victims.slice(0, plan.launchFirst);
    pass.surge = plan.launchFirst;
    this.terminateForRefresh(group, victims.slice(plan.launchFirst), true);
    this.asg.capacity.reconcile(group, 'an instance refresh');
  }

  private terminateForRefresh(group: Group, ids: string[], deferReconcile: boolean): void {
    for (const id of ids) {
      const member = group.members.get(id);
      if (!member) continue;
      this.asg.instances.beginTerminate(
        group,
        member,
        `instance ${id} was taken out of service in response to an instance refresh`,
      );
    }
    if (!deferReconcile) this.asg.capacity.reconcile(group, 'an instance refresh');
  }

  private finishPass(group: Group, refresh: Refresh): void {
    if (refresh.status === 'RollbackInProgress') {
      this.setStatus(group, refresh, 'RollbackSuccessful', 'The rollback completed successfully.');
      this.asg.capacity.reconcile(group, 'an instance refresh rollback completed');
      return;
    }
    if (refresh.preferences.BakeTime > 0 && refresh.status === 'InProgress') {
      // Baking: wait BakeTime after the last replacement before calling it done (understand-instance-refresh-default-values.html).
      refresh.bakeUntil = this.ctx.clock.now() + refresh.preferences.BakeTime * 1000;
      this.setStatus(
        group,
        refresh,
        'Baking',
        `Waiting ${refresh.preferences.BakeTime} seconds of bake time.`,
      );
      this.ctx.clock.setTimeout(() => this.step(group, refresh), refresh.preferences.BakeTime * 1000);
      return;
    }
    this.succeed(group, refresh);
  }

  private succeed(group: Group, refresh: Refresh): void {
    // On success the group takes the desired configuration for future launches.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-overview.html
    if (refresh.desiredConfiguration) {
      group.launchTemplate = { ...refresh.desiredConfiguration };
      group.launchTemplateId = refresh.forward.target.launchTemplateId;
      group.launchTemplateName = refresh.forward.target.launchTemplateName;
    }
    this.setStatus(group, refresh, 'Successful', 'The instance refresh completed successfully.');
  }

  private failRefresh(group: Group, refresh: Refresh, reason: string): void {
    if (refresh.preferences.AutoRollback && refresh.desiredConfiguration) {
      this.beginRollback(group, refresh, reason);
      return;
    }
    this.setStatus(group, refresh, 'Failed', reason);
    this.asg.capacity.reconcile(group, 'an instance refresh failed');
  }

  /**
   * Fails a refresh, or its rollback, that has made no progress for the retry window. With
   * AutoRollback a failed refresh goes straight to RollbackInProgress (the sandbox's choice: AWS
   * does not say whether Failed shows first; the status list and the events each have their own
   * rollback entries).
   */
  private giveUpIfStuck(group: Group, refresh: Refresh): boolean {
    if (refresh.status !== 'InProgress' && refresh.status !== 'RollbackInProgress') return false;
    const stuck = this.currentPass(refresh).stuck;
    if (!stuck || this.ctx.clock.now() < stuck.since + REFRESH_RETRY_SECONDS * 1000) return false;
    if (refresh.status === 'RollbackInProgress') {
      this.setStatus(group, refresh, 'RollbackFailed', rollbackFailedReason(stuck));
      this.asg.capacity.reconcile(group, 'an instance refresh rollback failed');
    } else {
      this.failRefresh(group, refresh, failedReason(stuck));
    }
    return true;
  }

  /** Starts (or keeps running) the retry hour, and wakes the refresh when it runs out. */
  private markStuck(
    group: Group,
    refresh: Refresh,
    pass: RefreshPass,
    cause: StuckCause,
    example: string,
  ): void {
    if (pass.stuck) {
      pass.stuck = { ...pass.stuck, cause, example };
      return;
    }
    pass.stuck = { since: this.ctx.clock.now(), cause, example };
    this.ctx.clock.setTimeout(() => this.step(group, refresh), REFRESH_RETRY_SECONDS * 1000);
  }

  /**
   * Launches the group still owes (a failed launch waits for its retry): no further batch starts
   * until they are made, so a refresh whose launches fail takes no more old instances out ("If the
   * instance refresh can't launch any healthy instances, it will eventually fail, leaving the other
   * 90 percent of the group untouched", instance-refresh-overview.html).
   */
  private launchesOwed(group: Group, refresh: Refresh, pass: RefreshPass): boolean {
    if (refresh.status !== 'InProgress' && refresh.status !== 'RollbackInProgress') return false;
    let counted = 0;
    for (const member of group.members.values()) if (countsTowardCapacity(member)) counted += 1;
    return counted < group.desired + pass.surge;
  }

  /**
   * Instances in Standby that the pass still lists: Ignore forgets them, Terminate terminates them
   * without replacement (they count toward no capacity), Wait keeps them until they return.
   * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html (StandbyInstances)
   * True when instances were terminated: the refresh moves on once they have gone.
   */
  private settleStandby(group: Group, refresh: Refresh, pass: RefreshPass): boolean {
    const choice = refresh.preferences.StandbyInstances;
    if (choice === 'Wait') return false;
    const resting = pass.pending.filter((id) => {
      const member = group.members.get(id);
      return member !== undefined && isStandby(member);
    });
    if (resting.length === 0) return false;
    pass.pending = pass.pending.filter((id) => !resting.includes(id));
    if (choice === 'Ignore') return false;
    pass.replaced.push(...resting);
    this.terminateForRefresh(group, resting, false);
    return true;
  }

  private beginRollback(group: Group, refresh: Refresh, reason: string): void {
    // A rollback replaces what the refresh deployed with the group's saved configuration, ignoring checkpoints.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
    const target = this.asg.groups.resolveTemplate(group.launchTemplate, 'LaunchTemplate');
    this.giveBackSurge(group, refresh);
    delete refresh.pausedUntil;
    const pass = this.newPass(
      group,
      target,
      (member) => !matches(member, target),
      [],
      refresh.preferences.StandbyInstances,
    );
    refresh.rollback = { pass, reason, startTime: this.ctx.clock.now(), total: pass.pending.length };
    this.setStatus(group, refresh, 'RollbackInProgress', reason);
    this.asg.capacity.reconcile(group, 'an instance refresh rollback');
    this.step(group, refresh);
  }

  /**
   * Ends a launch-first batch in flight (the refresh is cancelled or rolled back): the capacity
   * above desired it launched is given back by terminating those launched-first instances, newest
   * first, not by a scale-in that may pick an instance already serving. The batch was launched first
   * so that capacity never drops below the minimum healthy percentage; a rollback keeps the same
   * preferences, so giving the surge back must not drop it either.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
   */
  private giveBackSurge(group: Group, refresh: Refresh): void {
    const pass = refresh.forward;
    const surge = pass.surge;
    pass.surge = 0;
    pass.deferred = [];
    if (surge <= 0) return;
    const launchedFirst = [...group.members.values()]
      .filter((member) => countsTowardCapacity(member) && matches(member, pass.target))
      .sort((a, b) => b.launchedAt - a.launchedAt || b.instanceId.localeCompare(a.instanceId))
      .slice(0, surge)
      .map((member) => member.instanceId);
    this.terminateForRefresh(group, launchedFirst, true);
  }

  private newPass(
    group: Group,
    target: ResolvedLaunchTemplate,
    replace: (member: Member) => boolean,
    checkpoints: number[],
    standby: ResolvedPreferences['StandbyInstances'],
  ): RefreshPass {
    // Instances in Standby are part of the pass unless ignored; those waited for count toward the
    // 100 % mark (they will be replaced once back), those terminated do not (nothing replaces them).
    const members = [...group.members.values()]
      .filter((member) => countsTowardCapacity(member) || (isStandby(member) && standby !== 'Ignore'))
      .sort((a, b) => a.launchedAt - b.launchedAt || a.instanceId.localeCompare(b.instanceId));
    return {
      target,
      pending: members.filter(replace).map((member) => member.instanceId),
      total: members.filter((member) => !(isStandby(member) && standby === 'Terminate')).length,
      lastReady: 0,
      checkpoints: checkpoints.length > 0 ? checkpoints : [100],
      surge: 0,
      deferred: [],
      replaced: [],
      batches: [],
    };
  }

  /**
   * Rollback needs a desired configuration and a numbered launch template version on the group.
   * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
   */
  private assertReversible(group: Group, desired: LaunchTemplateSpecification | undefined): void {
    const version = group.launchTemplate.Version;
    if (desired === undefined) {
      throw irreversible('A rollback is not supported: the instance refresh has no desired configuration.');
    }
    if (version === undefined || version === '$Latest' || version === '$Default') {
      throw irreversible(
        `A rollback is not supported: the Auto Scaling group uses the launch template's ${version ?? '$Default'} version.`,
      );
    }
  }

  /** Instances on the pass's target that are ready: InService, healthy and past the warmup. */
  private isReady(group: Group, refresh: Refresh, member: Member): boolean {
    if (member.state !== 'InService' || member.health !== 'Healthy' || member.inServiceAt === undefined)
      return false;
    // A replaced instance counts once "health status changes to healthy and the specified warm-up time passes".
    // https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRefresh.html (PercentageComplete)
    if (this.ctx.clock.now() < member.inServiceAt + refresh.preferences.InstanceWarmup * 1000) return false;
    if (group.healthCheckType === 'ELB') {
      return group.targetGroupArns.every((arn) => this.asg.elb.health(arn, member.instanceId) === 'healthy');
    }
    return true;
  }

  private progress(
    group: Group,
    refresh: Refresh,
    pass: RefreshPass,
  ): { ready: number; inflight: number; oldLeaving: number } {
    let ready = 0;
    let inflight = 0;
    let oldLeaving = 0;
    // Sets, not array scans: this runs on every tick and instance change, over the whole group.
    const replaced = setOf(pass.replaced);
    const pending = setOf(pass.pending);
    for (const member of group.members.values()) {
      if (replaced.has(member.instanceId)) {
        oldLeaving += 1;
        continue;
      }
      const isNew = !pending.has(member.instanceId) && matches(member, pass.target);
      if (isTerminating(member) || isStandby(member)) continue;
      if (!isNew) continue;
      if (this.isReady(group, refresh, member)) ready += 1;
      else inflight += 1;
    }
    return { ready, inflight, oldLeaving };
  }

  private percentage(ready: number, total: number): number {
    return total === 0 ? 100 : Math.min(100, Math.floor((100 * ready) / total));
  }

  private checkAlarms(refresh: Refresh): string | undefined {
    // Any alarm in ALARM fails the refresh. https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
    const firing = refresh.preferences.Alarms.filter((name) => this.asg.alarmState(name) === 'ALARM');
    return firing.length > 0
      ? `Instance refresh failed due to CloudWatch alarm(s) in ALARM state: ${firing.join(', ')}`
      : undefined;
  }

  private refreshFor(group: Group, statuses: readonly RefreshStatus[]): Refresh | undefined {
    return group.refreshes.find((refresh) => statuses.includes(refresh.status));
  }

  private emitRefreshEvent(
    group: Group,
    refresh: Refresh,
    detailType: string,
    extra: Record<string, string>,
  ): void {
    this.ctx.emit({
      source: EVENT_SOURCE,
      detailType,
      resources: [group.arn],
      detail: { InstanceRefreshId: refresh.id, AutoScalingGroupName: group.name, ...extra },
    });
  }

  private refreshView(group: Group, refresh: Refresh): InstanceRefresh {
    const forward = this.progress(group, refresh, refresh.forward);
    const percent =
      ACTIVE_REFRESH.includes(refresh.status) || refresh.status === 'Failed' || refresh.status === 'Cancelled'
        ? this.percentage(forward.ready, refresh.forward.total)
        : refresh.status === 'Successful'
          ? 100
          : this.percentage(forward.ready, refresh.forward.total);
    const toUpdate = Math.max(0, refresh.forward.total - forward.ready);
    const p = refresh.preferences;
    const rollback = refresh.rollback;
    const rollbackProgress = rollback ? this.progress(group, refresh, rollback.pass) : undefined;
    const rollbackPercent =
      rollback && rollbackProgress
        ? refresh.status === 'RollbackSuccessful'
          ? 100
          : this.percentage(rollbackProgress.ready - (rollback.pass.total - rollback.total), rollback.total)
        : 0;
    return {
      InstanceRefreshId: refresh.id,
      AutoScalingGroupName: group.name,
      Status: refresh.status,
      ...(refresh.statusReason !== undefined ? { StatusReason: refresh.statusReason } : {}),
      StartTime: new Date(refresh.startTime),
      ...(refresh.endTime !== undefined ? { EndTime: new Date(refresh.endTime) } : {}),
      PercentageComplete: refresh.status === 'Successful' ? 100 : percent,
      InstancesToUpdate: refresh.status === 'Successful' ? 0 : toUpdate,
      ProgressDetails: {
        LivePoolProgress: {
          PercentageComplete: refresh.status === 'Successful' ? 100 : percent,
          InstancesToUpdate: refresh.status === 'Successful' ? 0 : toUpdate,
        },
      },
      Preferences: {
        MinHealthyPercentage: p.MinHealthyPercentage,
        MaxHealthyPercentage: p.MaxHealthyPercentage,
        InstanceWarmup: p.InstanceWarmup,
        ...(p.CheckpointPercentages.length > 0
          ? { CheckpointPercentages: [...p.CheckpointPercentages], CheckpointDelay: p.CheckpointDelay }
          : {}),
        SkipMatching: p.SkipMatching,
        AutoRollback: p.AutoRollback,
        ScaleInProtectedInstances: p.ScaleInProtectedInstances,
        StandbyInstances: p.StandbyInstances,
        ...(p.Alarms.length > 0 ? { AlarmSpecification: { Alarms: [...p.Alarms] } } : {}),
        BakeTime: p.BakeTime,
      },
      ...(refresh.desiredConfiguration
        ? { DesiredConfiguration: { LaunchTemplate: { ...refresh.desiredConfiguration } } }
        : {}),
      ...(rollback
        ? {
            RollbackDetails: {
              RollbackReason: rollback.reason,
              RollbackStartTime: new Date(rollback.startTime),
              PercentageCompleteOnRollback: Math.max(0, rollbackPercent),
              InstancesToUpdateOnRollback:
                refresh.status === 'RollbackSuccessful' ? 0 : rollback.pass.pending.length,
            },
          }
        : {}),
      Strategy: 'Rolling',
    };
  }
}

/**
 * The ids of a pass's list as a set, rebuilt only when the list is another array or has grown
 * (lists are replaced when they lose ids and only ever grow in place): progress() runs on every
 * tick and instance change, and building two sets of the whole group each time was a tenth of a
 * 1,000-instance refresh.
 */
const idSets = new WeakMap<readonly string[], { length: number; ids: Set<string> }>();
function setOf(list: readonly string[]): Set<string> {
  const kept = idSets.get(list);
  if (kept !== undefined && kept.length === list.length) return kept.ids;
  const ids = new Set(list);
  idSets.set(list, { length: list.length, ids });
  return ids;
}
