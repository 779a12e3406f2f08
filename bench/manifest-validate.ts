/**
 * `kiln validate` on hostile manifests. Prints tables; never passes or fails.
 *
 *   npm run bench:manifests        (needs dist/kiln.cjs: `npm run build:cli` after changes)
 *
 * Whole process: each input is validated by a fresh `node bin/kiln.cjs validate FILE`, paired run
 * by run with two yardsticks — `node -e 0` (Node's own start) and validating examples/checkout.yml
 * (the CLI's start plus a real manifest) — so a machine that speeds up or slows down during the
 * run moves both sides of each ratio. Figures are medians of KILN_BENCH_RUNS runs (default 5).
 *
 * In process: validateManifestSource alone on maps of 5,000 to 70,000 keys (the largest that fits
 * in 1 MiB), to show the cost per key stays flat as the file grows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { validateManifestSource } from '../shared/domain/manifest/yaml';

const ROOT = join(__dirname, '..');
const KILN = join(ROOT, 'bin', 'kiln.cjs');
const CHECKOUT = join(ROOT, 'examples', 'checkout.yml');
const RUNS = Number(process.env.KILN_BENCH_RUNS ?? 5);

function manyKeys(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`k${i}: ${i}`);
  return `${lines.join('\n')}\n`;
}

function inputs(dir: string): Array<{ name: string; path: string }> {
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { name, path };
  };
  let big = readFileSync(CHECKOUT, 'utf8');
  const filler = `# ${'x'.repeat(1022)}\n`;
  while (big.length < 20 * 1024 * 1024) big += filler;
  return [
    { name: 'examples/checkout.yml', path: CHECKOUT },
    { name: 'examples/ledger.yml', path: join(ROOT, 'examples', 'ledger.yml') },
    write('keys-20000.yml', manyKeys(20_000)),
    write('keys-70000.yml (under 1 MiB)', manyKeys(70_000)),
    write('keys-350000.yml', manyKeys(350_000)),
    write('checkout-20MB.yml', big),
    { name: 'alias-bomb.yml', path: join(ROOT, 'test', 'fixtures', 'manifests', 'alias-bomb.yml') },
    write('nested-10000.yml', `name: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`),
  ];
}

interface Run {
  ms: number;
  status: number | null;
  firstLine: string;
}

function time(args: string[]): Run {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - start;
  const output = `${result.stderr}${result.stdout}`;
  return { ms, status: result.status, firstLine: output.split('\n')[0] ?? '' };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const fmt = (cells: string[]) =>
    `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [fmt(header), rule, ...rows.map(fmt)].join('\n');
}

function wholeProcess(dir: string): void {
  const rows: string[][] = [];
  for (const input of inputs(dir)) {
    const vsNode: number[] = [];
    const vsExample: number[] = [];
    const walls: number[] = [];
    let last: Run | undefined;
    time([KILN, 'validate', input.path]); // warm the file cache
    for (let i = 0; i < RUNS; i++) {
      const node = time(['-e', '0']);
      const example = time([KILN, 'validate', CHECKOUT]);
      last = time([KILN, 'validate', input.path]);
      walls.push(last.ms);
      vsNode.push(last.ms / node.ms);
      vsExample.push(last.ms / example.ms);
    }
    const reason = (last?.firstLine ?? '').replace(input.path, 'FILE');
    rows.push([
      input.name,
      statSync(input.path).size.toLocaleString('en-US'),
      String(last?.status ?? '-'),
      Math.round(median(walls)).toString(),
      `${median(vsNode).toFixed(1)}×`,
      `${median(vsExample).toFixed(2)}×`,
      reason.length > 90 ? `${reason.slice(0, 87)}...` : reason,
    ]);
  }
  console.log(`kiln validate FILE, whole process (median of ${RUNS} paired runs)`);
  console.log(
    table(
      ['input', 'bytes', 'exit', 'wall (ms)', 'vs node -e 0', 'vs checkout.yml', 'first line of output'],
      rows,
      [false, true, true, true, true, true, false],
    ),
  );
}

function inProcess(): void {
  const rows: string[][] = [];
  validateManifestSource(manyKeys(1000), 'warm-up.yml');
  let baseline: number | undefined;
  for (const keys of [5_000, 20_000, 70_000]) {
    const text = manyKeys(keys);
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      validateManifestSource(text, 'keys.yml');
      samples.push(performance.now() - start);
    }
    const ms = median(samples);
    const perKey = (ms * 1000) / keys;
    baseline ??= perKey;
    rows.push([
      keys.toLocaleString('en-US'),
      Math.round(ms).toString(),
      perKey.toFixed(1),
      `${(perKey / baseline).toFixed(2)}×`,
    ]);
  }
  console.log(`\nvalidateManifestSource in process, a map of N unknown keys (median of ${RUNS})`);
  console.log(table(['keys', 'ms', 'µs per key', 'per key vs 5,000'], rows, [true, true, true, true]));
}

function main(): void {
  if (!existsSync(join(ROOT, 'dist', 'kiln.cjs'))) {
    console.error('dist/kiln.cjs is missing: run `npm run build:cli` first');
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-manifests-'));
  try {
    wholeProcess(dir);
    inProcess();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
