import { SFNClient, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { DeployExecutions } from '../../../../shared/aws/sfn';
import { DEPLOYMENT_ID_PATTERN } from '../../../../shared/domain/ids';
import { AwsRequestRefusedError } from '../../../../shared/domain/step-errors';
import { DeploymentRequestError } from '../../../../shared/usecases/deployments/errors';
import { startDeployment, type StartDeploymentInput } from '../../../../shared/usecases/deployments/start';
import { countingIds, seededCheckout, STATE_MACHINE_ARN, T0 } from '../../../support/deployment-fixtures';
import { startDynalite, type LocalDynamo } from '../../../support/dynalite';

const sfn = mockClient(SFNClient);

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(() => {
  sfn.reset();
  sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${input.name}`,
    startDate: new Date(T0),
  }));
});

async function setup() {
  const { store, clock } = await seededCheckout(dynamo);
  const executions = new DeployExecutions(
    new SFNClient({ region: 'us-east-1', maxAttempts: 1 }),
    STATE_MACHINE_ARN,
  );
  const deps = { store, executions, ids: countingIds(), now: clock.now };
  const start = (input: Partial<StartDeploymentInput>) =>
    startDeployment(
      {
        service: 'checkout',
        environments: ['staging'],
        mode: 'deploy',
        trigger: 'cli',
        actor: 'cli:alice',
        ...input,
      },
      deps,
    );
  return { store, start };
}

const startedInputs = () =>
  sfn.commandCalls(StartExecutionCommand).map((call) => {
    const { stateMachineArn, name, input } = call.args[0].input;
    return { stateMachineArn, name, input: JSON.parse(input ?? 'null') as unknown };
  });

async function refusal(promise: Promise<unknown>): Promise<DeploymentRequestError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DeploymentRequestError))
    throw new Error(`expected a DeploymentRequestError, got ${String(error)}`);
  return error;
}

describe('startDeployment', () => {
  describe('a deploy', () => {
    it('records the deployment and starts the state machine without an artifact, under the deployment id', async () => {
      const { store, start } = await setup();

      const { deployment, executionArn } = await start({
        version: '1.1.0',
        environments: ['production', 'staging'],
        reason: 'hotfix',
      });

      expect(deployment.id).toMatch(DEPLOYMENT_ID_PATTERN);
      expect(executionArn).toBe(
        `arn:aws:states:us-east-1:123456789012:execution:kiln-test-deploy:${deployment.id}`,
      );
      expect(await store.getDeployment(deployment.id)).toMatchObject({
        service: 'checkout',
        releaseVersion: '1.1.0',
        environments: ['staging', 'production'],
        trigger: 'cli',
        actor: 'cli:alice',
        reason: 'hotfix',
        mode: 'deploy',
        status: 'queued',
        executionArn,
      });
      expect(startedInputs()).toEqual([
        {
          stateMachineArn: STATE_MACHINE_ARN,
          name: deployment.id,
          input: {
            deploymentId: deployment.id,
            service: 'checkout',
            version: '1.1.0',
            manifestVersion: 1,
            environments: ['staging', 'production'],
            mode: 'deploy',
          },
        },
      ]);
    });

    it('audits the creation with the actor and the reason', async () => {
      const { store, start } = await setup();

      const { deployment } = await start({ version: '1.1.0', reason: 'hotfix' });

      const audit = await store.listAudit({ target: `deployment:${deployment.id}` });
      expect(audit.items).toEqual([
        expect.objectContaining({ action: 'deployment.create', actor: 'cli:alice', reason: 'hotfix' }),
      ]);
    });

    it('gives two deployments started in the same millisecond two ids', async () => {
      const { start } = await setup();

      const first = await start({ version: '1.1.0' });
      const second = await start({ version: '1.0.0' });

      expect(first.deployment.id).not.toBe(second.deployment.id);
    });

    it('refuses a service with no manifest, naming the service, and writes nothing', async () => {
      const { store, start } = await setup();

      const error = await refusal(start({ service: 'ledger', version: '1.1.0' }));

      expect(error.field).toBe('service');
      expect(error.message).toBe(
        'no service named "ledger": `kiln services list` shows the services Kiln knows',
      );
      expect((await store.listDeployments('ledger')).items).toEqual([]);
      expect(startedInputs()).toEqual([]);
    });

    it('refuses an environment the manifest does not have, listing the ones it has', async () => {
      const { store, start } = await setup();

      const error = await refusal(start({ version: '1.1.0', environments: ['staging', 'qa'] }));

      expect(error.field).toBe('environments');
      expect(error.message).toBe('checkout has no environment "qa" (its environments: staging, production)');
      expect((await store.listDeployments('checkout')).items).toEqual([]);
      expect(startedInputs()).toEqual([]);
    });

    it('refuses a release that was never baked, naming the newest ones', async () => {
      const { store, start } = await setup();

      const error = await refusal(start({ version: '9.9.9' }));

      expect(error.field).toBe('version');
      expect(error.message).toBe(
        'checkout has no release 9.9.9: Kiln deploys releases it has baked (newest: 1.2.0, 1.1.0, 1.0.0)',
      );
      expect((await store.listDeployments('checkout')).items).toEqual([]);
    });

    it('refuses a release without an AMI in the Region of an environment asked for', async () => {
      const { start } = await setup();

      const error = await refusal(start({ version: '1.2.0', environments: ['staging', 'production'] }));

      expect(error.message).toBe(
        'release checkout@1.2.0 has no AMI in us-west-2, where production runs (it has: us-east-1)',
      );
      expect(startedInputs()).toEqual([]);
    });

    it('moves the deployment to failed when Step Functions refuses the start, and says why', async () => {
      const { store, start } = await setup();
      sfn.on(StartExecutionCommand).rejects(
        new SFNServiceException({
          name: 'StateMachineDoesNotExist',
          $fault: 'client',
          message: 'State Machine Does Not Exist',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      await expect(start({ version: '1.1.0' })).rejects.toBeInstanceOf(AwsRequestRefusedError);

      const [deployment] = (await store.listDeployments('checkout')).items;
      expect(deployment).toMatchObject({ status: 'failed', outcome: 'failed' });
      expect(deployment?.reason).toMatch(
        /^not started: StartExecution .* AWS refused it \(StateMachineDoesNotExist/,
      );
    });
  });

  describe('a rollback', () => {
    it("restores the environment's previous release when no version is named", async () => {
      const { store, start } = await setup();

      const { deployment } = await start({ mode: 'rollback', environments: ['staging'] });

      expect(await store.getDeployment(deployment.id)).toMatchObject({
        releaseVersion: '1.0.0',
        environments: ['staging'],
        mode: 'rollback',
      });
      expect(startedInputs()[0]?.input).toMatchObject({
        version: '1.0.0',
        mode: 'rollback',
        environments: ['staging'],
      });
    });

    it('restores the version named when the history holds it', async () => {
      const { start } = await setup();

      const { deployment } = await start({ mode: 'rollback', version: '1.0.0' });

      expect(deployment.releaseVersion).toBe('1.0.0');
    });

    it('refuses a version the history does not hold, naming what it holds', async () => {
      const { store, start } = await setup();

      const error = await refusal(start({ mode: 'rollback', version: '1.2.0' }));

      expect(error.field).toBe('version');
      expect(error.message).toBe(
        'checkout/staging has no record of 1.2.0 to restore: its history holds 1.1.0 (current), 1.0.0',
      );
      expect((await store.listDeployments('checkout')).items).toEqual([]);
    });

    it('refuses the current release', async () => {
      const { start } = await setup();

      const error = await refusal(start({ mode: 'rollback', version: '1.1.0' }));

      expect(error.message).toBe(
        'checkout/staging runs 1.1.0 already: its history holds 1.1.0 (current), 1.0.0',
      );
    });

    it('refuses an environment where no rollout has completed', async () => {
      const { start } = await setup();

      const error = await refusal(start({ mode: 'rollback', environments: ['production'] }));

      expect(error.message).toBe(
        'checkout/production has no earlier release to roll back to: its history holds nothing (no rollout has completed there)',
      );
    });

    it('refuses more than one environment', async () => {
      const { start } = await setup();

      const error = await refusal(start({ mode: 'rollback', environments: ['staging', 'production'] }));

      expect(error).toMatchObject({
        field: 'environments',
        message: 'a rollback restores one environment at a time',
      });
    });
  });
});
