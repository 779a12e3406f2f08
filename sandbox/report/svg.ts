/**
 * The report's drawings as inline SVG strings: one time axis shared by every chart (so a step in
 * the deployments' rows lines up with what it did to a fleet below it), stacked step areas for
 * instances by release, step lines, state strips for alarms and the deployments' rows. Nothing
 * here loads anything: no fonts, no images, no scripts.
 */
import type { EnvironmentSeries, FleetSample } from '../observe/series';
import { healthyIn } from '../observe/series';
import type { Deployment, DeploymentStep, HookActivity, Moment } from './steps';
import { STEP_KINDS, type KnownStepKey } from './steps';

export const WIDTH = 1200;
/** Left margin: row labels; every chart's plot starts here so their times line up. */
export const LEFT = 230;
const RIGHT = 16;
const PLOT = WIDTH - LEFT - RIGHT;

/** Text for SVG and HTML: the run's strings (logs, Slack text) may hold anything. */
export function escapeText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Virtual seconds as h:mm:ss (or m:ss under an hour). */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A duration in words a reader can say: 45 s, 12 min, 1 h 05 min. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export interface TimeScale {
  end: number;
  x: (t: number) => number;
}

export function timeScale(end: number): TimeScale {
  const span = Math.max(end, 1);
  return { end: span, x: (t) => round(LEFT + (Math.min(Math.max(t, 0), span) / span) * PLOT) };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const TICK_STEPS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400];

function ticks(end: number): number[] {
  const step = TICK_STEPS.find((s) => end / s <= 10) ?? 86400;
  const out: number[] = [];
  for (let t = 0; t <= end + 1e-9; t += step) out.push(t);
  return out;
}

/** The time axis at `y`, with faint grid lines up to `top`. */
function axis(scale: TimeScale, y: number, top: number): string {
  const parts = [`<line class="axis" x1="${LEFT}" y1="${y}" x2="${LEFT + PLOT}" y2="${y}"/>`];
  for (const t of ticks(scale.end)) {
    const x = scale.x(t);
    parts.push(`<line class="grid" x1="${x}" y1="${top}" x2="${x}" y2="${y}"/>`);
    parts.push(`<text class="tick" x="${x}" y="${y + 14}" text-anchor="middle">${clock(t)}</text>`);
  }
  return parts.join('');
}

/** Colours of releases, in the order they first appear in the run (oldest release first). */
const RELEASE_COLOURS = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#edc948',
  '#76b7b2',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export function releaseColours(series: readonly EnvironmentSeries[]): Map<string, string> {
  const colours = new Map<string, string>();
  for (const s of series) {
    for (const sample of s.samples) {
      for (const release of Object.keys(sample.inServiceByVersion)) {
        if (!colours.has(release)) {
          colours.set(release, RELEASE_COLOURS[colours.size % RELEASE_COLOURS.length] as string);
        }
      }
    }
  }
  return colours;
}

export const STEP_COLOURS: Record<KnownStepKey, string> = {
  bake: '#a67c52',
  lock: '#9e9e9e',
  rolling: '#4e79a7',
  green: '#59a14f',
  healthGate: '#8cd17d',
  switch: '#17becf',
  watch: '#c9b846',
  retire: '#7f7f7f',
  bakeTime: '#e0d08a',
  approval: '#9467bd',
  rollback: '#d62728',
  cleanUp: '#c7c7c7',
};

export function stepColour(key: string): string {
  return key in STEP_COLOURS ? STEP_COLOURS[key as KnownStepKey] : '#e377c2';
}

/** Patterns the charts share (a wait is drawn hatched); defined once in the page. */
export function sharedDefs(): string {
  return (
    '<svg class="defs" width="0" height="0" aria-hidden="true"><defs>' +
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
    '<rect width="6" height="6" fill="#ffffff" fill-opacity="0.0"/><line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="3" stroke-opacity="0.55"/>' +
    '</pattern></defs></svg>'
  );
}

function stepRect(scale: TimeScale, step: DeploymentStep, y: number, height: number, label: boolean): string {
  const x0 = scale.x(step.start);
  const w = Math.max(scale.x(step.end) - x0, 1.5);
  const title = `${step.label}${step.environment !== undefined ? ` (${step.environment})` : ''}: ${clock(step.start)} → ${clock(step.end)}, ${duration(step.end - step.start)}`;
  const colour = stepColour(step.key);
  const text = step.environment !== undefined ? `${step.label} · ${step.environment}` : step.label;
  const fits = label && w > text.length * 6 + 8;
  const shortFits = label && !fits && w > step.label.length * 6 + 8;
  return (
    `<g class="step step-${escapeText(step.key)}"><title>${escapeText(title)}</title>` +
    `<rect x="${x0}" y="${y}" width="${round(w)}" height="${height}" fill="${colour}"/>` +
    (step.kind === 'wait'
      ? `<rect x="${x0}" y="${y}" width="${round(w)}" height="${height}" fill="url(#hatch)"/>`
      : '') +
    (fits || shortFits
      ? `<text class="step-label" x="${round(x0 + 4)}" y="${y + height / 2 + 4}">${escapeText(fits ? text : step.label)}</text>`
      : '') +
    '</g>'
  );
}

function rowLabel(y: number, main: string, sub: string | undefined): string {
  return (
    `<text class="row-label" x="${LEFT - 8}" y="${sub === undefined ? y + 4 : y - 1}" text-anchor="end">${escapeText(clip(main, 26))}</text>` +
    (sub === undefined
      ? ''
      : `<text class="row-sub" x="${LEFT - 8}" y="${y + 11}" text-anchor="end">${escapeText(clip(sub, 34))}</text>`)
  );
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const ROW = 30;

/**
 * The control plane's rows: one per deployment (its steps, waits hatched), one for the lifecycle
 * hook handler (how many instances it was holding), and one of signals (alarms, Slack messages).
 */
export function deploymentsChart(
  scale: TimeScale,
  deployments: readonly Deployment[],
  hooks: readonly HookActivity[],
  moments: readonly Moment[],
): string {
  const rows: string[] = [];
  let y = 10;
  for (const d of deployments) {
    const ended = d.status === 'RUNNING' ? 'still running' : d.status.toLowerCase();
    const sub = `${d.release !== undefined ? `${d.release} · ` : ''}${ended}`;
    rows.push(`<g class="deployment-row" data-deployment="${escapeText(d.name)}">`);
    rows.push(rowLabel(y + ROW / 2 - 4, d.name, sub));
    rows.push(
      `<line class="lane" x1="${scale.x(d.start)}" y1="${y + 11}" x2="${scale.x(d.end)}" y2="${y + 11}"/>`,
    );
    for (const step of d.steps) rows.push(stepRect(scale, step, y, ROW - 8, true));
    rows.push('</g>');
    y += ROW;
  }
  if (hooks.some((h) => h.running > 0)) {
    const most = Math.max(...hooks.map((h) => h.running));
    rows.push(rowLabel(y + ROW / 2 - 4, 'lifecycle hook handler', `instances it holds (most ${most})`));
    rows.push(countStrip(scale, hooks, y, ROW - 8, '#e15759', 'holding'));
    y += ROW;
  }
  // Alarms that fired or cleared (not the first OK of a new alarm), Slack messages, faults.
  const signals = moments.filter(
    (m) => (m.kind === 'alarm' && /ALARM/.test(m.text)) || m.kind === 'slack' || m.kind === 'fault',
  );
  if (signals.length > 0) {
    rows.push(rowLabel(y + ROW / 2 - 4, 'signals', 'alarms, Slack, faults'));
    rows.push(`<line class="lane" x1="${LEFT}" y1="${y + 11}" x2="${LEFT + PLOT}" y2="${y + 11}"/>`);
    for (const m of signals) {
      const x = scale.x(m.t);
      const cls = m.kind !== 'alarm' ? m.kind : /→ ALARM$/.test(m.text) ? 'alarm' : 'alarm-ok';
      rows.push(
        `<g class="signal signal-${cls}"><title>${escapeText(`${clock(m.t)} ${m.text}`)}</title>` +
          (m.kind === 'slack'
            ? `<circle cx="${x}" cy="${y + 11}" r="5"/>`
            : `<path d="M${x} ${y + 3} L${round(x + 6)} ${y + 18} L${round(x - 6)} ${y + 18} Z"/>`) +
          '</g>',
      );
    }
    y += ROW;
  }
  if (rows.length === 0) {
    rows.push(
      `<text class="empty" x="${LEFT}" y="${y + 14}">No deployment ran: Kiln's deploy state machine never started.</text>`,
    );
    y += ROW;
  }
  const height = y + 24;
  return (
    `<svg class="chart deployments" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="What Kiln did, over time">` +
    axis(scale, y + 2, 4) +
    rows.join('') +
    '</svg>'
  );
}

/** A strip of bars whose height follows a count over time (a step function). */
function countStrip(
  scale: TimeScale,
  points: ReadonlyArray<{ t: number; running: number }>,
  y: number,
  height: number,
  colour: string,
  what: string,
): string {
  const max = Math.max(1, ...points.map((p) => p.running));
  const parts = [
    `<line class="lane" x1="${LEFT}" y1="${y + height}" x2="${LEFT + PLOT}" y2="${y + height}"/>`,
  ];
  points.forEach((p, i) => {
    if (p.running === 0) return;
    const next = points[i + 1];
    const x0 = scale.x(p.t);
    const w = Math.max(scale.x(next?.t ?? scale.end) - x0, 1);
    const h = round((p.running / max) * height);
    parts.push(
      `<rect x="${x0}" y="${round(y + height - h)}" width="${round(w)}" height="${h}" fill="${colour}"><title>${clock(p.t)}: ${p.running} ${what}</title></rect>`,
    );
  });
  return parts.join('');
}

interface Layer {
  name: string;
  colour: string;
  hatched: boolean;
  value: (s: FleetSample) => number;
}

/** A stacked step area: each layer's band between the layers under it and itself. */
function stackedAreas(
  scale: TimeScale,
  samples: readonly FleetSample[],
  layers: readonly Layer[],
  yOf: (n: number) => number,
): string {
  if (samples.length === 0) return '';
  const parts: string[] = [];
  const below = samples.map(() => 0);
  for (const layer of layers) {
    const top: Array<[number, number]> = [];
    const bottom: Array<[number, number]> = [];
    let any = false;
    samples.forEach((s, i) => {
      const v = layer.value(s);
      if (v > 0) any = true;
      const x0 = scale.x(s.t);
      const x1 = scale.x(samples[i + 1]?.t ?? scale.end);
      const b = below[i] as number;
      top.push([x0, yOf(b + v)], [x1, yOf(b + v)]);
      bottom.push([x0, yOf(b)], [x1, yOf(b)]);
      below[i] = b + v;
    });
    if (!any) continue;
    const points = [...top, ...bottom.reverse()].map(([x, y]) => `${x},${y}`).join(' ');
    parts.push(`<polygon class="area" points="${points}" fill="${layer.colour}"/>`);
    if (layer.hatched) parts.push(`<polygon points="${points}" fill="url(#hatch)"/>`);
  }
  return parts.join('');
}

function stepLine(
  scale: TimeScale,
  samples: readonly FleetSample[],
  value: (s: FleetSample) => number,
  yOf: (n: number) => number,
  cls: string,
): string {
  if (samples.length === 0) return '';
  const points: string[] = [];
  samples.forEach((s, i) => {
    const y = yOf(value(s));
    points.push(`${scale.x(s.t)},${y}`, `${scale.x(samples[i + 1]?.t ?? scale.end)},${y}`);
  });
  return `<polyline class="${cls}" points="${points.join(' ')}"/>`;
}

const ALARM_COLOURS: Record<string, string> = {
  OK: '#cfe8cf',
  ALARM: '#d62728',
  INSUFFICIENT_DATA: '#dddddd',
};

/** An environment's chart: its steps on top, instances by release, healthy targets, alarms, hooks. */
export function environmentChart(
  scale: TimeScale,
  series: EnvironmentSeries,
  steps: readonly DeploymentStep[],
  colours: ReadonlyMap<string, string>,
): string {
  const { samples, environment } = series;
  const stepsTop = 4;
  const plotTop = 36;
  const plotHeight = 170;
  const plotBottom = plotTop + plotHeight;
  const max = Math.max(
    1,
    ...samples.map((s) =>
      Math.max(s.instances, healthyIn(s), sum(s.inServiceByVersion) + s.launching + s.terminating),
    ),
  );
  const yOf = (n: number) => round(plotBottom - (n / max) * plotHeight);
  const parts: string[] = [];

  // What the control plane was doing to this environment, above its fleet.
  parts.push(rowLabel(stepsTop + 11, "Kiln's step", undefined));
  for (const step of steps) parts.push(stepRect(scale, step, stepsTop, 20, true));

  // Y axis: whole instances.
  const yStep = Math.max(1, Math.ceil(max / 5));
  for (let n = 0; n <= max; n += yStep) {
    parts.push(`<line class="grid" x1="${LEFT}" y1="${yOf(n)}" x2="${LEFT + PLOT}" y2="${yOf(n)}"/>`);
    parts.push(`<text class="tick" x="${LEFT - 6}" y="${yOf(n) + 4}" text-anchor="end">${n}</text>`);
  }
  parts.push(
    `<text class="row-label" x="${LEFT - 34}" y="${plotTop + plotHeight / 2}" text-anchor="end">instances</text>`,
  );
  const releases = [...colours.keys()].filter((r) => samples.some((s) => (s.inServiceByVersion[r] ?? 0) > 0));
  const layers: Layer[] = [
    ...releases.map((r) => ({
      name: r,
      colour: colours.get(r) ?? '#999999',
      hatched: false,
      value: (s: FleetSample) => s.inServiceByVersion[r] ?? 0,
    })),
    { name: 'starting', colour: '#b8b8b8', hatched: true, value: (s) => s.launching },
    { name: 'stopping', colour: '#6f6f6f', hatched: true, value: (s) => s.terminating },
  ];
  parts.push(stackedAreas(scale, samples, layers, yOf));
  parts.push(stepLine(scale, samples, healthyIn, yOf, 'healthy-line'));

  // Alarms: one strip each, coloured by state.
  let y = plotBottom + 26;
  for (const name of environment.alarmNames) {
    parts.push(rowLabel(y + 6, name, undefined));
    // One bar per stretch in one state (samples change for other reasons too).
    const stretches: Array<{ t: number; state: string }> = [];
    for (const sample of samples) {
      const state = sample.alarms[name];
      if (state !== undefined && stretches[stretches.length - 1]?.state !== state) {
        stretches.push({ t: sample.t, state });
      }
    }
    stretches.forEach(({ t, state }, i) => {
      const x0 = scale.x(t);
      const w = Math.max(scale.x(stretches[i + 1]?.t ?? scale.end) - x0, 0.5);
      parts.push(
        `<rect class="alarm-state alarm-${escapeText(state)}" x="${x0}" y="${y}" width="${round(w)}" height="12" fill="${ALARM_COLOURS[state] ?? '#999999'}"><title>${escapeText(`${name}: ${state} from ${clock(t)}`)}</title></rect>`,
      );
    });
    y += 18;
  }
  // Several groups (blue/green's green beside blue): how many each one has in service.
  if (environment.groups.length > 1) {
    for (const group of environment.groups) {
      const counts = samples.map((s) => ({ t: s.t, running: s.inServiceByGroup[group] ?? 0 }));
      if (!counts.some((c) => c.running > 0)) continue;
      parts.push(rowLabel(y + 6, `${group} (most ${Math.max(...counts.map((c) => c.running))})`, undefined));
      parts.push(countStrip(scale, counts, y, 14, '#7a8fa6', 'in service'));
      y += 20;
    }
  }
  // Instances held in a lifecycle hook (draining before they stop, or being checked as they start).
  if (samples.some((s) => s.waiting > 0)) {
    parts.push(rowLabel(y + 6, `in a hook (most ${Math.max(...samples.map((s) => s.waiting))})`, undefined));
    parts.push(
      countStrip(
        scale,
        samples.map((s) => ({ t: s.t, running: s.waiting })),
        y,
        14,
        '#e15759',
        'waiting',
      ),
    );
    y += 20;
  }
  const height = y + 24;
  return (
    `<svg class="chart environment" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeText(`${environment.service} ${environment.environment}: instances by release over time`)}">` +
    axis(scale, y + 2, plotTop) +
    parts.join('') +
    `<line class="axis" x1="${LEFT}" y1="${plotBottom}" x2="${LEFT + PLOT}" y2="${plotBottom}"/>` +
    '</svg>'
  );
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export function stepLegendColour(key: KnownStepKey): { colour: string; wait: boolean } {
  return { colour: STEP_COLOURS[key], wait: STEP_KINDS[key].kind === 'wait' };
}
