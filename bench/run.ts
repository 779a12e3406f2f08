/**
 * Kiln's measurements. Prints tables; never passes or fails (CI does not time anything).
 *
 *   npm run bench                                  # every section
 *   KILN_BENCH_SECTIONS=cold,cli npm run bench     # some of them (cold, cli, fleet)
 *   KILN_BENCH_ROUNDS=21 npm run bench             # more paired rounds for cold and cli (default 11)
 *   KILN_BENCH_ENV=clean npm run bench             # measured processes start from PATH and HOME only
 *   KILN_BENCH_ROOT=/tmp/old npm run bench         # cold and cli of another checkout (e.g. an older commit)
 *
 * cold: every deployed function's cold start as ratios to `node -e 0` (bench/cold-start.ts).
 * cli: `kiln --help` and `kiln validate` as ratios to `node -e 0` (bench/cli-start.ts).
 *
 * sandbox: the instance-refresh story (checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)
 * at several fleet sizes, each a fresh region in this process. Figures are the virtual time the
 * refresh took, the wall time the simulation took, their ratio (virtual seconds per wall second),
 * and the wall time relative to the smallest fleet, the baseline run first in the same process.
 */
import { join } from 'node:path';
import { runSandbox } from '../sandbox/run';
import { cliStartTable } from './cli-start';
import { coldStartTable } from './cold-start';

const fleets = (process.env.KILN_BENCH_FLEETS ?? '10,50,100,200').split(',').map(Number);
const seed = Number(process.env.KILN_BENCH_SEED ?? 7);

interface Row {
  fleet: number;
  ok: boolean;
  refreshVirtualS: number;
  refreshWallMs: number;
  ratio: number;
}

const sections = new Set((process.env.KILN_BENCH_SECTIONS ?? 'cold,cli,fleet').split(','));
const rounds = Number(process.env.KILN_BENCH_ROUNDS ?? 11);
const environment = process.env.KILN_BENCH_ENV === 'clean' ? 'clean' : 'inherit';
const root = process.env.KILN_BENCH_ROOT ?? join(__dirname, '..');

async function main(): Promise<void> {
  // Process start-ups first, while this process is still small and quiet.
  if (sections.has('cold')) console.log(`${await coldStartTable(root, { rounds, environment })}\n`);
  if (sections.has('cli')) console.log(`${await cliStartTable(root, { rounds, environment })}\n`);
  if (sections.has('fleet')) await fleetTable();
}

async function fleetTable(): Promise<void> {
  const rows: Row[] = [];
  // A warm-up run so module loading and JIT do not land on the baseline.
  await runSandbox({ seed, fleet: fleets[0] ?? 10, scenario: 'instance-refresh' });
  for (const fleet of fleets) {
    const result = await runSandbox({ seed, fleet, scenario: 'instance-refresh' });
    const virtualS = Number(result.figures['refresh (virtual s)']);
    const wallMs = Number(result.figures['refresh (wall ms)']);
    rows.push({
      fleet,
      ok: result.ok,
      refreshVirtualS: virtualS,
      refreshWallMs: wallMs,
      ratio: (virtualS * 1000) / wallMs,
    });
  }
  const baseline = rows[0];
  const header = [
    'fleet',
    'checks',
    'refresh virtual (s)',
    'refresh wall (ms)',
    'virtual:wall',
    'wall vs baseline',
  ];
  const lines = rows.map((r) => [
    String(r.fleet),
    r.ok ? 'pass' : 'FAIL',
    String(Math.round(r.refreshVirtualS)),
    String(Math.round(r.refreshWallMs)),
    `${Math.round(r.ratio)}×`,
    baseline ? `${(r.refreshWallMs / baseline.refreshWallMs).toFixed(2)}×` : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]?.length ?? 0)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(
    `sandbox instance refresh (seed ${seed}; checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)`,
  );
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(fmt(line));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
