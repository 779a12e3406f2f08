/**
 * End to end in the sandbox: a function that keeps failing → Lambda's retries → the on-failure
 * destination (Kiln's dead-letter queue, deployed from serverless.yml) → `kiln dead-letters list`
 * shows it → `replay` hands the event back and deletes the message.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Command, CommanderError } from 'commander';
import { registerDeadLetters, type DeadLetterCommandIo } from '../../../cli/commands/dead-letters';
import { createRegion, type Region } from '../../../sandbox/region';
import { sandboxFunctions } from '../../../sandbox/functions';
import type { LambdaHandler } from '../../../sandbox/services/lambda';

const MINUTE = 60_000;

interface Harness {
  region: Region;
  queueUrl: string;
  /** Events the function saw, and whether it failed on them. */
  seen: Array<{ event: unknown; failed: boolean }>;
  setFailing(failing: boolean): void;
  kiln(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }>;
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.region.dispose();
  harness = undefined;
});

async function setup(): Promise<Harness> {
  let failing = true;
  const seen: Harness['seen'] = [];
  const handler: LambdaHandler = async (event) => {
    seen.push({ event, failed: failing });
    if (failing) throw new Error('the store is unreachable');
    return { recorded: 1 };
  };
  const region = await createRegion({
    seed: 11,
    functions: { ...sandboxFunctions, onArtifact: async () => handler },
  });
  const queueUrl = region.queueUrls.get('KilnDeadLetterQueue') ?? '';
  const credentials = { accessKeyId: 'SANDBOX', secretAccessKey: 'sandbox' };
  const kiln = async (args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const io: DeadLetterCommandIo = {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      env: { KILN_DEAD_LETTER_QUEUE: queueUrl },
      createClients: async () => {
        const sqs = new SQSClient({ region: 'us-east-1', credentials });
        const lambda = new LambdaClient({ region: 'us-east-1', credentials });
        region.engine.attach(sqs, 'cli:kiln');
        region.engine.attach(lambda, 'cli:kiln');
        return { sqs, lambda };
      },
    };
    const program = new Command('kiln')
      .exitOverride()
      .configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
    registerDeadLetters(program, io);
    const saved = process.exitCode;
    process.exitCode = undefined;
    let exitCode: number | undefined;
    try {
      await region.engine.run(() => program.parseAsync(args, { from: 'user' }));
      exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      exitCode = error.exitCode;
    } finally {
      process.exitCode = saved;
    }
    return { stdout: out.join(''), stderr: err.join(''), exitCode };
  };
  harness = { region, queueUrl, seen, setFailing: (value) => (failing = value), kiln };
  return harness;
}

/** A CI announces an artifact; on-artifact's rule routes it to the function. */
async function publishAndWait(h: Harness, minutes: number): Promise<void> {
  await h.region.engine.run(async () => {
    h.region.events.putEvent({
      source: 'ci.github',
      detailType: 'Artifact Published',
      detail: { uri: 's3://acme/checkout-1.2.3.tgz', digest: 'sha256:abc' },
    });
  });
  await h.region.engine.advance(minutes * MINUTE);
}

describe('dead letters in the sandbox', () => {
  it('lands an event the function fails on three times in the dead-letter queue, and list shows it', async () => {
    const h = await setup();
    await publishAndWait(h, 5);

    expect(h.seen.map((s) => s.failed)).toEqual([true, true, true]);
    const listed = await h.kiln(['dead-letters', 'list', '--json']);
    expect(listed.stderr).toBe('');
    const letters = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(letters).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{8}$/),
        messageId: expect.any(String),
        kind: 'invocation',
        failedAt: expect.stringMatching(/^2026-01-01T00:0[34]:/),
        function: 'kiln-sandbox-on-artifact',
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kiln-sandbox-on-artifact',
        rule: null,
        error: 'Error: the store is unreachable',
        attempts: 3,
        event: { id: expect.any(String), source: 'ci.github', detailType: 'Artifact Published' },
      },
    ]);
    // Listing leaves the message on the queue and visible.
    expect(h.region.sqs.depth(h.queueUrl)).toBe(1);
    const table = await h.kiln(['dead-letters', 'list']);
    expect(table.stdout).toContain('Artifact Published (ci.github)');
  });

  it('replays the event to the function that failed and deletes the message once Lambda accepted it', async () => {
    const h = await setup();
    await publishAndWait(h, 5);
    const [letter] = JSON.parse((await h.kiln(['dead-letters', 'list', '--json'])).stdout) as Array<{
      id: string;
    }>;
    const original = h.seen[0]?.event;
    h.setFailing(false);

    const replay = await h.kiln(['dead-letters', 'replay', letter?.id ?? '']);
    await h.region.engine.advance(MINUTE);

    expect(replay.stdout).toBe(
      `replayed ${letter?.id} Artifact Published (ci.github) → kiln-sandbox-on-artifact (message deleted)\n`,
    );
    expect(replay.exitCode).toBeUndefined();
    expect(h.seen.at(-1)).toEqual({ event: original, failed: false });
    expect(h.region.sqs.depth(h.queueUrl)).toBe(0);
  });

  it('brings an event that fails again back as a new dead letter, never silently', async () => {
    const h = await setup();
    await publishAndWait(h, 5);
    const [before] = JSON.parse((await h.kiln(['dead-letters', 'list', '--json'])).stdout) as Array<{
      messageId: string;
    }>;

    await h.kiln(['dead-letters', 'replay', '--all']);
    await h.region.engine.advance(5 * MINUTE);

    const after = JSON.parse((await h.kiln(['dead-letters', 'list', '--json'])).stdout) as Array<{
      messageId: string;
    }>;
    expect(after).toHaveLength(1);
    expect(after[0]?.messageId).not.toBe(before?.messageId);
  });

  it('shows what would be replayed with --dry-run and changes nothing', async () => {
    const h = await setup();
    await publishAndWait(h, 5);
    const invocations = h.seen.length;

    const dry = await h.kiln(['dead-letters', 'replay', '--all', '--dry-run']);
    await h.region.engine.advance(MINUTE);

    expect(dry.stdout).toMatch(
      /^would replay [0-9a-f]{8} Artifact Published \(ci\.github\) → kiln-sandbox-on-artifact\n$/,
    );
    expect(h.seen).toHaveLength(invocations);
    expect(h.region.sqs.depth(h.queueUrl)).toBe(1);
  });

  it('refuses an id that names no dead letter, exit 1, and leaves the queue as it was', async () => {
    const h = await setup();
    await publishAndWait(h, 5);

    const result = await h.kiln(['dead-letters', 'replay', 'ffffffff']);

    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe('error: no dead letter with id ffffffff (see `kiln dead-letters list`)\n');
    expect(JSON.parse((await h.kiln(['dead-letters', 'list', '--json'])).stdout)).toHaveLength(1);
  });
});
