import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Runs a Node child that writes `bytes` to stdout and to stderr and at once ends through
 * exitWhenFlushed(code). A pipe takes 64 KiB at a time on Linux, so most of each write is still
 * queued in the child when it asks to exit, however fast this side reads.
 */
function runChild(bytes: number, code: number): Promise<{ status: number | null; out: number; err: number }> {
  const script = `
    const { exitWhenFlushed } = require('./cli/exit.ts');
    process.stdout.write('o'.repeat(${bytes}));
    process.stderr.write('e'.repeat(${bytes}));
    exitWhenFlushed(${code});
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT });
    let out = 0;
    let err = 0;
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.length));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.length));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out, err }));
  });
}

describe('exitWhenFlushed', () => {
  it('ends the process with the code only after stdout and stderr have written everything to a pipe', async () => {
    const result = await runChild(2 * 1024 * 1024, 3);
    expect(result).toEqual({ status: 3, out: 2 * 1024 * 1024, err: 2 * 1024 * 1024 });
  }, 30_000);
});
