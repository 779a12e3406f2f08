/**
 * The bake scenarios (issue 9): an artifact push becomes an AMI exactly once, copied to a second
 * Region, with nothing left behind. Each story sets up the same world — Amazon's base image under
 * its public SSM parameter, the `ledger` service's manifest applied to Kiln's store — then pushes
 * artifacts, follows Kiln's deployment records, and checks them against EC2 and the timeline:
 * exactly one `RunInstances` per actual bake, a `TerminateInstances` for every builder, and no
 * image or snapshot left where none should be.
 *
 * - `bake`: one push → a builder, the install, CreateImage, the copy to us-west-2, the release.
 * - `bake-cache`: the same artifact pushed twice and its event delivered twice → one deployment,
 *   one bake, one builder; then a re-run of the deployment reuses the recorded release (no builder).
 * - `bake-failure`: the install command fails on the builder → the deployment fails with the
 *   reason, the builder is terminated, no image or snapshot is left, no release is recorded.
 * - `bake-timeout`: EC2 takes 45 minutes over CreateImage, the bake's timeout is 15 → the
 *   deployment fails on the timeout, the builder is terminated and the pending image is kept. CI
 *   pushing the same artifact again starts nothing (the execution name, from service, version and
 *   digest, is taken for 90 days, and the deployment stays as it ended). The retry is the
 *   operator's: once EC2 has finished the image, they re-run the deployment (a new deployment id
 *   and execution name, as `kiln deploy` will); the bake cache adopts the finished image — no
 *   second builder, no name clash — copies it and records the release.
 */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { TAG } from '../../shared/domain/bake';
import { parseManifest } from '../../shared/domain/manifest/schema';
import type { Deployment, KilnStore, Release } from '../../shared/store';
import type { ServiceManifest } from '../../shared/domain/manifest/schema';
import type { SandboxClients } from '../core/sdk';
import type { Region } from '../region';
import {
  BAKE_FAULTS,
  bakeSettled,
  bakeSection,
  builderAccount,
  COPY_REGION,
  deadline,
  describeBuilders,
  describeImages,
  everyBuilderTerminated,
  followDeployments,
  imageAccount,
  injected,
  nothingLeft,
  operatorStore,
  rerunDeployment,
  s3ArtifactSection,
  seedBaseImage,
  uploadArtifact,
  type BakeSectionOptions,
  type BuilderAccount,
  type ImageAccount,
} from './bake-kit';
import { storyCatalog } from './catalog';
import { sleep } from './fleet';
import { DEFAULT_STORY_SETTINGS } from './default';
import { step } from './steps';
import type { Story, StoryCheck, StoryOptions, StoryResult } from './types';

const SERVICE = 'ledger';
const VERSION = '1.4.2';
const ETAG = '5d41402abc4b2a76b9719d911017c592';
/** A bake with the default timeout (60 min), clean-up and retries included. */
const BAKE_DEADLINE_SECONDS = 90 * 60;

interface World {
  region: Region;
  store: KilnStore<ServiceManifest>;
  aws: SandboxClients;
  home: string;
  baseAmi: string;
  print: (line: string) => void;
}

/** The base image and the service's manifest (its bake section changed by `bake`). */
async function setUp(
  region: Region,
  options: StoryOptions,
  bake: Omit<BakeSectionOptions, 'service'> = {},
): Promise<World> {
  const { print } = options;
  return step('setup', async () => {
    const baseAmi = seedBaseImage(region);
    const home = region.engine.context.region;
    const store = operatorStore(region);
    const manifest = parseManifest({
      apiVersion: 'kiln.dev/v1',
      kind: 'Service',
      name: SERVICE,
      artifact: s3ArtifactSection(SERVICE),
      bake: bakeSection(region, { service: SERVICE, copyToRegions: [COPY_REGION], ...bake }),
      environments: [
        {
          name: 'staging',
          region: home,
          autoScalingGroup: `${SERVICE}-staging`,
          strategy: options.settings.strategy,
        },
      ],
    });
    const stored = await store.putServiceManifest(manifest, { actor: 'kiln-cli:platform-team' });
    print(
      `platform: base image ${baseAmi}; kiln: services apply ${SERVICE} → manifest version ${stored.version}`,
    );
    return { region, store, aws: region.clientsFor('story:platform-team', 'operator'), home, baseAmi, print };
  });
}

/** CI pushes the artifact and the story follows the deployment until its bake settles. */
async function pushAndFollow(world: World, what: string): Promise<Deployment | undefined> {
  const { uri } = uploadArtifact(world.region, { service: SERVICE, version: VERSION, etag: ETAG });
  world.print(`ci: uploaded ${uri} (${what})`);
  return settledDeployment(world, (d) => d.trigger === 'artifact');
}

/** The first deployment of VERSION that `which` picks, once its bake has settled (or the deadline). */
async function settledDeployment(
  world: World,
  which: (d: Deployment) => boolean,
): Promise<Deployment | undefined> {
  const { deployments } = await followDeployments(
    world.store,
    SERVICE,
    VERSION,
    (found) => found.some((d) => which(d) && bakeSettled(d)),
    BAKE_DEADLINE_SECONDS,
  );
  const deployment = deployments.find(which);
  world.print(
    deployment === undefined
      ? `kiln: no deployment of ${SERVICE}@${VERSION}`
      : `kiln: deployment ${deployment.id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`,
  );
  return deployment;
}

/** What every bake story reads at the end: builders, images, the release. */
async function account(world: World): Promise<{
  builders: BuilderAccount;
  images: ImageAccount;
  release: Release | undefined;
}> {
  return step('checks', async () => ({
    builders: await builderAccount(world.region, world.aws),
    images: await imageAccount(world.region, SERVICE, [world.home, COPY_REGION]),
    release: await world.store.getRelease(SERVICE, VERSION),
  }));
}

function deploymentDetail(region: Region, deployment: Deployment | undefined): string {
  if (deployment === undefined) return `no deployment recorded${injected(region, BAKE_FAULTS)}`;
  return `${deployment.id} ${deployment.status}${deployment.reason ? `: ${deployment.reason}` : ''}`;
}

/** One RunInstances, and that builder terminated by Kiln. */
function oneBuilderCheck(builders: BuilderAccount): StoryCheck {
  return {
    name: 'one RunInstances, builder terminated',
    ok: builders.runInstances === 1 && everyBuilderTerminated(builders),
    detail: describeBuilders(builders),
  };
}

/** The release's AMI in both Regions, each the only image of the service there, no stray snapshot. */
function releaseImagesCheck(world: World, release: Release | undefined, images: ImageAccount): StoryCheck {
  const expected = (name: string) =>
    release?.amis[name] === undefined ? [] : [`${release.amis[name]}:available`];
  const regions = [world.home, COPY_REGION];
  return {
    name: `one available AMI in ${regions.join(' and ')}, the release's; no stray snapshot`,
    ok:
      release !== undefined &&
      regions.every((name) => JSON.stringify(images.images[name]) === JSON.stringify(expected(name))) &&
      regions.every((name) => (images.straySnapshots[name] ?? []).length === 0),
    detail: describeImages(images),
  };
}

function lineageCheck(world: World, release: Release | undefined, images: ImageAccount): StoryCheck {
  const ami = release?.amis[world.home];
  const tags = ami === undefined ? undefined : images.tags[ami];
  const want = { [TAG.service]: SERVICE, [TAG.version]: VERSION, [TAG.baseAmi]: world.baseAmi };
  return {
    name: 'the AMI carries its lineage (service, version, base AMI, digest, recipe, deployment)',
    ok:
      tags !== undefined &&
      Object.entries(want).every(([key, value]) => tags[key] === value) &&
      [TAG.digest, TAG.recipe, TAG.deployment].every((key) => (tags[key] ?? '') !== ''),
    detail:
      tags === undefined
        ? 'no release AMI'
        : Object.entries(tags)
            .filter(([key]) => key.startsWith('kiln:'))
            .map(([key, value]) => `${key}=${value}`)
            .join(' '),
  };
}

function releaseDetail(release: Release | undefined): string {
  if (release === undefined) return 'no release recorded';
  return Object.entries(release.amis)
    .map(([name, ami]) => `${ami} in ${name}`)
    .join(', ');
}

function releaseLinkedCheck(
  region: Region,
  deployment: Deployment | undefined,
  release: Release | undefined,
): StoryCheck {
  return {
    name: `deployment of ${SERVICE}@${VERSION} carries the release`,
    ok:
      deployment !== undefined &&
      release !== undefined &&
      JSON.stringify(deployment.release?.amis) === JSON.stringify(release.amis),
    // The bake stories' world has no fleet (the bake is what they check), so the rollout that
    // follows the bake stops at the first environment, whose group does not exist, having
    // changed nothing: say so, or a reader takes that ending for the bake's.
    detail:
      `${deploymentDetail(region, deployment)}; release: ${releaseDetail(release)}` +
      (deployment?.status === 'failed' && deployment.release !== undefined
        ? ' (this story has no fleet: the rollout after the bake stops at its first environment)'
        : ''),
  };
}

export const bakeStory: Story = {
  name: 'bake',
  description: storyCatalog.bake,
  settings: DEFAULT_STORY_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const world = await setUp(region, options);
    const deployment = await step('bake', () => pushAndFollow(world, 'first push'));
    const { builders, images, release } = await account(world);
    return {
      checks: [
        releaseLinkedCheck(region, deployment, release),
        oneBuilderCheck(builders),
        releaseImagesCheck(world, release, images),
        lineageCheck(world, release, images),
      ],
      figures: { RunInstances: builders.runInstances, 'bake (virtual s)': bakeSeconds(deployment) },
    };
  },
};

export const bakeCacheStory: Story = {
  name: 'bake-cache',
  description: storyCatalog['bake-cache'],
  settings: DEFAULT_STORY_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const world = await setUp(region, options);
    const first = await step('bake', () => pushAndFollow(world, 'first push'));
    const afterFirst = await step('duplicates', async () => {
      const launched = (await builderAccount(region, world.aws)).runInstances;
      // CI's re-run uploads the identical tarball (same ETag, so the same digest), and S3's
      // at-least-once delivery repeats the first event.
      uploadArtifact(region, { service: SERVICE, version: VERSION, etag: ETAG });
      world.print('ci: uploaded the same artifact again');
      const redelivered = region.events.redeliver((e) => e.source === 'aws.s3');
      world.print(`eventbridge: delivered the S3 event again to ${redelivered.join(', ') || 'nobody'}`);
      // Three deliveries in all; Lambda's retries of a failed one take up to three minutes.
      await waitForInvocations(region, 'onArtifact', 3, 15 * 60);
      return { launched, deployments: (await world.store.listDeployments(SERVICE, {})).items.length };
    });
    // The bake cache proper: the operator re-runs the deployment of the same release.
    const rerun = await step('re-run', async () => {
      const artifact = await recordedArtifact(world);
      const id = await rerunDeployment(region, world.store, artifact, 're-run of a baked release');
      world.print(`kiln: operator re-runs the deployment of ${SERVICE}@${VERSION} as ${id}`);
      return settledDeployment(world, (d) => d.id === id);
    });
    const { builders, images, release } = await account(world);
    const executions = await step('checks', () => executionCount(region));
    const deliveries = onArtifactInvocations(region);
    const artifacts = await step(
      'checks',
      async () => (await world.store.listArtifacts(SERVICE)).items.length,
    );
    return {
      checks: [
        {
          name: 'on-artifact got the event three times (two pushes, one duplicate)',
          ok: deliveries.ok >= 3,
          detail: `${deliveries.ok} successful invocation(s) of ${deliveries.all}${injected(region, ['event-loss', 'handler-crash'])}`,
        },
        {
          name: 'the artifact recorded once, one deployment and one execution for it',
          ok: artifacts === 1 && afterFirst.deployments === 1 && executions.beforeRerun === 1,
          detail: `${artifacts} artifact record(s), ${afterFirst.deployments} deployment(s), ${executions.beforeRerun} execution(s) before the re-run`,
        },
        releaseLinkedCheck(region, first, release),
        {
          name: 'the duplicates launched no builder',
          ok: afterFirst.launched === 1,
          detail: `${afterFirst.launched} RunInstances after the first bake`,
        },
        {
          name: "the re-run reused the recorded release: no builder, the release's AMIs",
          ok:
            rerun !== undefined &&
            builders.runInstances === afterFirst.launched &&
            JSON.stringify(rerun.release?.amis) === JSON.stringify(release?.amis),
          detail: `${deploymentDetail(region, rerun)}; ${builders.runInstances} RunInstances in all`,
        },
        oneBuilderCheck(builders),
        releaseImagesCheck(world, release, images),
      ],
      figures: { RunInstances: builders.runInstances, executions: executions.all },
    };
  },
};

export const bakeFailureStory: Story = {
  name: 'bake-failure',
  description: storyCatalog['bake-failure'],
  settings: DEFAULT_STORY_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const world = await setUp(region, options, {
      commands: [
        `mkdir -p /opt/${SERVICE} && tar -xzf "$KILN_ARTIFACT_PATH" -C /opt/${SERVICE}`,
        `/opt/${SERVICE}/install.sh --verify-config`,
      ],
    });
    // The artifact's install script fails on the builder (exit 1), every run.
    region.ssm.planCommands([{ commandContains: 'install.sh', outcome: 'Failed' }]);
    const deployment = await step('bake', () => pushAndFollow(world, 'its install script is broken'));
    const { builders, images, release } = await account(world);
    return {
      checks: [
        {
          name: 'deployment failed, naming the install command',
          ok:
            deployment?.status === 'failed' &&
            /the install command \S+ on builder i-\S+ ended Failed/.test(deployment.reason ?? ''),
          detail: deploymentDetail(region, deployment),
        },
        oneBuilderCheck(builders),
        {
          name: 'no image and no snapshot left in any Region',
          ok: nothingLeft(images),
          detail: describeImages(images),
        },
        { name: 'no release recorded', ok: release === undefined, detail: releaseDetail(release) },
      ],
      figures: { RunInstances: builders.runInstances },
    };
  },
};

/** The bake's timeout and how long EC2 takes over the image in `bake-timeout`. */
const TIMEOUT_MINUTES = 15;
const IMAGE_MINUTES = 45;

export const bakeTimeoutStory: Story = {
  name: 'bake-timeout',
  description: storyCatalog['bake-timeout'],
  settings: DEFAULT_STORY_SETTINGS,
  async run(region, options): Promise<StoryResult> {
    const world = await setUp(region, options, { timeoutMinutes: TIMEOUT_MINUTES });
    region.ec2.planImages([{ operation: 'create', minutes: IMAGE_MINUTES }]);
    const first = await step('bake', () =>
      pushAndFollow(world, `EC2 will take ${IMAGE_MINUTES} min over the image`),
    );
    const afterTimeout = await step('after the timeout', async () => ({
      builders: await builderAccount(region, world.aws),
      images: await imageAccount(region, SERVICE, [world.home]),
    }));
    // CI (or a person) pushes the same artifact again: the same execution name, so nothing starts.
    const secondPush = await step('second push', async () => {
      uploadArtifact(region, { service: SERVICE, version: VERSION, etag: ETAG });
      world.print('ci: uploaded the same artifact again');
      await waitForInvocations(region, 'onArtifact', 2, 15 * 60);
      return {
        deployments: (await world.store.listDeployments(SERVICE, {})).items.length,
        first: first === undefined ? undefined : await world.store.getDeployment(first.id),
      };
    });
    // The operator waits until EC2 has finished the image, then re-runs the deployment.
    const orphan = await step('image finished', () => waitForImage(world, first?.id));
    const rerun = await step('re-run', async () => {
      const artifact = await recordedArtifact(world);
      const id = await rerunDeployment(
        region,
        world.store,
        artifact,
        `re-run after the bake timed out (${first?.id ?? '?'})`,
      );
      world.print(`kiln: operator re-runs the deployment of ${SERVICE}@${VERSION} as ${id}`);
      return settledDeployment(world, (d) => d.id === id);
    });
    const { builders, images, release } = await account(world);
    const kept = afterTimeout.images.images[world.home] ?? [];
    return {
      checks: [
        {
          name: `first deployment failed on the ${TIMEOUT_MINUTES}-minute timeout, its builder terminated`,
          ok:
            first?.status === 'failed' &&
            /ran out of time/.test(first.reason ?? '') &&
            afterTimeout.builders.runInstances === 1 &&
            everyBuilderTerminated(afterTimeout.builders),
          detail: `${deploymentDetail(region, first)}; ${describeBuilders(afterTimeout.builders)}`,
        },
        {
          name: 'the pending image was kept for the retry',
          ok: kept.length === 1 && kept[0]?.endsWith(':pending') === true,
          detail: describeImages(afterTimeout.images),
        },
        {
          name: 'the second push of the same artifact started nothing',
          ok: secondPush.deployments === 1 && secondPush.first?.status === 'failed',
          detail: `${secondPush.deployments} deployment(s); the first ${secondPush.first?.status ?? 'missing'}`,
        },
        releaseLinkedCheck(region, rerun, release),
        {
          name: 'the re-run adopted the finished image: no second builder, no name clash',
          ok: orphan !== undefined && release?.amis[world.home] === orphan && builders.runInstances === 1,
          detail: `image ${orphan ?? 'never finished'}; release ${releaseDetail(release)}; ${builders.runInstances} RunInstances in all`,
        },
        {
          name: 'every builder terminated',
          ok: everyBuilderTerminated(builders),
          detail: describeBuilders(builders),
        },
        releaseImagesCheck(world, release, images),
      ],
      figures: { RunInstances: builders.runInstances },
    };
  },
};

/** Virtual seconds from the deployment's creation to its last update. */
function bakeSeconds(deployment: Deployment | undefined): number {
  if (deployment === undefined) return 0;
  return Math.round((Date.parse(deployment.updatedAt) - Date.parse(deployment.createdAt)) / 1000);
}

function onArtifactInvocations(region: Region): { ok: number; all: number } {
  const deployed = region.routes.functions.find((fn) => fn.functionName === 'onArtifact')?.deployedName;
  const all = region.lambda.invocations.filter((i) => i.functionName === deployed);
  return { ok: all.filter((i) => i.ok).length, all: all.length };
}

/** Waits until `functionKey` has run `count` times successfully (every 10 s, up to the deadline). */
async function waitForInvocations(region: Region, functionKey: string, count: number, seconds: number) {
  const deployed = region.routes.functions.find((fn) => fn.functionName === functionKey)?.deployedName;
  for (let waited = 0; waited <= seconds; waited += 10) {
    if (region.lambda.invocations.filter((i) => i.functionName === deployed && i.ok).length >= count) return;
    await sleep(10);
  }
}

/** The artifact Kiln recorded for VERSION (what a re-run deploys). */
async function recordedArtifact(world: World) {
  const records = (await world.store.listArtifacts(SERVICE)).items;
  const record = records.find((a) => a.version === VERSION);
  if (record === undefined)
    deadline(`no artifact of ${SERVICE}@${VERSION} recorded`, `${records.length} record(s)`);
  return { service: SERVICE, version: VERSION, uri: record.uri, digest: record.digest };
}

/** Polls EC2 (every minute, up to two hours) until the image the deployment left is available. */
async function waitForImage(world: World, deploymentId: string | undefined): Promise<string | undefined> {
  if (deploymentId === undefined) return undefined;
  let seen = '';
  for (let waited = 0; waited <= 2 * 3600; waited += 60) {
    const account = await imageAccount(world.region, SERVICE, [world.home]);
    const images = account.images[world.home] ?? [];
    const mine = images.filter((i) => account.tags[i.split(':')[0] ?? '']?.[TAG.deployment] === deploymentId);
    seen = mine.join(' ') || 'no image';
    const available = mine.find((i) => i.endsWith(':available'));
    if (available !== undefined) {
      world.print(`ec2: image ${available} finished`);
      return available.split(':')[0];
    }
    await sleep(60);
  }
  return deadline(`the image of deployment ${deploymentId} did not become available`, seen);
}

/** Executions of the deploy state machine: all, and those started before the first re-run. */
async function executionCount(region: Region): Promise<{ all: number; beforeRerun: number }> {
  const out = await region
    .clientsFor('story:checks', 'operator')
    .sfn.send(
      new ListExecutionsCommand({ stateMachineArn: region.stateMachineArns.get('DeployStateMachine') }),
    );
  const executions = out.executions ?? [];
  // Artifact deployments are named after the artifact (service-version-hash); re-runs by a deployment id.
  const fromArtifact = executions.filter((e) => e.name?.startsWith(`${SERVICE}-`) === true);
  return { all: executions.length, beforeRerun: fromArtifact.length };
}
