/**
 * What the stories that bake share: the platform's base image, a manifest bake section that fits
 * the sandbox, CI's artifact upload, following Kiln's deployment record, and the accounting the
 * bake checks read — builders launched and terminated (from the timeline and EC2), and the images
 * and snapshots left in each Region (from EC2, through the story's own SDK clients).
 */
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { BUILDER_ROLE, TAG } from '../../shared/domain/bake';
import type { DeployExecutionInput } from '../../shared/domain/deploy-execution';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import { newDeploymentId } from '../../shared/runtime/ids';
import { KilnStore, type Deployment } from '../../shared/store';
import type { FaultKind } from '../core/context';
import type { SandboxClients } from '../core/sdk';
import type { Region } from '../region';
import { required, sleep } from './fleet';
import { StoryDeadlineError } from './steps';

/** Amazon's public parameter for the newest Amazon Linux 2023 AMI, as the manifests name it. */
export const BASE_IMAGE_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
export const ARTIFACT_BUCKET = 'acme-artifacts-123456789012';
/** The second Region the bake stories copy their AMI to. */
export const COPY_REGION = 'us-west-2';
/** The caller the timeline names for Kiln's bake steps (the `bakeSteps` function). */
const BAKE_CALLER = 'fn:bakeSteps';
/** Security group and instance profile of the builder (the sandbox models neither; the fleets use the group). */
const BUILDER_SECURITY_GROUP = 'sg-0123456789abcdef0';

/** Amazon's base image, published under its public SSM parameter, as in every AWS Region. */
export function seedBaseImage(region: Region): string {
  return region.ec2.seedImage({
    name: 'al2023-ami-2023.6.20260101.0-kernel-6.1-x86_64',
    ownerAlias: 'amazon',
    publicParameter: BASE_IMAGE_PARAMETER,
  });
}

export interface BakeSectionOptions {
  service: string;
  /** The install commands (default: unpack the artifact and enable the service's unit). */
  commands?: string[];
  copyToRegions?: string[];
  timeoutMinutes?: number;
}

/**
 * A manifest's `bake` section that runs in the sandbox: the base image by its SSM parameter, the
 * region's first subnet, the fleets' security group, install commands that use the artifact.
 */
export function bakeSection(region: Region, options: BakeSectionOptions): Record<string, unknown> {
  const { service } = options;
  return {
    region: region.engine.context.region,
    baseImage: { ssmParameter: BASE_IMAGE_PARAMETER },
    instanceType: 'c7i.large',
    subnetId: required(region.ec2.subnets()[0], 'subnet').subnetId,
    securityGroupIds: [BUILDER_SECURITY_GROUP],
    instanceProfile: `kiln-bake-${service}`,
    install: {
      commands: options.commands ?? [
        `mkdir -p /opt/${service} && tar -xzf "$KILN_ARTIFACT_PATH" -C /opt/${service}`,
        `systemctl enable ${service}.service`,
      ],
    },
    copyToRegions: options.copyToRegions ?? [COPY_REGION],
    ...(options.timeoutMinutes === undefined ? {} : { timeoutMinutes: options.timeoutMinutes }),
  };
}

/** Kiln's store as the CLI reaches it (an operator's retries). */
export function operatorStore(region: Region): KilnStore<ServiceManifest> {
  return new KilnStore<ServiceManifest>({
    client: region.clientsFor('kiln-cli', 'operator').doc,
    tableName: region.tableName,
    ids: region.engine.kilnIds,
  });
}

/** CI uploads `service`-`version`.tar.gz; S3 announces it on EventBridge. Same etag, same digest. */
export function uploadArtifact(
  region: Region,
  upload: { service: string; version: string; etag: string },
): { key: string; uri: string } {
  const key = `${upload.service}/releases/${upload.service}-${upload.version}.tar.gz`;
  region.artifacts.putObject({ bucket: ARTIFACT_BUCKET, key, size: 48_213_004, etag: upload.etag });
  return { key, uri: `s3://${ARTIFACT_BUCKET}/${key}` };
}

/** The artifact section of a service manifest fed by uploadArtifact. */
export function s3ArtifactSection(service: string): Record<string, unknown> {
  return {
    source: { s3: { bucket: ARTIFACT_BUCKET, keyPrefix: `${service}/releases/` } },
    version: { keyPattern: `^${service}/releases/${service}-(?<version>\\d+\\.\\d+\\.\\d+)\\.tar\\.gz$` },
  };
}

/**
 * A deployment whose bake is over: its release is linked (the rollout goes on from there), or it
 * ended without one (the bake failed or was stopped).
 */
export function bakeSettled(deployment: Deployment): boolean {
  return (
    deployment.release !== undefined || deployment.status === 'failed' || deployment.status === 'aborted'
  );
}

/**
 * The service's deployments of `version` (Kiln's records), polled every 10 virtual seconds until
 * `done` holds or `deadlineSeconds` pass; past the deadline, what there is (the check says why).
 */
export async function followDeployments(
  store: KilnStore<ServiceManifest>,
  service: string,
  version: string,
  done: (deployments: Deployment[]) => boolean,
  deadlineSeconds: number,
): Promise<{ deployments: Deployment[]; settled: boolean }> {
  let deployments: Deployment[] = [];
  for (let waited = 0; waited <= deadlineSeconds; waited += 10) {
    deployments = (await store.listDeployments(service, {})).items.filter(
      (d) => d.releaseVersion === version,
    );
    if (done(deployments)) return { deployments, settled: true };
    await sleep(10);
  }
  return { deployments, settled: false };
}

/**
 * The operator re-runs a deployment of an artifact Kiln recorded: a new deployment id from Kiln's
 * id source (execution names are unique for 90 days, so the first deployment's name cannot be used
 * again), the deployment record, then StartExecution of the deploy state machine under that name —
 * what `kiln deploy` and the chat `deploy` command will do (not built yet).
 */
export async function rerunDeployment(
  region: Region,
  store: KilnStore<ServiceManifest>,
  artifact: { service: string; version: string; uri: string; digest: string },
  reason: string,
): Promise<string> {
  const service = required(await store.getService(artifact.service), `service ${artifact.service}`);
  const id = newDeploymentId(region.engine.kilnIds, () => Date.now());
  const machine = required(region.stateMachineArns.get('DeployStateMachine'), 'deploy state machine');
  await store.createDeployment({
    id,
    service: artifact.service,
    releaseVersion: artifact.version,
    environments: service.manifest.environments.map((e) => e.name),
    trigger: 'cli',
    actor: 'kiln-cli:platform-team',
    reason,
    artifact: { uri: artifact.uri, digest: artifact.digest },
    executionArn: `${machine.replace(':stateMachine:', ':execution:')}:${id}`,
  });
  const input: DeployExecutionInput = {
    deploymentId: id,
    service: artifact.service,
    version: artifact.version,
    manifestVersion: service.version,
    artifact: { kind: 's3', uri: artifact.uri, digest: artifact.digest },
  };
  await region
    .clientsFor('kiln-cli', 'operator')
    .sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine, name: id, input: JSON.stringify(input) }),
    );
  return id;
}

/** What the bakes of one service did with builders, from the timeline and EC2. */
export interface BuilderAccount {
  /** Successful RunInstances calls of Kiln's bake steps. */
  runInstances: number;
  /** Successful TerminateInstances calls of Kiln's bake steps. */
  terminateCalls: number;
  /** Every builder Kiln launched (tagged kiln:role=builder), with its state now. */
  builders: Array<{ instanceId: string; state: string; deploymentId: string }>;
}

export async function builderAccount(region: Region, aws: SandboxClients): Promise<BuilderAccount> {
  const calls = (operation: string) =>
    region.engine.timeline.entries.filter(
      (e) => e.kind === 'api' && e.caller === BAKE_CALLER && e.operation === operation && e.ok,
    ).length;
  const described = await aws.ec2.send(
    new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.role}`, Values: [BUILDER_ROLE] }] }),
  );
  const builders = (described.Reservations ?? []).flatMap((r) =>
    (r.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? '?',
      state: i.State?.Name ?? '?',
      deploymentId: i.Tags?.find((t) => t.Key === TAG.deployment)?.Value ?? '?',
    })),
  );
  return { runInstances: calls('RunInstances'), terminateCalls: calls('TerminateInstances'), builders };
}

/** A builder Kiln has let go of: terminated, or on its way. */
export function builderGone(builder: { state: string }): boolean {
  return builder.state === 'terminated' || builder.state === 'shutting-down';
}

/** "1 RunInstances, builder i-… terminated" or what went wrong. */
export function describeBuilders(account: BuilderAccount): string {
  const states = account.builders.map((b) => `${b.instanceId} ${b.state}`).join(', ') || 'no builder';
  return `${account.runInstances} RunInstances, ${account.terminateCalls} TerminateInstances: ${states}`;
}

/** Every builder launched was terminated by Kiln (a TerminateInstances for each). */
export function everyBuilderTerminated(account: BuilderAccount): boolean {
  return (
    account.builders.every(builderGone) &&
    account.terminateCalls >= account.builders.length &&
    account.builders.length === account.runInstances
  );
}

/**
 * The account's own images of a service per Region (`id:state`), with their lineage tags, and the
 * account's own snapshots that no such image uses (left behind by a clean-up that missed them).
 */
export interface ImageAccount {
  images: Record<string, string[]>;
  tags: Record<string, Record<string, string>>;
  straySnapshots: Record<string, string[]>;
}

export async function imageAccount(
  region: Region,
  service: string,
  regions: readonly string[],
): Promise<ImageAccount> {
  const result: ImageAccount = { images: {}, tags: {}, straySnapshots: {} };
  for (const name of regions) {
    const { ec2 } =
      name === region.engine.context.region
        ? region.clientsFor('story:checks', 'operator')
        : region.engine.clientsFor('story:checks', { region: name, retryMode: 'adaptive', maxAttempts: 10 });
    const images =
      (
        await ec2.send(
          new DescribeImagesCommand({
            Owners: ['self'],
            Filters: [{ Name: `tag:${TAG.service}`, Values: [service] }],
          }),
        )
      ).Images ?? [];
    result.images[name] = images.map((i) => `${i.ImageId}:${i.State}`).sort();
    const used = new Set<string>();
    for (const image of images) {
      result.tags[image.ImageId ?? '?'] = Object.fromEntries(
        (image.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']),
      );
      for (const device of image.BlockDeviceMappings ?? []) {
        if (device.Ebs?.SnapshotId !== undefined) used.add(device.Ebs.SnapshotId);
      }
    }
    const snapshots = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? [];
    result.straySnapshots[name] = snapshots
      .map((s) => s.SnapshotId ?? '?')
      .filter((id) => !used.has(id))
      .sort();
  }
  return result;
}

export function describeImages(account: ImageAccount): string {
  return Object.entries(account.images)
    .map(([name, images]) => {
      const stray = account.straySnapshots[name] ?? [];
      return (
        `${name}: ${images.length === 0 ? 'no image' : images.join(' ')}` +
        (stray.length === 0 ? '' : `, stray snapshots ${stray.join(' ')}`)
      );
    })
    .join('; ');
}

/** No image of the service and no stray snapshot in any Region. */
export function nothingLeft(account: ImageAccount): boolean {
  return (
    Object.values(account.images).every((images) => images.length === 0) &&
    Object.values(account.straySnapshots).every((stray) => stray.length === 0)
  );
}

/**
 * The injected faults of `kinds` that struck, as ` (injected rule, …)`, to name in a failed check;
 * '' when none did.
 */
export function injected(region: Region, kinds: readonly FaultKind[]): string {
  const rules = region.engine.faults
    .struck()
    .filter((s) => kinds.includes(s.kind))
    .map((s) => s.rule);
  return rules.length > 0 ? ` (injected ${rules.join(', ')})` : '';
}

/** Every fault kind that can keep a bake from finishing in a chaos run. */
export const BAKE_FAULTS: readonly FaultKind[] = [
  'event-loss',
  'handler-crash',
  'api-5xx',
  'throttle',
  'create-image-failure',
  'ssm-command-failure',
];

/** Throws the story's deadline error (a failed check named after the step) with what was seen. */
export function deadline(what: string, seen: string): never {
  throw new StoryDeadlineError(`${what}; last seen: ${seen}`);
}
