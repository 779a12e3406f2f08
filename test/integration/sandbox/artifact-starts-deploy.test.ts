import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListExecutionsCommand, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { parse as parseYaml } from 'yaml';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { KilnStore } from '../../../shared/store';
import type { FaultPlan } from '../../../sandbox/core/faults';
import { createRegion, type Region } from '../../../sandbox/region';
import { sleep } from '../../../sandbox/stories/fleet';

/**
 * An artifact reaching on-artifact through serverless.yml's rules starts the deploy state machine,
 * once. serverless.yml's deploy machine arrives with the bake; until then each test deploys a
 * trivial machine under the name serverless.yml gives on-artifact (custom.deployStateMachineName).
 */
const checkoutSource = () =>
  parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as Record<
    string,
    unknown
  >;

const TRIVIAL_DEPLOY = JSON.stringify({ StartAt: 'Deploy', States: { Deploy: { Type: 'Pass', End: true } } });

async function regionWithDeployMachine(faults: FaultPlan = []): Promise<Region> {
  const region = await createRegion({ seed: 11, faults });
  region.stepFunctions.createStateMachine({
    name: 'kiln-sandbox-deploy',
    definition: TRIVIAL_DEPLOY,
    substitutions: {},
  });
  return region;
}

/** Applies `manifests`, runs `publish`, waits for on-artifact's work; returns the executions and the store. */
async function run(region: Region, manifests: ServiceManifest[], publish: () => void) {
  return region.engine.run(async () => {
    const store = new KilnStore<ServiceManifest>({
      client: region.clientsFor('kiln-cli').doc,
      tableName: region.tableName,
      ids: region.engine.kilnIds,
    });
    for (const manifest of manifests) await store.putServiceManifest(manifest, { actor: 'kiln-cli:test' });
    publish();
    // Long enough for every delivery and Lambda's retries (one and two minutes apart).
    await sleep(600);
    const { sfn } = region.clientsFor('story');
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: `arn:aws:states:us-east-1:${region.engine.accountId}:stateMachine:kiln-sandbox-deploy`,
      }),
    );
    const deployments = async (service: string) => (await store.listDeployments(service)).items;
    return { executions, deployments, store };
  });
}

describe('on-artifact starts the deploy in the sandbox', () => {
  let region: Region | undefined;
  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });
  afterEach(async () => {
    await region?.dispose();
    region = undefined;
  });

  const upload = (r: Region) => () =>
    r.artifacts.putObject({
      bucket: 'acme-artifacts-123456789012',
      key: 'checkout/releases/checkout-2.0.0.tar.gz',
      size: 1024,
      etag: 'b1946ac92492d2347c6235b4d2611184',
    });

  it('starts exactly one execution for an S3 upload that EventBridge delivers twice', async () => {
    region = await regionWithDeployMachine([{ kind: 'event-duplicate' }]);
    const { executions } = await run(region, [parseManifest(checkoutSource())], upload(region));

    expect(executions.map((e: ExecutionListItem) => [e.name, e.status])).toEqual([
      [expect.stringMatching(/^checkout-2_0_0-[0-9a-f]{16}$/), 'SUCCEEDED'],
    ]);
    const deliveries = region.engine.timeline.entries.filter(
      (e) => e.kind === 'event' && e.detailType === 'Object Created',
    );
    expect(deliveries.flatMap((e) => (e.kind === 'event' ? e.deliveredTo : []))).toEqual([
      'onArtifact',
      'onArtifact',
    ]);
  });

  it('records one queued deployment named like its execution, linking artifact and execution', async () => {
    region = await regionWithDeployMachine();
    const { executions, deployments } = await run(region, [parseManifest(checkoutSource())], upload(region));
    const [execution] = executions;

    await expect(region.engine.run(() => deployments('checkout'))).resolves.toEqual([
      expect.objectContaining({
        id: execution?.name,
        status: 'queued',
        trigger: 'artifact',
        actor: 'event:s3',
        environments: ['staging', 'production'],
        executionArn: execution?.executionArn,
        artifact: {
          uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-2.0.0.tar.gz',
          digest: 's3-etag:b1946ac92492d2347c6235b4d2611184',
        },
      }),
    ]);
  });

  it('starts a deployment for a CodeArtifact package version published to the repository a manifest names', async () => {
    region = await regionWithDeployMachine();
    const widgets = parseManifest({
      ...checkoutSource(),
      name: 'widgets',
      artifact: {
        source: {
          codeartifact: {
            domain: 'acme',
            repository: 'releases',
            format: 'maven',
            namespace: 'com.acme',
            package: 'widgets',
          },
        },
      },
    });
    const r = region;
    const { executions, store } = await run(region, [widgets], () =>
      r.artifacts.publishPackageVersion({
        domain: 'acme',
        repository: 'releases',
        format: 'maven',
        namespace: 'com.acme',
        package: 'widgets',
        version: '4.2.0',
        revision: 'REV0000000000000000000000000001',
      }),
    );

    expect(executions.map((e) => e.name)).toEqual([expect.stringMatching(/^widgets-4_2_0-[0-9a-f]{16}$/)]);
    await expect(
      region.engine.run(async () => (await store.listArtifacts('widgets')).items),
    ).resolves.toEqual([
      expect.objectContaining({
        version: '4.2.0',
        uri: `codeartifact://us-east-1/${region.engine.accountId}/acme/releases/maven/com.acme/widgets/4.2.0`,
        digest: 'codeartifact-revision:REV0000000000000000000000000001',
        sourceKind: 'codeartifact',
      }),
    ]);
  });

  it('starts nothing for a package version that is not yet Published', async () => {
    region = await regionWithDeployMachine();
    const widgets = parseManifest({
      ...checkoutSource(),
      name: 'widgets',
      artifact: {
        source: {
          codeartifact: { domain: 'acme', repository: 'releases', format: 'npm', package: 'widgets' },
        },
      },
    });
    const r = region;
    const { executions } = await run(region, [widgets], () =>
      r.artifacts.publishPackageVersion({
        domain: 'acme',
        repository: 'releases',
        format: 'npm',
        package: 'widgets',
        version: '4.2.0',
        state: 'Unfinished',
      }),
    );

    expect(executions).toEqual([]);
  });
});
