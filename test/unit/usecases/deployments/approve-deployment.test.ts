import { SendTaskSuccessCommand, SFNClient, SFNServiceException, TaskTimedOut } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnTasks } from '../../../../shared/aws/sfn';
import { TransientAwsError } from '../../../../shared/domain/step-errors';
import { approveDeployment } from '../../../../shared/usecases/deployments/approve';
import { DeploymentRequestError } from '../../../../shared/usecases/deployments/errors';
import { runningDeployment, seededCheckout, T0 } from '../../../support/deployment-fixtures';
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
  sfn.on(SendTaskSuccessCommand).resolves({});
});

const ID = '01JZ0000000000000000000001';

/** checkout's deployment waiting for production's approval, its token stored as WaitApproval stores it. */
async function waitingForApproval() {
  const { store } = await seededCheckout(dynamo);
  await store.createDeployment(runningDeployment(ID));
  await store.moveDeployment(ID, { from: 'queued', to: 'rolling-out' });
  await store.moveDeployment(ID, { from: 'rolling-out', to: 'waiting-approval' });
  await store.putTaskToken({
    waitKind: 'approval',
    key: ID,
    token: 'approval-token',
    deploymentId: ID,
    expiresAt: T0 + 86_400_000,
  });
  const tasks = new SfnTasks(new SFNClient({ region: 'us-east-1', maxAttempts: 1 }));
  return { store, deps: { store, tasks } };
}

const sent = () =>
  sfn.commandCalls(SendTaskSuccessCommand).map((call) => ({
    token: call.args[0].input.taskToken,
    output: JSON.parse(call.args[0].input.output ?? 'null') as unknown,
  }));

describe('approveDeployment', () => {
  it('resumes the approval wait with the answer and the actor, and takes the token', async () => {
    const { store, deps } = await waitingForApproval();

    const result = await approveDeployment(
      { deploymentId: ID, actor: 'cli:alice', approved: true, reason: 'looks good' },
      deps,
    );

    expect(result).toEqual({ outcome: 'approved' });
    expect(sent()).toEqual([
      { token: 'approval-token', output: { approved: true, actor: 'cli:alice', reason: 'looks good' } },
    ]);
    expect(await store.takeTaskToken('approval', ID)).toBeUndefined();
  });

  it('sends a refusal as approved: false and audits it with the actor and the reason', async () => {
    const { store, deps } = await waitingForApproval();

    const result = await approveDeployment(
      { deploymentId: ID, actor: 'cli:bob', approved: false, reason: 'freeze' },
      deps,
    );

    expect(result).toEqual({ outcome: 'refused' });
    expect(sent()[0]?.output).toEqual({ approved: false, actor: 'cli:bob', reason: 'freeze' });
    const audit = await store.listAudit({ target: `deployment:${ID}` });
    expect(audit.items[0]).toMatchObject({
      action: 'deployment.refuse',
      actor: 'cli:bob',
      reason: 'freeze',
      service: 'checkout',
      after: { approved: false },
    });
  });

  it('refuses a deployment that is not waiting for approval, and sends nothing', async () => {
    const { store, deps } = await waitingForApproval();
    await store.moveDeployment(ID, { from: 'waiting-approval', to: 'rolling-out' });

    await expect(
      approveDeployment({ deploymentId: ID, actor: 'cli:alice', approved: true }, deps),
    ).rejects.toThrow(
      new DeploymentRequestError(`deployment ${ID} is rolling-out, not waiting for approval`, 'deploymentId'),
    );
    expect(sent()).toEqual([]);
  });

  it('refuses a deployment that does not exist', async () => {
    const { deps } = await waitingForApproval();

    await expect(
      approveDeployment(
        { deploymentId: '01JZ0000000000000000000009', actor: 'cli:alice', approved: true },
        deps,
      ),
    ).rejects.toThrow('no deployment 01JZ0000000000000000000009');
  });

  it('answers once when two approvers answer: the second finds no approval waiting', async () => {
    const { deps } = await waitingForApproval();

    await approveDeployment({ deploymentId: ID, actor: 'cli:alice', approved: true }, deps);
    const second = approveDeployment({ deploymentId: ID, actor: 'cli:bob', approved: true }, deps);

    await expect(second).rejects.toThrow(/has no approval waiting: it was answered or timed out/);
    expect(sent()).toHaveLength(1);
  });

  it('says the wait has ended when Step Functions no longer knows the task, and audits nothing', async () => {
    const { store, deps } = await waitingForApproval();
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    await expect(
      approveDeployment({ deploymentId: ID, actor: 'cli:alice', approved: true }, deps),
    ).rejects.toThrow(
      `the approval wait of deployment ${ID} has ended (TaskTimedOut): it timed out or its execution stopped`,
    );
    const audit = await store.listAudit({ target: `deployment:${ID}` });
    expect(audit.items.map((entry) => entry.action)).not.toContain('deployment.approve');
  });

  it('puts the token back when Step Functions fails for a moment, so trying again works', async () => {
    const { store, deps } = await waitingForApproval();
    sfn.on(SendTaskSuccessCommand).rejectsOnce(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(
      approveDeployment({ deploymentId: ID, actor: 'cli:alice', approved: true }, deps),
    ).rejects.toBeInstanceOf(TransientAwsError);
    const again = await approveDeployment({ deploymentId: ID, actor: 'cli:alice', approved: true }, deps);

    expect(again).toEqual({ outcome: 'approved' });
    expect(await store.takeTaskToken('approval', ID)).toBeUndefined();
  });
});
