/**
 * `kiln sandbox --report FILE.html`: one self-contained page that explains a run to someone who
 * has never seen Kiln. Per environment: instances by release over virtual time, healthy targets,
 * alarm states and what Kiln was doing to it; above them, every deployment as a row of steps, its
 * waits hatched; below, what happened in order, in words.
 *
 * Pure: a RunRecord and the run's outcome in, one HTML string out. The page loads nothing (no
 * script, font, image, stylesheet or link to anything outside itself), so it opens the same from
 * a CI artifact, an e-mail or a laptop offline.
 */
import type { RunRecord } from '../observe/record';
import { fleetSeries } from '../observe/series';
import type { StoryCheck } from '../stories/types';
import {
  deploymentsOf,
  lifecycleActivity,
  momentsOf,
  STEP_KINDS,
  type Deployment,
  type KnownStepKey,
} from './steps';
import {
  clock,
  deploymentsChart,
  duration,
  environmentChart,
  escapeText,
  releaseColours,
  sharedDefs,
  stepLegendColour,
  timeScale,
} from './svg';

/** What the page says about the run besides its record. */
export interface ReportRun {
  scenario: string;
  description?: string;
  seed: number;
  fleet: number;
  /** The story's checks; absent when the run ended in an error before it had any. */
  checks?: readonly StoryCheck[];
  figures?: Readonly<Record<string, string | number>>;
  faultsStruck?: ReadonlyArray<{ rule: string; strikes: number }>;
  /** A run that ended in an error (a bug in Kiln or the sandbox): its one-line message. */
  error?: string;
  wallMs?: number;
}

/** At most this many lines in "what happened": a drain storm has thousands; the page stays light. */
const MAX_MOMENTS = 600;

export function renderReport(record: RunRecord, run: ReportRun): string {
  const entries = record.entries;
  const end = entries.length > 0 ? (entries[entries.length - 1]?.t ?? 0) : 0;
  const scale = timeScale(end);
  const series = fleetSeries(record);
  const colours = releaseColours(series);
  const deployments = deploymentsOf(record);
  const hooks = lifecycleActivity(record);
  const moments = momentsOf(record, deployments);
  const passed = run.error === undefined && (run.checks ?? []).every((c) => c.ok);
  const title = `Kiln sandbox run: ${run.scenario} (seed ${run.seed})`;

  const environmentSections = series.map((s) => {
    const env = s.environment;
    const steps = deployments.flatMap((d) => d.steps.filter((step) => step.environment === env.environment));
    const releases = [...colours.entries()].filter(([r]) =>
      s.samples.some((sample) => (sample.inServiceByVersion[r] ?? 0) > 0),
    );
    const last = s.samples[s.samples.length - 1];
    const now =
      last === undefined
        ? 'no instance was seen'
        : `at the end: ${
            Object.entries(last.inServiceByVersion)
              .map(([r, n]) => `${n} on ${r}`)
              .join(', ') || 'no instance in service'
          }, ${last.targets.healthy ?? 0} healthy targets`;
    const groups = env.groups
      .map((g) => {
        const facts = record.groups.get(g);
        const made = facts?.tags['kiln:service'] !== undefined ? 'made by Kiln' : 'made by the platform team';
        return `<li><code>${escapeText(g)}</code> (${made}${facts !== undefined ? `, at ${clock(facts.createdAt)}` : ''})</li>`;
      })
      .join('');
    return `
<section class="environment" id="env-${escapeText(env.service)}-${escapeText(env.environment)}" data-environment="${escapeText(env.environment)}">
  <h3>${escapeText(env.service)} in <em>${escapeText(env.environment)}</em></h3>
  <p class="facts">${escapeText(now)}. ${env.minHealthyPercentage !== undefined ? `Kiln keeps at least ${env.minHealthyPercentage} % of it healthy while it changes it. ` : ''}Alarms Kiln watches: ${env.alarmNames.map((a) => `<code>${escapeText(a)}</code>`).join(', ') || 'none'}.</p>
  ${environmentChart(scale, s, steps, colours)}
  <div class="legend">
    ${releases.map(([r, c]) => swatch(c, `in service on release ${r}`)).join('')}
    ${swatch('#b8b8b8', 'starting (launching, in a lifecycle hook)', true)}
    ${swatch('#6f6f6f', 'stopping (draining, terminating)', true)}
    <span class="item"><span class="line healthy"></span>targets the load balancer sees healthy</span>
    ${s.samples.some((sample) => sample.waiting > 0) ? swatch('#e15759', 'in a hook: instances held in a lifecycle hook (drained before they stop, checked before they serve)') : ''}
    ${env.groups.length > 1 ? swatch('#7a8fa6', 'in service per Auto Scaling group (blue/green: blue and green)') : ''}
    ${swatch('#cfe8cf', 'alarm OK')}${swatch('#d62728', 'alarm ALARM')}${swatch('#dddddd', 'alarm has no data yet')}
  </div>
  <details><summary>Auto Scaling groups of this environment (${env.groups.length})</summary><ul>${groups}</ul></details>
</section>`;
  });

  const checks = run.checks ?? [];
  const outcome =
    run.error !== undefined
      ? `<p class="verdict failed">The run stopped with an error (a bug in Kiln or the sandbox): <code>${escapeText(run.error)}</code></p>`
      : `<p class="verdict ${passed ? 'passed' : 'failed'}">${passed ? `All ${checks.length} checks passed.` : `${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed.`}</p>`;
  const figures = Object.entries(run.figures ?? {});
  const struck = run.faultsStruck ?? [];
  const shown = moments.slice(0, MAX_MOMENTS);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeText(title)}</title>
<style>${CSS}</style>
</head>
<body>
${sharedDefs()}
<header>
  <h1>${escapeText(title)}</h1>
  <p class="intro">Kiln deploys services as machine images: it bakes each new release into an image once, then
  replaces the instances of each environment (staging, then production…) with instances of that image,
  waiting where it must — for healthy targets, for a bake time, for a person's approval — and puts the
  previous release back when an alarm fires. This page shows one run of <code>kiln sandbox</code>: Kiln's
  real code against a simulated AWS region. Times are <strong>virtual</strong> (h:mm:ss since the run began);
  the run covered ${escapeText(duration(end))} of virtual time${run.wallMs !== undefined ? ` in ${(run.wallMs / 1000).toFixed(1)} s of real time` : ''}.</p>
  <p class="scenario">Scenario <strong>${escapeText(run.scenario)}</strong>${run.description !== undefined ? `: ${escapeText(run.description)}` : ''} · seed ${run.seed} · fleet ${run.fleet}</p>
  ${outcome}
</header>

<section class="deployments" id="deployments">
  <h2>What Kiln did</h2>
  <p>Each row is one deployment (one run of Kiln's deploy workflow) and the steps it went through.
  Hatched steps are <strong>waits</strong>: Kiln is deliberately doing nothing until time passes, a person answers
  or AWS reports back. Hover a step for its exact times.</p>
  ${deploymentsChart(scale, deployments, hooks, moments)}
  <div class="legend">${(Object.keys(STEP_KINDS) as KnownStepKey[])
    .filter((k) => deployments.some((d) => d.steps.some((s) => s.key === k)))
    .map((k) => {
      const { colour, wait } = stepLegendColour(k);
      return swatch(colour, `${STEP_KINDS[k].label}: ${STEP_KINDS[k].explain}`, wait);
    })
    .join('')}
    ${moments.some((m) => m.kind === 'alarm' && /ALARM/.test(m.text)) ? '<span class="item"><svg class="mark" viewBox="0 0 12 12"><path d="M6 0 L12 12 L0 12 Z" fill="#d62728"/></svg>an alarm went into ALARM (grey: back to OK)</span>' : ''}
    ${moments.some((m) => m.kind === 'slack') ? '<span class="item"><svg class="mark" viewBox="0 0 12 12"><circle cx="6" cy="6" r="5" fill="#4a154b"/></svg>a Slack message</span>' : ''}
    ${moments.some((m) => m.kind === 'fault') ? '<span class="item"><svg class="mark" viewBox="0 0 12 12"><path d="M6 0 L12 12 L0 12 Z" fill="#999999"/></svg>an injected fault</span>' : ''}
  </div>
  ${deployments.length > 0 ? deploymentTable(deployments) : ''}
</section>

<section class="environments" id="environments">
  <h2>The environments</h2>
  <p>One chart per environment, on the same clock as the rows above. The coloured areas are instances
  serving, by the release they run; the dark line is how many of them the load balancer considers healthy
  (what users are served by). Under it, each alarm's state.</p>
  ${environmentSections.join('\n') || '<p class="empty">This scenario declared no environment.</p>'}
</section>

<section class="checks" id="checks">
  <h2>Checks</h2>
  ${checks.length > 0 ? `<table><thead><tr><th></th><th>check</th><th>what was found</th></tr></thead><tbody>${checks.map((c) => `<tr class="${c.ok ? 'ok' : 'fail'}"><td>${c.ok ? 'ok' : 'FAIL'}</td><td>${escapeText(c.name)}</td><td>${escapeText(c.detail)}</td></tr>`).join('')}</tbody></table>` : '<p class="empty">No checks ran.</p>'}
  ${figures.length > 0 ? `<p class="figures">${figures.map(([k, v]) => `${escapeText(k)}: <strong>${escapeText(String(v))}</strong>`).join(' · ')}</p>` : ''}
  ${struck.length > 0 ? `<p class="faults">Faults injected that struck: ${struck.map((f) => `<code>${escapeText(f.rule)}</code> ×${f.strikes}`).join(', ')}</p>` : ''}
</section>

<section class="moments" id="moments">
  <h2>What happened, in order</h2>
  <table><thead><tr><th>time</th><th>who</th><th>what</th></tr></thead><tbody>
  ${shown.map((m) => `<tr class="moment-${m.kind}${m.kind === 'alarm' && /→ ALARM$/.test(m.text) ? ' fired' : ''}"><td>${clock(m.t)}</td><td>${WHO[m.kind]}</td><td>${escapeText(m.text)}</td></tr>`).join('\n')}
  </tbody></table>
  ${moments.length > shown.length ? `<p class="empty">…and ${moments.length - shown.length} more (the timeline, <code>--timeline FILE</code>, has everything).</p>` : ''}
</section>
</body>
</html>
`;
}

const WHO: Record<ReturnType<typeof momentsOf>[number]['kind'], string> = {
  story: 'the story',
  slack: 'Slack',
  alarm: 'CloudWatch',
  deployment: 'Kiln',
  fault: 'fault',
  failure: 'failure',
};

function swatch(colour: string, label: string, hatched = false): string {
  return `<span class="item"><span class="swatch${hatched ? ' hatched' : ''}" style="background-color:${colour}"></span>${escapeText(label)}</span>`;
}

function deploymentTable(deployments: readonly Deployment[]): string {
  const rows = deployments.map((d) => {
    const waited = d.steps.filter((s) => s.kind === 'wait').reduce((n, s) => n + s.end - s.start, 0);
    const envs = [...new Set(d.steps.map((s) => s.environment).filter((e) => e !== undefined))];
    return `<tr><td><code>${escapeText(d.name)}</code></td><td>${escapeText(d.release ?? '—')}</td><td>${escapeText(envs.join(' → ') || '—')}</td><td>${clock(d.start)}</td><td>${escapeText(duration(d.end - d.start))}</td><td>${escapeText(duration(waited))}</td><td>${escapeText(d.status.toLowerCase())}${d.lastState !== undefined ? ` (${escapeText(d.lastState)})` : ''}</td></tr>`;
  });
  return `<table class="deployment-table"><thead><tr><th>deployment</th><th>release it launched</th><th>environments</th><th>started</th><th>took</th><th>of which waiting</th><th>ended</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0 auto; max-width: 1240px; padding: 16px 20px 40px; color: #1d1d1f; background: #fff; }
h1 { font-size: 22px; margin: 4px 0 8px; }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
p { line-height: 1.45; margin: 6px 0; font-size: 14px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.verdict { font-weight: 600; padding: 6px 10px; border-radius: 4px; display: inline-block; }
.verdict.passed { background: #e3f3e3; color: #1b5e20; }
.verdict.failed { background: #fde2e2; color: #8b0000; }
svg.defs { position: absolute; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0; font-size: 11px; }
.axis { stroke: #555; stroke-width: 1; }
.grid { stroke: #e8e8e8; stroke-width: 1; }
.tick { fill: #555; font-size: 10px; }
.lane { stroke: #d0d0d0; stroke-width: 1; stroke-dasharray: 3 3; }
.row-label { fill: #222; font-size: 11px; font-weight: 600; }
.row-sub { fill: #666; font-size: 10px; }
.step-label { fill: #fff; font-size: 10.5px; font-weight: 600; pointer-events: none; paint-order: stroke; stroke: rgba(0,0,0,0.25); stroke-width: 2px; }
.step-bakeTime .step-label, .step-healthGate .step-label, .step-watch .step-label, .step-cleanUp .step-label { fill: #222; stroke: none; }
.area { stroke: none; }
.healthy-line { fill: none; stroke: #1a1a1a; stroke-width: 2; }
.signal-alarm path { fill: #d62728; }
.signal-slack circle { fill: #4a154b; }
.signal-fault path, .signal-alarm-ok path { fill: #999; }
.signal path { fill: #999; }
.signal.signal-alarm path { fill: #d62728; }
.empty { color: #777; font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; margin: 2px 0 8px; color: #333; }
.legend .item { display: inline-flex; align-items: center; gap: 5px; max-width: 100%; }
.swatch { width: 14px; height: 12px; display: inline-block; border-radius: 2px; flex: none; }
.swatch.hatched { background-image: repeating-linear-gradient(45deg, rgba(255,255,255,0.55) 0 2px, transparent 2px 5px); }
.line.healthy { width: 18px; height: 0; border-top: 2px solid #1a1a1a; display: inline-block; }
svg.mark { width: 12px; height: 12px; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
tr.fail td:first-child { color: #b00020; font-weight: 700; }
tr.ok td:first-child { color: #1b5e20; }
.moments td:first-child { font-variant-numeric: tabular-nums; white-space: nowrap; color: #555; }
.moments td:nth-child(2) { white-space: nowrap; color: #555; }
tr.moment-alarm.fired td, tr.moment-failure td { color: #8b0000; }
tr.moment-slack td:last-child { color: #4a154b; }
.facts { color: #333; }
details { font-size: 13px; margin: 4px 0 10px; }
`;
