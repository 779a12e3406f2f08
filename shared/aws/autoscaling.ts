/**
 * The Auto Scaling adapter of the rollout (AutoScalingPort, shared/usecases/rollout/deps.ts).
 *
 * CONTRACT STUB: the adapters helper implements every method.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type {
  AutoScalingPort,
  Capacity,
  GroupDescription,
  GroupSpec,
  LaunchTemplateVersionRef,
  LifecycleHookSpec,
  RefreshPreferences,
  RefreshStatus,
  ScalingPolicySpec,
} from '../usecases/rollout/deps';

const notYet = (name: string): never => {
  throw new Error(`AutoScaling.${name} is not implemented yet`);
};

export class AutoScalingGroups implements AutoScalingPort {
  constructor(readonly client: AutoScalingClient) {}
  describeGroup(_name: string): Promise<GroupDescription | undefined> {
    return notYet('describeGroup');
  }
  findGroupsByTags(_tags: Record<string, string>): Promise<GroupDescription[]> {
    return notYet('findGroupsByTags');
  }
  createGroup(_spec: GroupSpec): Promise<'created' | 'already-exists'> {
    return notYet('createGroup');
  }
  deleteGroup(_name: string): Promise<'deleted' | 'already-gone'> {
    return notYet('deleteGroup');
  }
  updateGroup(
    _name: string,
    _change: { launchTemplate?: LaunchTemplateVersionRef; capacity?: Capacity },
  ): Promise<void> {
    return notYet('updateGroup');
  }
  suspendProcesses(_name: string, _processes: readonly string[]): Promise<void> {
    return notYet('suspendProcesses');
  }
  resumeProcesses(_name: string, _processes: readonly string[]): Promise<void> {
    return notYet('resumeProcesses');
  }
  attachTargetGroups(_name: string, _arns: readonly string[]): Promise<void> {
    return notYet('attachTargetGroups');
  }
  detachTargetGroups(_name: string, _arns: readonly string[]): Promise<void> {
    return notYet('detachTargetGroups');
  }
  lifecycleHooks(_name: string): Promise<LifecycleHookSpec[]> {
    return notYet('lifecycleHooks');
  }
  tagGroup(_name: string, _tags: Record<string, string>): Promise<void> {
    return notYet('tagGroup');
  }
  scalingPolicies(_name: string): Promise<ScalingPolicySpec[]> {
    return notYet('scalingPolicies');
  }
  putScalingPolicy(_name: string, _policy: ScalingPolicySpec): Promise<void> {
    return notYet('putScalingPolicy');
  }
  startRefresh(_input: {
    group: string;
    launchTemplate: LaunchTemplateVersionRef;
    preferences: RefreshPreferences;
  }): Promise<{ refreshId: string; outcome: 'started' | 'already-started' }> {
    return notYet('startRefresh');
  }
  describeRefresh(_group: string, _refreshId: string): Promise<RefreshStatus | undefined> {
    return notYet('describeRefresh');
  }
  activeRefresh(_group: string): Promise<RefreshStatus | undefined> {
    return notYet('activeRefresh');
  }
  rollbackRefresh(_group: string): Promise<{ refreshId: string } | 'none'> {
    return notYet('rollbackRefresh');
  }
}
