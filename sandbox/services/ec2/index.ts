/**
 * The simulated EC2 service: instances (launch, stop, start, terminate), AMIs (create, copy,
 * deregister, seeded base images) and the EBS snapshots behind them, launch templates and their
 * versions, and tags.
 *
 * It answers SDK operations through `handle` and offers `Ec2Fleet` to the other simulated services.
 * State changes run on the context's virtual clock and emit EventBridge events in the shapes AWS
 * documents. Several regions are several `Ec2Sim`s that share one `Ec2Regions` registry (CopyImage
 * reads the source region's images through it).
 *
 * Each concept is a part in its own file; this one wires them and lists every operation in one table.
 */
import type {
  CopyImageCommandInput,
  CreateImageCommandInput,
  CreateLaunchTemplateCommandInput,
  CreateLaunchTemplateVersionCommandInput,
  CreateTagsCommandInput,
  DeleteLaunchTemplateCommandInput,
  DeleteTagsCommandInput,
  DeleteSnapshotCommandInput,
  DeregisterImageCommandInput,
  DescribeImagesCommandInput,
  DescribeInstancesCommandInput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplateVersionsCommandInput,
  DescribeSnapshotsCommandInput,
  DescribeTagsCommandInput,
  DisableImageDeprecationCommandInput,
  EnableImageDeprecationCommandInput,
  ModifyLaunchTemplateCommandInput,
  RunInstancesCommandInput,
  StartInstancesCommandInput,
  StopInstancesCommandInput,
  TerminateInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type { SimContext, SimService } from '../../core/context';
import type {
  AppBehaviour,
  Ec2Fleet,
  InstanceState,
  LaunchRequest,
  ResolvedLaunchTemplate,
  SimInstance,
} from '../fleet';
import { lookupOperation, operation, type OperationTable } from '../shared';
import { Images, type Ec2Regions, type ImagePlan, type PublicAmiCatalog, type SeedImageSpec } from './images';
import { Instances, type BehaviourResolver } from './instances';
import { LaunchTemplates } from './launch-templates';
import { ec2Error } from './model';
import type { Ec2Timings, SubnetSpec } from './model';
import { Snapshots } from './snapshots';
import { Ec2Store } from './store';
import { Tags } from './tags';

export { AMAZON_OWNER_ID, Ec2Regions } from './images';
export type { ImagePlan, ImageSnapshot, PublicAmiCatalog, RegionalImages, SeedImageSpec } from './images';
export { DEFAULT_APP_BEHAVIOUR } from './instances';
export type { BehaviourResolver } from './instances';
export { ec2Error } from './model';
export type { SubnetSpec } from './model';
export { wildcardMatch } from './filters';

export interface Ec2SimOptions extends Partial<Ec2Timings> {
  /** The region's subnets; defaults to one per availability zone a, b and c. */
  subnets?: SubnetSpec[];
  /** The registry of regional sims (CopyImage reads the source region through it). */
  regions?: Ec2Regions;
}

function asObject(input: unknown, operation: string): Record<string, unknown> {
  if (input === null || typeof input !== 'object') {
    throw ec2Error('InvalidParameterValue', `${operation}: the request must be an object`);
  }
  return input as Record<string, unknown>;
}

export class Ec2Sim implements SimService, Ec2Fleet, PublicAmiCatalog {
  readonly serviceId = 'EC2';

  readonly instances: Instances;
  readonly images: Images;
  readonly snapshots: Snapshots;
  readonly launchTemplates: LaunchTemplates;
  readonly tags: Tags;
  private readonly operations: OperationTable;

  constructor(
    private readonly ctx: SimContext,
    options: Ec2SimOptions = {},
  ) {
    const store = new Ec2Store();
    this.instances = new Instances(
      ctx,
      store,
      {
        bootSeconds: options.bootSeconds ?? 30,
        bootJitterSeconds: options.bootJitterSeconds ?? 10,
        stopSeconds: options.stopSeconds ?? 20,
        shutdownSeconds: options.shutdownSeconds ?? 15,
        // "Terminated instances remain visible … for a short while (about an hour)".
        // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html
        terminatedVisibleSeconds: options.terminatedVisibleSeconds ?? 3600,
      },
      options.subnets,
    );
    this.snapshots = new Snapshots(ctx, store);
    this.images = new Images(
      ctx,
      store,
      {
        imageCreateSeconds: options.imageCreateSeconds ?? 300,
        imageCopySeconds: options.imageCopySeconds ?? 600,
      },
      options.regions,
      this.snapshots,
    );
    this.launchTemplates = new LaunchTemplates(ctx, store);
    this.tags = new Tags(ctx, store);
    options.regions?.register(this.images);
    this.operations = operationsOf(this);
  }

  get region(): string {
    return this.ctx.region;
  }

  async handle(operation: string, input: unknown): Promise<object> {
    const request = asObject(input, operation);
    if (request.DryRun === true) {
      // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (DryRunOperation)
      throw ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
    }
    const run = lookupOperation(this.operations, operation, (name) =>
      ec2Error('InvalidAction', `The action ${name} is not valid for this web service.`),
    );
    return run(input);
  }

  // ---------------------------------------------------------------- the region's set-up

  /** The region's subnets (Auto Scaling groups must name these). */
  subnets(): readonly SubnetSpec[] {
    return this.instances.subnets();
  }

  addSubnet(spec: SubnetSpec): SubnetSpec {
    return this.instances.addSubnet(spec);
  }

  setBehaviourResolver(resolver: BehaviourResolver): void {
    this.instances.setBehaviourResolver(resolver);
  }

  /** Adds a base image (e.g. Amazon Linux) that exists from the start, available at once. */
  seedImage(spec: SeedImageSpec): string {
    return this.images.seedImage(spec);
  }

  /**
   * How images made from now on in this region go: minutes pending and outcome, by name and
   * operation (see ImagePlan); `[]` restores the defaults.
   */
  planImages(plans: readonly ImagePlan[]): void {
    this.images.planImages(plans);
  }

  // ---------------------------------------------------------------- for SSM

  publicAmiParameter(name: string): string | undefined {
    return this.images.publicAmiParameter(name);
  }

  /** Every instance still visible (terminated ones for about an hour), for SSM tag targets. */
  listInstances(): SimInstance[] {
    return this.instances.listInstances();
  }

  // ---------------------------------------------------------------- Ec2Fleet

  resolveLaunchTemplate(ref: {
    launchTemplateId?: string;
    launchTemplateName?: string;
    version?: string;
  }): ResolvedLaunchTemplate {
    return this.launchTemplates.resolveLaunchTemplate(ref);
  }

  launch(request: LaunchRequest): SimInstance {
    return this.instances.launch(request);
  }

  terminate(instanceId: string): void {
    this.instances.terminate(instanceId);
  }

  get(instanceId: string): SimInstance | undefined {
    return this.instances.get(instanceId);
  }

  /** Ids of the visible instances tagged `key` = `value` (a watcher's read: nothing is copied). */
  idsTagged(key: string, value: string): string[] {
    return this.instances.idsTagged(key, value);
  }

  /**
   * The image an instance was launched from, with its tags as they were then (`kiln:version` tells
   * which release it runs). For observers (sandbox/observe/): no API call, nothing recorded.
   */
  launchImageOf(
    instanceId: string,
  ): { imageId: string; name: string; tags: Readonly<Record<string, string>> } | undefined {
    return this.instances.launchImage(instanceId);
  }

  stateOf(instanceId: string): InstanceState | undefined {
    return this.instances.stateOf(instanceId);
  }

  instancesVersion(): number {
    return this.instances.version();
  }

  onStateChange(
    listener: (instance: SimInstance, from: InstanceState | null, to: InstanceState) => void,
  ): void {
    this.instances.onStateChange(listener);
  }

  appHealth(instanceId: string): 'healthy' | 'unhealthy' | 'starting' | 'down' {
    return this.instances.appHealth(instanceId);
  }

  behaviourOf(instanceId: string): AppBehaviour {
    return this.instances.behaviourOf(instanceId);
  }
}

/** Every operation the sandbox's EC2 answers, by the part that owns it. */
function operationsOf(ec2: Ec2Sim): OperationTable {
  const { instances, images, snapshots, launchTemplates, tags } = ec2;
  return {
    RunInstances: operation((input: RunInstancesCommandInput) => instances.runInstances(input)),
    DescribeInstances: operation((input: DescribeInstancesCommandInput) =>
      instances.describeInstances(input),
    ),
    StopInstances: operation((input: StopInstancesCommandInput) => instances.stopInstances(input)),
    StartInstances: operation((input: StartInstancesCommandInput) => instances.startInstances(input)),
    TerminateInstances: operation((input: TerminateInstancesCommandInput) =>
      instances.terminateInstances(input),
    ),

    CreateImage: operation((input: CreateImageCommandInput) => images.createImage(input)),
    CopyImage: operation((input: CopyImageCommandInput) => images.copyImage(input)),
    DescribeImages: operation((input: DescribeImagesCommandInput) => images.describeImages(input)),
    DeregisterImage: operation((input: DeregisterImageCommandInput) => images.deregisterImage(input)),
    EnableImageDeprecation: operation((input: EnableImageDeprecationCommandInput) =>
      images.enableImageDeprecation(input),
    ),
    DisableImageDeprecation: operation((input: DisableImageDeprecationCommandInput) =>
      images.disableImageDeprecation(input),
    ),

    DescribeSnapshots: operation((input: DescribeSnapshotsCommandInput) =>
      snapshots.describeSnapshots(input),
    ),
    DeleteSnapshot: operation((input: DeleteSnapshotCommandInput) => snapshots.deleteSnapshot(input)),

    CreateTags: operation((input: CreateTagsCommandInput) => tags.createTags(input)),
    DeleteTags: operation((input: DeleteTagsCommandInput) => tags.deleteTags(input)),
    DescribeTags: operation((input: DescribeTagsCommandInput) => tags.describeTags(input)),

    CreateLaunchTemplate: operation((input: CreateLaunchTemplateCommandInput) =>
      launchTemplates.createLaunchTemplate(input),
    ),
    CreateLaunchTemplateVersion: operation((input: CreateLaunchTemplateVersionCommandInput) =>
      launchTemplates.createLaunchTemplateVersion(input),
    ),
    ModifyLaunchTemplate: operation((input: ModifyLaunchTemplateCommandInput) =>
      launchTemplates.modifyLaunchTemplate(input),
    ),
    DescribeLaunchTemplates: operation((input: DescribeLaunchTemplatesCommandInput) =>
      launchTemplates.describeLaunchTemplates(input),
    ),
    DescribeLaunchTemplateVersions: operation((input: DescribeLaunchTemplateVersionsCommandInput) =>
      launchTemplates.describeLaunchTemplateVersions(input),
    ),
    DeleteLaunchTemplate: operation((input: DeleteLaunchTemplateCommandInput) =>
      launchTemplates.deleteLaunchTemplate(input),
    ),
  };
}
