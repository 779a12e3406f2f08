import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ArtifactFacts } from '../../../shared/domain/artifact';
import type { DeployExecutionInput } from '../../../shared/domain/deploy-execution';
import { executionName } from '../../../shared/domain/ids';
import { parseManifest, type ServiceManifest } from '../../../shared/domain/manifest/schema';
import { AwsRequestRefusedError } from '../../../shared/domain/step-errors';
import { AuditMissingError, ConflictError, type DeploymentInput } from '../../../shared/store';
import {
  receiveArtifact,
  type DeployStarter,
  type ReceiveArtifactDeps,
} from '../../../shared/usecases/receive-artifact';

const checkout = (): ServiceManifest =>
  parseManifest(
    parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as Record<
      string,
      unknown
    >,
  );

const upload = (): ArtifactFacts => ({
  kind: 's3',
  bucket: 'acme-artifacts-123456789012',
  key: 'checkout/releases/checkout-2.14.0.tar.gz',
  etag: 'b1946ac92492d2347c6235b4d2611184',
});

const DIGEST = 's3-etag:b1946ac92492d2347c6235b4d2611184';
const DEPLOYMENT_ID = executionName({ service: 'checkout', version: '2.14.0', digest: DIGEST });
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${DEPLOYMENT_ID}`;

type Store = ReceiveArtifactDeps['store'];

/** A store holding one service (manifest version 3), remembering the deployments asked for. */
class FakeStore implements Store {
  readonly deployments: DeploymentInput[] = [];
  recordArtifact: Store['recordArtifact'] = (input) =>
    Promise.resolve({
      created: true,
      artifact: { ...input, receivedAt: '2026-01-01T00:00:00.000Z', receivedBy: 'test' },
    });
  createDeployment: Store['createDeployment'] = (input) => {
    this.deployments.push(input);
    return Promise.resolve({
      ...input,
      status: 'queued',
      steps: [],
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      version: 1,
    } as Awaited<ReturnType<Store['createDeployment']>>);
  };
  listServices: Store['listServices'] = () => {
    const manifest = checkout();
    return Promise.resolve({
      items: [
        {
          service: manifest.name,
          manifest,
          version: 3,
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-01T00:00:00.000Z',
          updatedBy: 'test',
        },
      ],
    });
  };
}

/** Step Functions as the adapter speaks it: names seen once start, names seen again already have. */
class FakeDeploys implements DeployStarter {
  readonly starts: Array<{ name: string; input: DeployExecutionInput }> = [];
  private readonly names = new Set<string>();
  failWith: Error | undefined;
  executionArn(name: string): string {
    return `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${name}`;
  }
  start(name: string, input: DeployExecutionInput) {
    if (this.failWith) return Promise.reject(this.failWith);
    this.starts.push({ name, input });
    const outcome = this.names.has(name) ? ('already-started' as const) : ('started' as const);
    this.names.add(name);
    return Promise.resolve({ executionArn: this.executionArn(name), outcome });
  }
}

describe('receiveArtifact', () => {
  let store: FakeStore;
  let deploys: FakeDeploys;
  beforeEach(() => {
    store = new FakeStore();
    deploys = new FakeDeploys();
  });

  describe('starting the deployment of a matched artifact', () => {
    it('creates the queued deployment record, named by service, version and digest, linking artifact and execution', async () => {
      await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(store.deployments).toEqual([
        {
          id: DEPLOYMENT_ID,
          service: 'checkout',
          releaseVersion: '2.14.0',
          environments: checkout().environments.map((e) => e.name),
          trigger: 'artifact',
          actor: 'event:s3',
          artifact: {
            uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-2.14.0.tar.gz',
            digest: DIGEST,
          },
          executionArn: EXECUTION_ARN,
        },
      ]);
    });

    it('starts the deploy execution of that name with the contract input, pinning the manifest version', async () => {
      const result = await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(deploys.starts).toEqual([
        {
          name: DEPLOYMENT_ID,
          input: {
            deploymentId: DEPLOYMENT_ID,
            service: 'checkout',
            version: '2.14.0',
            manifestVersion: 3,
            artifact: {
              kind: 's3',
              uri: 's3://acme-artifacts-123456789012/checkout/releases/checkout-2.14.0.tar.gz',
              digest: DIGEST,
            },
          },
        },
      ]);
      expect(result.started).toEqual([
        { deploymentId: DEPLOYMENT_ID, service: 'checkout', version: '2.14.0', executionArn: EXECUTION_ARN },
      ]);
    });

    it('writes the record before it starts the execution, so an execution never runs without one', async () => {
      const order: string[] = [];
      const create = store.createDeployment;
      store.createDeployment = (input) => {
        order.push('record');
        return create(input);
      };
      const start = deploys.start.bind(deploys);
      deploys.start = (name, input) => {
        order.push('start');
        return start(name, input);
      };

      await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(order).toEqual(['record', 'start']);
    });

    it('starts the deployment of a duplicate delivery too, so a crash between recording and starting heals', async () => {
      store.recordArtifact = (input) =>
        Promise.resolve({
          created: false,
          artifact: { ...input, receivedAt: '2026-01-01T00:00:00.000Z', receivedBy: 'test' },
        });

      const result = await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(result.duplicates).toHaveLength(1);
      expect(result.started.map((d) => d.deploymentId)).toEqual([DEPLOYMENT_ID]);
    });

    it('counts an execution an earlier delivery started as already started, not as a second start', async () => {
      await receiveArtifact(upload(), 'event:s3', { store, deploys });

      const again = await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(again.started).toEqual([]);
      expect(again.alreadyStarted.map((d) => d.deploymentId)).toEqual([DEPLOYMENT_ID]);
    });

    it('still starts the execution when the record exists with other environments (the manifest changed in between)', async () => {
      store.createDeployment = () =>
        Promise.reject(
          new ConflictError('deployment exists for checkout@2.14.0', `deployment:${DEPLOYMENT_ID}`),
        );

      const result = await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(result.started.map((d) => d.deploymentId)).toEqual([DEPLOYMENT_ID]);
    });

    it('fails the event when the execution cannot be started, after recording the artifact, so a retry starts it', async () => {
      const recorded: unknown[] = [];
      const record = store.recordArtifact;
      store.recordArtifact = (input, options) => {
        recorded.push(input);
        return record(input, options);
      };
      deploys.failWith = new AwsRequestRefusedError('StateMachineDoesNotExist', 'StateMachineDoesNotExist');

      await expect(receiveArtifact(upload(), 'event:s3', { store, deploys })).rejects.toThrow(
        AwsRequestRefusedError,
      );
      expect(recorded).toHaveLength(1);
    });

    it('starts nothing for an artifact no service builds from', async () => {
      const result = await receiveArtifact(
        { ...upload(), key: 'elsewhere/readme.txt' } as ArtifactFacts,
        'event:s3',
        { store, deploys },
      );

      expect(result.skipped).toHaveLength(1);
      expect(store.deployments).toEqual([]);
      expect(deploys.starts).toEqual([]);
    });
  });

  describe('when the artifact is stored but its audit entry cannot be written', () => {
    it('counts the artifact as recorded and reports the missing audit instead of failing the event', async () => {
      store.recordArtifact = (input) =>
        Promise.reject(
          new AuditMissingError('recorded, but the audit entry could not be written', {} as never, {
            created: true,
            artifact: input,
          }),
        );

      const result = await receiveArtifact(upload(), 'event:s3', { store, deploys });

      expect(result.recorded).toEqual([expect.objectContaining({ service: 'checkout', version: '2.14.0' })]);
      expect(result.auditMissing).toEqual(result.recorded);
      expect(result.started).toHaveLength(1);
    });
  });

  describe('when the store fails for another reason', () => {
    it('lets the error reach the caller, so Lambda retries the event, and starts nothing', async () => {
      store.recordArtifact = () => Promise.reject(new Error('ProvisionedThroughputExceededException'));

      await expect(receiveArtifact(upload(), 'event:s3', { store, deploys })).rejects.toThrow(
        'ProvisionedThroughputExceededException',
      );
      expect(deploys.starts).toEqual([]);
    });
  });
});
