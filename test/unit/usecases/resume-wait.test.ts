import type { TaskResumption } from '../../../shared/aws/sfn';
import type { ProgressSignal } from '../../../shared/domain/waits';
import { TransientAwsError } from '../../../shared/domain/step-errors';
import type { TaskToken } from '../../../shared/store';
import { resumeWait, type ResumeWaitDeps } from '../../../shared/usecases/resume-wait';

type TokenStore = ResumeWaitDeps['store'];
type Tasks = ResumeWaitDeps['tasks'];

/** An in-memory token table with the store's take/restore semantics. */
class FakeTokens implements TokenStore {
  readonly tokens = new Map<string, TaskToken>();
  put(token: TaskToken): void {
    this.tokens.set(`${token.waitKind}#${token.key}`, token);
  }
  async takeTaskToken(waitKind: TaskToken['waitKind'], key: string): Promise<TaskToken | undefined> {
    const token = this.tokens.get(`${waitKind}#${key}`);
    this.tokens.delete(`${waitKind}#${key}`);
    return token;
  }
  async restoreTaskToken(token: TaskToken): Promise<boolean> {
    if (this.tokens.has(`${token.waitKind}#${token.key}`)) return false;
    this.put(token);
    return true;
  }
}

class FakeTasks implements Tasks {
  readonly sent: Array<{ token: string; output: unknown }> = [];
  answer: () => Promise<TaskResumption> = async () => ({ outcome: 'resumed' });
  async succeed(token: string, output: unknown): Promise<TaskResumption> {
    this.sent.push({ token, output });
    return this.answer();
  }
}

const available = (): ProgressSignal => ({
  waitKind: 'image',
  key: 'ami-0abc',
  detailType: 'EC2 AMI State Change',
  state: 'available',
});

const waiting = (overrides: Partial<TaskToken> = {}): TaskToken => ({
  waitKind: 'image',
  key: 'ami-0abc',
  token: 'token-1',
  deploymentId: 'checkout-1_4_2-0123456789abcdef',
  expiresAt: 1_800_000_000_000,
  ...overrides,
});

describe('resumeWait', () => {
  let store: FakeTokens;
  let tasks: FakeTasks;
  beforeEach(() => {
    store = new FakeTokens();
    tasks = new FakeTasks();
  });

  it('wakes the task waiting for the image with a wake-up output, and takes its token', async () => {
    store.put(waiting());

    const result = await resumeWait(available(), { store, tasks });

    expect(result).toEqual({ outcome: 'resumed', deploymentId: 'checkout-1_4_2-0123456789abcdef' });
    expect(tasks.sent).toEqual([
      {
        token: 'token-1',
        output: { woken: 'event', detailType: 'EC2 AMI State Change', state: 'available' },
      },
    ]);
    expect(store.tokens.size).toBe(0);
  });

  it('wakes the task once when the event is delivered twice', async () => {
    store.put(waiting());

    await resumeWait(available(), { store, tasks });
    const again = await resumeWait(available(), { store, tasks });

    expect(again).toEqual({ outcome: 'no-waiter' });
    expect(tasks.sent).toHaveLength(1);
  });

  it('wakes a failed image too: the task reads the failure itself', async () => {
    store.put(waiting());
    const result = await resumeWait({ ...available(), state: 'failed' }, { store, tasks });
    expect(result.outcome).toBe('resumed');
    expect(tasks.sent[0]?.output).toMatchObject({ state: 'failed' });
  });

  it('leaves the token alone for a state that does not end the wait', async () => {
    store.put(waiting({ waitKind: 'command', key: 'cmd-1' }));

    const result = await resumeWait(
      {
        waitKind: 'command',
        key: 'cmd-1',
        detailType: 'EC2 Command Status-change Notification',
        state: 'InProgress',
      },
      { store, tasks },
    );

    expect(result).toEqual({ outcome: 'not-terminal' });
    expect(tasks.sent).toEqual([]);
    expect(store.tokens.size).toBe(1);
  });

  it('does not wake a task waiting for something else of the same id', async () => {
    store.put(waiting({ waitKind: 'command' }));
    expect(await resumeWait(available(), { store, tasks })).toEqual({ outcome: 'no-waiter' });
    expect(tasks.sent).toEqual([]);
  });

  it('reports a task that had already ended as gone, not as a failure', async () => {
    store.put(waiting());
    tasks.answer = async () => ({ outcome: 'gone', code: 'TaskTimedOut' });

    expect(await resumeWait(available(), { store, tasks })).toEqual({
      outcome: 'task-gone',
      deploymentId: 'checkout-1_4_2-0123456789abcdef',
      code: 'TaskTimedOut',
    });
    expect(store.tokens.size).toBe(0);
  });

  it('puts the token back and rethrows when the wake fails transiently, so a retry can wake the task', async () => {
    store.put(waiting());
    tasks.answer = async () => {
      throw new TransientAwsError(
        'resume waiting task: AWS failed transiently (ThrottlingException)',
        'ThrottlingException',
      );
    };

    await expect(resumeWait(available(), { store, tasks })).rejects.toBeInstanceOf(TransientAwsError);
    expect(store.tokens.get('image#ami-0abc')).toEqual(waiting());

    tasks.answer = async () => ({ outcome: 'resumed' });
    expect((await resumeWait(available(), { store, tasks })).outcome).toBe('resumed');
  });

  it('does not put the token back over a newer one the task stored meanwhile', async () => {
    store.put(waiting());
    tasks.answer = async () => {
      store.put(waiting({ token: 'token-2' }));
      throw new TransientAwsError('throttled', 'ThrottlingException');
    };

    await expect(resumeWait(available(), { store, tasks })).rejects.toBeInstanceOf(TransientAwsError);
    expect(store.tokens.get('image#ami-0abc')?.token).toBe('token-2');
  });
});
