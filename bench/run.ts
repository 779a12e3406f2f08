/**
 * Kiln's measurements. Prints a table; never passes or fails (CI does not time anything).
 *
 *   npm run bench
 *
 * sandbox: the instance-refresh story (checkpoints 25/50/100 %, MinHealthy 90 %, warmup 60 s)
 * at several fleet sizes, each a fresh region in this process. Figures are the virtual time the
 * refresh took, the wall time the simulation took, their ratio (virtual seconds per wall second),
 * and the wall time relative to the smallest fleet, the baseline run first in the same process.
 */
import { runSandbox } from '../sandbox/run';

const fleets = (process.env.KILN_BENCH_FLEETS ?? '10,50,100,200').split(',').map(Number);
const seed = Number(process.env.KILN_BENCH_SEED ?? 7);

interface Row {
  fleet: number;
  ok: boolean;
  refreshVirtualS: number;
  refreshWallMs: number;
  ratio: number;
}

async function main(): Promise<void> {
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
