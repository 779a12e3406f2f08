/**
 * Lifecycle hooks under load (`KILN_BENCH_SECTIONS=drain`): the `drain` story (6 instances, 300 s
 * deregistration delay, 60 s heartbeat timeout, a graceful-stop command) and `drain-storm` (1,000
 * instances terminating at once with AWS's published request rates on). Figures from the timeline:
 * virtual seconds from Terminating:Wait to the completion (Terminating:Proceed), and the API calls
 * the handling made (on-lifecycle and lifecycle-steps) per instance, by service, and how many of
 * them were throttled (and retried).
 */
import { runSandbox } from '../sandbox/run';
import { renderTable } from './paired';
import type { Headline, SectionResult } from './results';

const SERVICES = ['Auto Scaling', 'Elastic Load Balancing v2', 'EC2', 'SSM', 'SFN', 'DynamoDB'];

export interface DrainRow {
  scenario: string;
  ok: boolean;
  figures: Record<string, unknown>;
  wallMs: number;
}

export async function drainTable(seed: number): Promise<SectionResult<{ runs: DrainRow[] }>> {
  const rows: string[][] = [];
  const runs: DrainRow[] = [];
  for (const scenario of ['drain', 'drain-storm']) {
    const started = performance.now();
    const result = await runSandbox({ seed, fleet: 6, scenario });
    const f = result.figures;
    const byService = (service: string) => String(f[`calls per instance: ${service}`] ?? 0);
    rows.push([
      scenario,
      result.ok ? 'pass' : 'FAIL',
      String(f.instances),
      String(Math.round(Number(f['completion p50 (s)']))),
      String(Math.round(Number(f['completion p99 (s)']))),
      String(Math.round(Number(f['completion max (s)']))),
      String(f['API calls per instance']),
      ...SERVICES.map(byService),
      String(f['throttled calls']),
      String(Math.round(performance.now() - started)),
    ]);
    runs.push({ scenario, ok: result.ok, figures: { ...f }, wallMs: performance.now() - started });
  }
  const headlines: Headline[] = runs.map((r) => ({
    figure: `${r.scenario}: ${String(r.figures.instances)} hooks, completion p99 (virtual s); API calls per instance`,
    value: `${Math.round(Number(r.figures['completion p99 (s)']))} s; ${String(r.figures['API calls per instance'])}${r.ok ? '' : ' (checks FAILED)'}`,
  }));
  const text = [
    `lifecycle hooks: drain before terminate (seed ${seed}; completion = virtual s from Terminating:Wait to CompleteLifecycleAction)`,
    renderTable(
      [
        'scenario',
        'checks',
        'instances',
        'completion p50 (s)',
        'p99 (s)',
        'max (s)',
        'API calls / instance',
        ...SERVICES.map((s) => `${s} / inst.`),
        'throttled',
        'wall (ms)',
      ],
      rows,
    ),
  ].join('\n');
  return { text, headlines, data: { runs } };
}
