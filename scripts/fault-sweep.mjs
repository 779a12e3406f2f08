// The acceptance sweep of issue 6: every seed × injected fault × scenario through the built CLI
// (`bin/kiln.cjs sandbox`). A faulted run must end in its checks — exit 0 (passed) or 1 (a check
// failed) — print them, and write its timeline; exit 2 is for Kiln's own bugs only.
//
//   node scripts/fault-sweep.mjs [--seeds 1-15] [--fleet 6] [--jobs 2] [--fault SPEC]… [--scenario NAME]…
//
// (--fault and --scenario replace the five faults and both scenarios.)
// Prints one table per scenario (rows: faults, columns: seeds, cells: exit codes; a `!` marks a
// run that printed no checks or wrote no timeline) and exits 1 when any cell is bad.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1-15' },
    fleet: { type: 'string', default: '6' },
    jobs: { type: 'string', default: '2' },
    fault: { type: 'string', multiple: true },
    scenario: { type: 'string', multiple: true },
  },
});
const FAULTS = values.fault ?? [
  'api-5xx@0.2',
  'throttle@0.2',
  'event-loss@0.3',
  'event-duplicate@0.5',
  'handler-crash@0.3',
];
const SCENARIOS = values.scenario ?? ['default', 'instance-refresh'];
const [firstSeed, lastSeed = firstSeed] = values.seeds.split('-').map(Number);
if (!Number.isInteger(firstSeed) || !Number.isInteger(lastSeed) || lastSeed < firstSeed) {
  console.error(`--seeds must be N or N-M, got ${values.seeds}`);
  process.exit(1);
}
const seeds = Array.from({ length: lastSeed - firstSeed + 1 }, (_, i) => firstSeed + i);
const cli = join(import.meta.dirname, '..', 'bin', 'kiln.cjs');
const dir = mkdtempSync(join(tmpdir(), 'kiln-fault-sweep-'));

function runOne({ scenario, fault, seed }) {
  const timeline = join(dir, `${scenario}-${fault}-${seed}.jsonl`);
  const args = [cli, 'sandbox', '--quiet', '--scenario', scenario, '--seed', String(seed)];
  args.push('--fleet', values.fleet, '--fault', fault, '--timeline', timeline);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => {
      const wroteTimeline = existsSync(timeline) && statSync(timeline).size > 0;
      const failed = [...stdout.matchAll(/^ {2}FAIL (.*)$/gm)].map((m) => m[1]);
      resolve({
        scenario,
        fault,
        seed,
        code,
        printedChecks: stdout.includes('\nchecks:\n'),
        wroteTimeline,
        failed,
        stderr: stderr.trim(),
      });
    });
  });
}

const runs = SCENARIOS.flatMap((scenario) =>
  FAULTS.flatMap((fault) => seeds.map((seed) => ({ scenario, fault, seed }))),
);
const results = [];
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Math.max(1, Number(values.jobs)) }, async () => {
    while (next < runs.length) results.push(await runOne(runs[next++]));
  }),
);
rmSync(dir, { recursive: true, force: true });

const good = (r) => (r.code === 0 || r.code === 1) && r.printedChecks && r.wroteTimeline;
const cell = (r) => `${r.code ?? 'x'}${good(r) ? '' : '!'}`;
const faultWidth = Math.max(...FAULTS.map((f) => f.length));
for (const scenario of SCENARIOS) {
  console.log(`\nscenario ${scenario} (fleet ${values.fleet}): exit code per seed`);
  console.log(
    `${'fault'.padEnd(faultWidth)}  ${seeds.map((s) => String(s).padStart(2)).join(' ')}   0s  1s  2s`,
  );
  for (const fault of FAULTS) {
    const row = seeds.map((seed) =>
      results.find((r) => r.scenario === scenario && r.fault === fault && r.seed === seed),
    );
    const count = (code) => String(row.filter((r) => r.code === code).length).padStart(3);
    console.log(
      `${fault.padEnd(faultWidth)}  ${row.map((r) => cell(r).padStart(2)).join(' ')}  ${count(0)} ${count(1)} ${count(2)}`,
    );
  }
}

const bad = results.filter((r) => !good(r));
const failures = new Map();
for (const r of results.filter((r) => r.code === 1)) {
  for (const line of r.failed) {
    const name = `${r.scenario} · ${line.replace(/: .*/, '')}`;
    failures.set(name, (failures.get(name) ?? 0) + 1);
  }
}
console.log('\nfailed checks (runs that exited 1):');
for (const [name, n] of [...failures].sort((a, b) => b[1] - a[1]))
  console.log(`  ${String(n).padStart(3)}× ${name}`);
console.log(
  `\n${results.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s wall: ` +
    `${results.filter((r) => r.code === 0).length} passed, ${results.filter((r) => r.code === 1).length} failed a check, ` +
    `${bad.length} bad (exit 2, no checks or no timeline)`,
);
for (const r of bad) {
  console.log(`  ${r.scenario} ${r.fault} seed ${r.seed}: exit ${r.code}: ${r.stderr.split('\n').pop()}`);
}
process.exitCode = bad.length > 0 ? 1 : 0;
