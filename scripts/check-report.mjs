#!/usr/bin/env node
/**
 * CI's check that `kiln sandbox --report` renders in a real browser: makes the report of a short
 * run, opens it in headless Chromium (Debian's `chromium`, driven with playwright-core, which
 * downloads no browser) and asserts what a reader sees: one chart per environment with its
 * instances drawn, the control plane's timeline with its steps, what happened in order; no
 * console error, no request leaving the page. Then writes a screenshot.
 *
 *   node scripts/check-report.mjs [--scenario NAME] [--fleet N] [--out DIR] [--screenshot FILE]
 *   node scripts/check-report.mjs --html FILE   (check a page already written, run nothing)
 *
 * Exit 0 when every assertion holds, 1 when one fails (each printed), 2 when it cannot run
 * (no chromium on PATH: CI installs it first and never skips this).
 */
/* global document, window -- the page.evaluate callbacks below run in the browser, not in Node */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'default' },
    fleet: { type: 'string', default: '2' },
    out: { type: 'string' },
    screenshot: { type: 'string' },
    html: { type: 'string' },
  },
});
const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'kiln-report-')));
mkdirSync(out, { recursive: true });
const reportFile = values.html !== undefined ? resolve(values.html) : join(out, 'report.html');
const screenshotFile = resolve(values.screenshot ?? join(out, 'report.png'));

function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found !== '') return found;
  }
  return undefined;
}

const executablePath = chromiumPath();
if (executablePath === undefined || !existsSync(executablePath)) {
  console.error(
    'check-report: no chromium on PATH (apt-get install -y chromium, or set CHROMIUM_PATH); the report was not checked',
  );
  process.exit(2);
}

console.log(
  `check-report: ${execFileSync(executablePath, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()} (${executablePath})`,
);

// 1. The report of a short run, through the CLI a user runs.
if (values.html === undefined) runStory();

function runStory() {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [
      join(root, 'bin/kiln.cjs'),
      'sandbox',
      '--scenario',
      values.scenario,
      '--fleet',
      values.fleet,
      '--quiet',
      '--report',
      reportFile,
    ],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    },
  );
  if (!existsSync(reportFile)) {
    console.error(
      `check-report: kiln sandbox wrote no report (exit ${run.status})\n${run.stdout}${run.stderr}`,
    );
    process.exit(1);
  }
  console.log(
    `check-report: ${values.scenario} (fleet ${values.fleet}) ran in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${run.status}; report ${reportFile}`,
  );
}

// 2. The page in headless Chromium.
const failures = [];
const expect = (ok, what) => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const reportUrl = pathToFileURL(reportFile).href;
const browser = await chromium.launch({
  executablePath,
  headless: true,
  // As root (CI containers) Chromium needs --no-sandbox; the page is our own file.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const consoleErrors = [];
  const leaving = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  // Every request the page makes passes here: only the report itself may load.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url === reportUrl) return route.continue();
    leaving.push(url);
    return route.abort();
  });
  await page.goto(reportUrl, { waitUntil: 'load' });

  const seen = await page.evaluate(() => {
    const box = (el) => {
      const r = el.getBoundingClientRect();
      return { width: r.width, height: r.height };
    };
    const sections = [...document.querySelectorAll('section.environment')];
    return {
      title: document.title,
      environments: sections.map((s) => {
        const chart = s.querySelector('svg.chart.environment');
        return {
          name: s.getAttribute('data-environment'),
          chart: chart ? box(chart) : null,
          areas: chart ? chart.querySelectorAll('polygon.area').length : 0,
          healthyLine: chart ? chart.querySelectorAll('polyline.healthy-line').length : 0,
          alarmBars: chart ? chart.querySelectorAll('rect.alarm-state').length : 0,
        };
      }),
      deployments: (() => {
        const chart = document.querySelector('svg.chart.deployments');
        return {
          chart: chart ? box(chart) : null,
          rows: document.querySelectorAll('svg.chart.deployments g.deployment-row').length,
          steps: document.querySelectorAll('svg.chart.deployments g.step').length,
        };
      })(),
      moments: document.querySelectorAll('#moments tbody tr').length,
      checks: document.querySelectorAll('#checks tbody tr').length,
      verdict: document.querySelector('.verdict')?.textContent ?? '',
    };
  });

  expect(seen.title.startsWith('Kiln sandbox run'), `the page's title: ${seen.title}`);
  expect(
    seen.environments.length >= 1,
    `environment sections: ${seen.environments.map((e) => e.name).join(', ')}`,
  );
  for (const env of seen.environments) {
    expect(
      env.chart !== null && env.chart.width > 600 && env.chart.height > 150,
      `${env.name}: a chart drawn (${env.chart ? `${Math.round(env.chart.width)}×${Math.round(env.chart.height)} px` : 'none'})`,
    );
    expect(env.areas > 0, `${env.name}: instances by release drawn (${env.areas} areas)`);
    expect(env.healthyLine === 1, `${env.name}: healthy targets line drawn`);
    expect(env.alarmBars > 0, `${env.name}: alarm states drawn (${env.alarmBars} bars)`);
  }
  expect(
    seen.deployments.chart !== null && seen.deployments.chart.height > 40,
    'the control plane timeline is drawn',
  );
  expect(seen.deployments.rows >= 1, `deployments in the timeline: ${seen.deployments.rows}`);
  expect(seen.deployments.steps >= 2, `steps drawn: ${seen.deployments.steps}`);
  expect(seen.moments > 5, `what happened, in order: ${seen.moments} lines`);
  expect(seen.checks >= 1, `checks listed: ${seen.checks} (${seen.verdict})`);
  expect(
    consoleErrors.length === 0,
    `no console errors${consoleErrors.length ? `: ${consoleErrors.join(' | ')}` : ''}`,
  );
  expect(leaving.length === 0, `no request left the page${leaving.length ? `: ${leaving.join(', ')}` : ''}`);

  // 3. The screenshot: the top of the page, down to the end of the first two environments.
  const bottom = await page.evaluate(() => {
    const sections = [...document.querySelectorAll('section.environment')];
    const last = sections[Math.min(1, sections.length - 1)] ?? document.body;
    return Math.ceil(last.getBoundingClientRect().bottom + window.scrollY + 8);
  });
  mkdirSync(dirname(screenshotFile), { recursive: true });
  await page.screenshot({
    path: screenshotFile,
    // The clip reaches below the 900 px viewport: it is taken from the full page.
    fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: Math.min(bottom, 2400) },
  });
  console.log(`check-report: screenshot ${screenshotFile}`);
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(`check-report: ${failures.length} assertion(s) failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('check-report: the report renders in headless Chromium');
