import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeExecutionCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { parse } from 'yaml';
import { lineageTags, recipeHash, TAG } from '../../../shared/domain/bake';
import { executionName, imageName } from '../../../shared/domain/ids';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../shared/store';
import { createRegion, type Region, type RegionOptions } from '../../../sandbox/region';
import type { Ec2Sim } from '../../../sandbox/services/ec2';

/**
 * The deploy state machine's bake phase, run from statemachines/deploy.asl.json by the sandbox's
 * Step Functions (aws-local-stepfunctions on the virtual clock), with the real bake-steps function
 * against the simulated EC2 (two Regions) and SSM. Each case checks what a person would: the
 * builder is gone, no partial image is left, and the deployment says what happened. The
 * executions name no environment, so the rollout phase that follows the bake ends at once.
 */
const PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
const COPY_REGION = 'us-west-2';
const ARTIFACT = {
  kind: 's3',
  uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-1.4.2.tar.gz',
  digest: 'b1946ac92492d2347c6235b4d2611184',
};
const VERSION = '1.4.2';

function manifest(change: (bake: Record<string, unknown>) => void = () => undefined): ServiceManifest {
  const doc = parse(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as {
    bake: Record<string, unknown>;
  };
  doc.bake.subnetId = 'subnet-00000000000000001';
  change(doc.bake);
  return parseManifest(doc);
}

interface Bakery {
  region: Region;
  store: KilnStore<ServiceManifest>;
  baseAmiId: string;
  /** Starts a deploy execution for one deployment of the artifact, as on-artifact will. */
  start(options?: {
    digest?: string;
    deploymentId?: string;
  }): Promise<{ deploymentId: string; executionArn: string }>;
  /** Polls the execution (every virtual minute) until it ends. */
  finish(executionArn: string): Promise<DescribeExecutionCommandOutput>;
  liveBuilders(deploymentId: string): Promise<string[]>;
  /** Images tagged with the deployment, per Region, as `imageId:state`. */
  images(deploymentId: string): Promise<Record<string, string[]>>;
  runInstancesCalls(): number;
  /**
   * Every snapshot EC2 deleted (DeleteSnapshot, or DeregisterImage's DeleteAssociatedSnapshots),
   * in either Region, with the `kiln:role` tag it carried just before. The sandbox has no IAM: this
   * stands in for the bake roles' `aws:ResourceTag/kiln:role: image` condition on DeleteSnapshot
   * (serverless.yml), which on AWS refuses to delete a snapshot without that tag.
   */
  deletedSnapshots(): DeletedSnapshot[];
}

interface DeletedSnapshot {
  snapshotId: string;
  tags: Record<string, string>;
}

/** Records each snapshot a call to `sim` deletes, with its tags from just before the call. */
function auditSnapshotDeletions(sim: Ec2Sim, deleted: DeletedSnapshot[]): void {
  const handle = sim.handle.bind(sim);
  const own = () => sim.snapshots.describeSnapshots({ OwnerIds: ['self'] }).Snapshots ?? [];
  sim.handle = async (operation, input) => {
    if (operation !== 'DeregisterImage' && operation !== 'DeleteSnapshot') return handle(operation, input);
    const before = own();
    const output = await handle(operation, input);
    const left = new Set(own().map((snapshot) => snapshot.SnapshotId));
    for (const snapshot of before) {
      if (left.has(snapshot.SnapshotId)) continue;
      deleted.push({
        snapshotId: snapshot.SnapshotId ?? '',
        tags: Object.fromEntries((snapshot.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? ''])),
      });
    }
    return output;
  };
}

async function bakery(
  options: { manifest?: ServiceManifest; region?: Partial<RegionOptions> } = {},
): Promise<Bakery> {
  const region = await createRegion({ seed: 17, otherRegions: [COPY_REGION], ...options.region });
  const baseAmiId = region.ec2.images.seedImage({
    name: 'al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64',
    ownerAlias: 'amazon',
    publicParameter: PARAMETER,
  });
  const store = new KilnStore<ServiceManifest>({
    client: region.clientsFor('test', 'operator').doc,
    tableName: region.tableName,
    ids: region.engine.kilnIds,
  });
  const { sfn } = region.clientsFor('test', 'operator');
  const clientsIn = (name: string) =>
    name === region.engine.region
      ? region.clientsFor('test', 'operator')
      : region.engine.clientsFor('test', { region: name, retryMode: 'adaptive', maxAttempts: 10 });
  let applied: number | undefined;
  const deleted: DeletedSnapshot[] = [];
  for (const sim of [region.ec2, ...region.ec2In.values()]) auditSnapshotDeletions(sim, deleted);
  return {
    region,
    store,
    baseAmiId,
    deletedSnapshots: () => [...deleted],
    async start({ digest = ARTIFACT.digest, deploymentId } = {}) {
      applied ??= (await store.putServiceManifest(options.manifest ?? manifest(), { actor: 'test' })).version;
      const id = deploymentId ?? executionName({ service: 'checkout', version: VERSION, digest });
      await store.createDeployment({
        id,
        service: 'checkout',
        releaseVersion: VERSION,
        environments: ['staging', 'production'],
        trigger: 'artifact',
        actor: 'test',
      });
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: region.stateMachineArns.get('DeployStateMachine'),
          name: id,
          input: JSON.stringify({
            deploymentId: id,
            service: 'checkout',
            version: VERSION,
            manifestVersion: applied,
            artifact: { ...ARTIFACT, digest },
            // The bake alone: no environment to roll, so the rollout ends at once after the
            // release is recorded (test/integration/rollout covers the rollout).
            environments: [],
          }),
        }),
      );
      return { deploymentId: id, executionArn: executionArn ?? '' };
    },
    async finish(executionArn) {
      for (;;) {
        const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (execution.status !== 'RUNNING') return execution;
        await new Promise((resolve) => setTimeout(resolve, 60_000));
      }
    },
    async liveBuilders(deploymentId) {
      const result = await clientsIn(region.engine.region).ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${TAG.deployment}`, Values: [deploymentId] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        }),
      );
      return (result.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId ?? ''));
    },
    async images(deploymentId) {
      const found: Record<string, string[]> = {};
      for (const name of [region.engine.region, COPY_REGION]) {
        const result = await clientsIn(name).ec2.send(
          new DescribeImagesCommand({
            Owners: ['self'],
            Filters: [{ Name: `tag:${TAG.deployment}`, Values: [deploymentId] }],
          }),
        );
        found[name] = (result.Images ?? []).map((image) => `${image.ImageId}:${image.State}`);
      }
      return found;
    },
    runInstancesCalls: () =>
      region.engine.timeline.entries.filter(
        (e) => e.kind === 'api' && e.operation === 'RunInstances' && e.ok && e.caller === 'fn:bakeSteps',
      ).length,
  };
}

/** The deleted snapshots that Kiln's roles could not have deleted on AWS (no `kiln:role=image`). */
const deniedOnAws = (bake: Bakery): DeletedSnapshot[] =>
  bake.deletedSnapshots().filter((snapshot) => snapshot.tags[TAG.role] !== 'image');

describe('deploy state machine: bake phase', () => {
  let b: Bakery | undefined;
  afterEach(async () => {
    await b?.region.dispose();
    b = undefined;
  });

  it('bakes a fresh artifact: one builder, an image in each Region, the release recorded, the deployment done (no environment to roll)', async () => {
    b = await bakery();
    const bake = b;
    const outcome = await bake.region.engine.run(async () => {
      const { deploymentId, executionArn } = await bake.start();
      const execution = await bake.finish(executionArn);
      return {
        execution,
        deploymentId,
        deployment: await bake.store.getDeployment(deploymentId),
        release: await bake.store.getRelease('checkout', VERSION),
        builders: await bake.liveBuilders(deploymentId),
        images: await bake.images(deploymentId),
      };
    });
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(b.runInstancesCalls()).toBe(1);
    expect(outcome.builders).toEqual([]);
    const amis = outcome.release?.amis ?? {};
    expect(Object.keys(amis).sort()).toEqual(['us-east-1', COPY_REGION]);
    expect(outcome.images).toEqual({
      'us-east-1': [`${amis['us-east-1']}:available`],
      [COPY_REGION]: [`${amis[COPY_REGION]}:available`],
    });
    expect(outcome.release).toMatchObject({
      baseAmiId: b.baseAmiId,
      recipeHash: recipeHash(manifest().bake),
      artifact: { uri: ARTIFACT.uri, digest: ARTIFACT.digest },
    });
    expect(outcome.deployment).toMatchObject({
      status: 'succeeded',
      release: { version: VERSION, amis },
      bake: { baseAmiId: b.baseAmiId },
    });
    const image = b.region.ec2.images.exportImage(amis['us-east-1'] ?? '');
    expect(image?.name).toBe(imageName({ service: 'checkout', version: VERSION, digest: ARTIFACT.digest }));
    expect(image?.tags).toMatchObject({
      ...lineageTags({
        service: 'checkout',
        version: VERSION,
        digest: ARTIFACT.digest,
        recipeHash: recipeHash(manifest().bake),
        baseAmiId: b.baseAmiId,
      }),
      [TAG.deployment]: outcome.deploymentId,
    });
  });

  it('reuses the recorded release for a second deployment of the same artifact: zero RunInstances', async () => {
    b = await bakery();
    const bake = b;
    const outcome = await bake.region.engine.run(async () => {
      const first = await bake.start();
      await bake.finish(first.executionArn);
      const launchedBefore = bake.runInstancesCalls();
      const second = await bake.start({ deploymentId: 'checkout-redeploy-1' });
      const execution = await bake.finish(second.executionArn);
      return {
        launchedBefore,
        execution,
        deployment: await bake.store.getDeployment(second.deploymentId),
        release: await bake.store.getRelease('checkout', VERSION),
      };
    });
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(b.runInstancesCalls()).toBe(outcome.launchedBefore);
    expect(outcome.deployment).toMatchObject({
      status: 'succeeded',
      release: { version: VERSION, amis: outcome.release?.amis },
    });
  });

  it('adopts an available image of the same lineage (an orphan of an earlier run) instead of launching a builder', async () => {
    b = await bakery();
    const bake = b;
    const orphan = bake.region.ec2.images.seedImage({
      name: imageName({ service: 'checkout', version: VERSION, digest: ARTIFACT.digest }),
      tags: {
        ...lineageTags({
          service: 'checkout',
          version: VERSION,
          digest: ARTIFACT.digest,
          recipeHash: recipeHash(manifest().bake),
          baseAmiId: bake.baseAmiId,
        }),
        [TAG.deployment]: 'an-earlier-run',
      },
    });
    const outcome = await bake.region.engine.run(async () => {
      const { deploymentId, executionArn } = await bake.start();
      return {
        execution: await bake.finish(executionArn),
        deployment: await bake.store.getDeployment(deploymentId),
      };
    });
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(b.runInstancesCalls()).toBe(0);
    expect(outcome.deployment?.status).toBe('succeeded');
    expect(outcome.deployment?.release?.amis['us-east-1']).toBe(orphan);
    expect(outcome.deployment?.release?.amis[COPY_REGION]).toMatch(/^ami-/);
  });

  describe('failures clean up and say what happened', () => {
    async function failedBake(bake: Bakery) {
      return bake.region.engine.run(async () => {
        const { deploymentId, executionArn } = await bake.start();
        const execution = await bake.finish(executionArn);
        return {
          execution,
          deployment: await bake.store.getDeployment(deploymentId),
          builders: await bake.liveBuilders(deploymentId),
          images: await bake.images(deploymentId),
          release: await bake.store.getRelease('checkout', VERSION),
        };
      });
    }

    it('fails on an install command that fails: builder terminated, no image, reason names the command', async () => {
      b = await bakery({ region: { faults: [{ kind: 'ssm-command-failure' }] } });
      const outcome = await failedBake(b);
      expect(outcome.execution.status).toBe('FAILED');
      expect(b.runInstancesCalls()).toBe(1);
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.release).toBeUndefined();
      expect(outcome.deployment?.status).toBe('failed');
      expect(outcome.deployment?.reason).toMatch(
        /^bake failed: checking the command: the install command \S+ on builder i-\S+ ended Failed: failed to run commands: exit status 1 \(BakeFailedError\)$/,
      );
    });

    it('fails on an image that ends failed: builder terminated, the failed image deregistered', async () => {
      b = await bakery();
      b.region.ec2.planImages([{ operation: 'create', outcome: 'failed' }]);
      const outcome = await failedBake(b);
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.deployment?.status).toBe('failed');
      expect(outcome.deployment?.reason).toMatch(
        /^bake failed: checking the image: image ami-\S+ ended failed \(Server.InternalError: Image creation failed\) \(BakeFailedError\)$/,
      );
      // The image never became available, so only tags from CreateImage were on its snapshots.
      expect(b.deletedSnapshots()).toHaveLength(1);
      expect(deniedOnAws(b)).toEqual([]);
    });

    it("fails on a copy that fails in one Region: both Regions left without the bake's images", async () => {
      b = await bakery();
      b.region.ec2In.get(COPY_REGION)?.planImages([{ operation: 'copy', outcome: 'failed' }]);
      const outcome = await failedBake(b);
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.release).toBeUndefined();
      expect(outcome.deployment?.status).toBe('failed');
      expect(outcome.deployment?.reason).toMatch(
        new RegExp(`^bake failed: checking the copy: the copy ami-\\S+ in ${COPY_REGION} ended failed`),
      );
      // The source image's snapshot and the failed copy's, whose only tags came from CopyImage.
      expect(b.deletedSnapshots()).toHaveLength(2);
      expect(deniedOnAws(b)).toEqual([]);
    });

    it('times out while the image is still being created: builder terminated, the image kept for the next bake, which adopts it', async () => {
      b = await bakery({
        manifest: manifest((bake) => {
          bake.timeoutMinutes = 15;
        }),
      });
      b.region.ec2.planImages([{ operation: 'create', minutes: 60 }]);
      const bake = b;
      const outcome = await bake.region.engine.run(async () => {
        const first = await bake.start();
        const execution = await bake.finish(first.executionArn);
        const afterTimeout = {
          deployment: await bake.store.getDeployment(first.deploymentId),
          builders: await bake.liveBuilders(first.deploymentId),
          images: await bake.images(first.deploymentId),
        };
        const launched = bake.runInstancesCalls();
        // EC2 finishes the image an hour after CreateImage; the retry comes after that.
        await new Promise((resolve) => setTimeout(resolve, 3_600_000));
        const retry = await bake.start({ deploymentId: 'checkout-retry-1' });
        const retried = await bake.finish(retry.executionArn);
        return {
          execution,
          afterTimeout,
          launched,
          retried,
          retryDeployment: await bake.store.getDeployment(retry.deploymentId),
        };
      });
      expect(outcome.execution.status).toBe('FAILED');
      expect(outcome.afterTimeout.builders).toEqual([]);
      expect(outcome.afterTimeout.images['us-east-1']).toEqual([expect.stringMatching(/^ami-\S+:pending$/)]);
      expect(outcome.afterTimeout.deployment?.status).toBe('failed');
      expect(outcome.afterTimeout.deployment?.reason).toMatch(/ran out of time \(bake.timeoutMinutes/);
      expect(outcome.retried.status).toBe('SUCCEEDED');
      expect(b.runInstancesCalls()).toBe(outcome.launched);
      const kept = outcome.afterTimeout.images['us-east-1']?.[0]?.split(':')[0];
      expect(outcome.retryDeployment?.release?.amis['us-east-1']).toBe(kept);
    });
  });

  /**
   * StopExecution skips every Catch, so the execution's own CleanUp never runs: the deploy
   * machine's ABORTED status-change event reaches sweep-bakes (serverless.yml's rule), which
   * cleans up that deployment; a lost event is healed by the reconciler (rate(1 minute)), which
   * runs the same use case for a deployment with no progress for five minutes.
   */
  describe('an execution stopped mid-bake is cleaned up through its status-change event', () => {
    const MINUTE = 60_000;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    async function stopWhen(
      bake: Bakery,
      ready: (deploymentId: string) => Promise<boolean>,
    ): Promise<{ deploymentId: string; stoppedAt: number }> {
      const { deploymentId, executionArn } = await bake.start();
      while (!(await ready(deploymentId))) await sleep(5_000);
      const { sfn } = bake.region.clientsFor('test', 'operator');
      await sfn.send(new StopExecutionCommand({ executionArn, cause: 'stopped by the operator' }));
      return { deploymentId, stoppedAt: Date.now() };
    }

    async function leftovers(bake: Bakery, deploymentId: string) {
      const { ec2 } = bake.region.clientsFor('test', 'operator');
      const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
      const audit = await bake.store.listAudit({ target: `deployment:${deploymentId}` });
      return {
        builders: await bake.liveBuilders(deploymentId),
        images: await bake.images(deploymentId),
        snapshots: Snapshots.map((snapshot) => snapshot.SnapshotId),
        deployment: await bake.store.getDeployment(deploymentId),
        cleanUps: audit.items.filter((entry) => entry.action === 'bake.clean-up'),
      };
    }

    const sweeperTerminations = (bake: Bakery) =>
      bake.region.engine.timeline.entries.filter(
        (e) =>
          e.kind === 'api' && e.operation === 'TerminateInstances' && e.ok && e.caller === 'fn:sweepBakes',
      ).length;
    const statusEventsToSweeper = (bake: Bakery) =>
      bake.region.engine.timeline.entries.flatMap((e) =>
        e.kind === 'event' && e.detailType === 'Step Functions Execution Status Change'
          ? e.deliveredTo.filter((to) => to === 'sweepBakes')
          : [],
      ).length;

    it('terminates the builder stopped while it installs, deletes nothing it need not, and records aborted with the reason', async () => {
      b = await bakery();
      const bake = b;
      const outcome = await bake.region.engine.run(async () => {
        const { deploymentId } = await stopWhen(bake, async (id) => (await bake.liveBuilders(id)).length > 0);
        await sleep(MINUTE);
        return leftovers(bake, deploymentId);
      });
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.deployment?.status).toBe('aborted');
      expect(outcome.deployment?.reason).toMatch(/deploy execution was aborted/);
      expect(outcome.cleanUps).toHaveLength(1);
      expect(statusEventsToSweeper(bake)).toBe(1);
      expect(sweeperTerminations(bake)).toBe(1);
    });

    it('deletes the pending image and its snapshots when stopped while CreateImage is pending', async () => {
      b = await bakery();
      const bake = b;
      bake.region.ec2.planImages([{ operation: 'create', minutes: 20 }]);
      const outcome = await bake.region.engine.run(async () => {
        const { deploymentId } = await stopWhen(bake, async (id) =>
          ((await bake.images(id))['us-east-1'] ?? []).some((image) => image.endsWith(':pending')),
        );
        await sleep(MINUTE);
        return leftovers(bake, deploymentId);
      });
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.snapshots).toEqual([]);
      expect(outcome.deployment?.status).toBe('aborted');
      expect(outcome.cleanUps[0]?.after).toMatchObject({ deletedImages: [expect.stringMatching(/^ami-/)] });
      // Tagged at CreateImage (the image never became available for tagImage): Kiln's role may
      // delete them, and the bake cache and the sweep can tell whose they are.
      expect(bake.deletedSnapshots()).toEqual([
        {
          snapshotId: expect.stringMatching(/^snap-/),
          tags: expect.objectContaining({
            [TAG.role]: 'image',
            [TAG.service]: 'checkout',
            [TAG.version]: VERSION,
            [TAG.deployment]: outcome.deployment?.id,
          }),
        },
      ]);
    });

    it('deletes the source image and the pending copy, with the snapshots of both, when stopped while CopyImage is pending', async () => {
      b = await bakery();
      const bake = b;
      bake.region.ec2In.get(COPY_REGION)?.planImages([{ operation: 'copy', minutes: 30 }]);
      const outcome = await bake.region.engine.run(async () => {
        const { deploymentId } = await stopWhen(bake, async (id) =>
          ((await bake.images(id))[COPY_REGION] ?? []).some((image) => image.endsWith(':pending')),
        );
        await sleep(MINUTE);
        return leftovers(bake, deploymentId);
      });
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.snapshots).toEqual([]);
      expect(outcome.deployment?.status).toBe('aborted');
      expect(bake.deletedSnapshots()).toHaveLength(2);
      expect(deniedOnAws(bake)).toEqual([]);
    });

    it('is healed by the reconciler when the event is lost', async () => {
      b = await bakery({ region: { faults: [{ kind: 'event-loss' }] } });
      const bake = b;
      const outcome = await bake.region.engine.run(async () => {
        const { deploymentId, stoppedAt } = await stopWhen(
          bake,
          async (id) => (await bake.liveBuilders(id)).length > 0,
        );
        await sleep(MINUTE);
        const minuteLater = await bake.liveBuilders(deploymentId);
        while ((await bake.liveBuilders(deploymentId)).length > 0 && Date.now() - stoppedAt < 30 * MINUTE) {
          await sleep(MINUTE);
        }
        return { minuteLater, healedAfter: Date.now() - stoppedAt, ...(await leftovers(bake, deploymentId)) };
      });
      expect(outcome.minuteLater).toHaveLength(1);
      // Five minutes without progress, then the next minute's run (was: the 15-minute schedule).
      expect(outcome.healedAfter).toBeLessThanOrEqual(7 * MINUTE);
      expect(outcome.builders).toEqual([]);
      expect(outcome.images).toEqual({ 'us-east-1': [], [COPY_REGION]: [] });
      expect(outcome.deployment?.status).toBe('aborted');
      expect(statusEventsToSweeper(bake)).toBe(0);
      expect(outcome.cleanUps.map((entry) => entry.actor)).toEqual(['reconciler']);
    });

    it('cleans up once when the event is delivered twice', async () => {
      b = await bakery({ region: { faults: [{ kind: 'event-duplicate' }] } });
      const bake = b;
      const outcome = await bake.region.engine.run(async () => {
        const { deploymentId } = await stopWhen(bake, async (id) => (await bake.liveBuilders(id)).length > 0);
        await sleep(MINUTE);
        const deployment = await bake.store.getDeployment(deploymentId);
        return { ...(await leftovers(bake, deploymentId)), moves: deployment?.steps.length };
      });
      expect(statusEventsToSweeper(bake)).toBe(2);
      expect(sweeperTerminations(bake)).toBe(1);
      expect(outcome.cleanUps).toHaveLength(1);
      expect(outcome.builders).toEqual([]);
      expect(outcome.deployment?.status).toBe('aborted');
    });
  });
});
