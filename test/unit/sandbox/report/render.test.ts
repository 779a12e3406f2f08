import { renderReport, type ReportRun } from '../../../../sandbox/report/render';
import { deploymentRecord, log } from './fixtures';

function run(overrides: Partial<ReportRun> = {}): ReportRun {
  return {
    scenario: 'default',
    seed: 7,
    fleet: 2,
    checks: [{ name: 'deployment succeeded', ok: true, detail: '1.1.0 runs in staging, production' }],
    figures: { 'rollout (virtual s)': 1340 },
    ...overrides,
  };
}

describe('renderReport', () => {
  it('draws one section with a chart per environment the run declared, in its order', () => {
    const html = renderReport(deploymentRecord(), run());
    const sections = [...html.matchAll(/<section class="environment"[^>]*data-environment="([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(sections).toEqual(['staging', 'production']);
    expect(html.match(/<svg class="chart environment"/g)).toHaveLength(2);
  });

  it("draws the control plane's timeline: a row per deployment, its steps and their environments", () => {
    const html = renderReport(deploymentRecord(), run());
    expect(html.match(/<g class="deployment-row"/g)).toHaveLength(1);
    expect(html).toContain('<title>bake time (staging): 10:00 → 20:00, 10 min</title>');
    expect(html).toContain('<title>rolling replace (production): 20:00 → 23:20, 3 min</title>');
  });

  it('says so in words when no environment was declared and no deployment ran', () => {
    const record = { ...deploymentRecord(), entries: [], environments: [] };
    const html = renderReport(record, run());
    expect(html).toContain('This scenario declared no environment.');
    expect(html).toContain('No deployment ran');
  });

  it("escapes the run's text, so a log line holding markup shows as text", () => {
    const record = deploymentRecord([log(61, '<script>alert("x")</script> & <b>bold</b>')]);
    const html = renderReport(record, run({ scenario: '<i>x</i>' }));
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>bold');
    expect(html).not.toContain('<i>x</i>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
  });

  it('loads nothing from outside the page: no script, stylesheet, font, image, link or external reference', () => {
    const record = deploymentRecord([log(61, 'see https://example.com/runbook')]);
    const html = renderReport(record, run());
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|base)\b/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href|action|srcset)\s*=/i);
    expect(html).not.toMatch(/@import|@font-face/i);
    for (const reference of html.matchAll(/url\(([^)]*)\)/g)) expect(reference[1]).toMatch(/^#/);
  });

  it('shows failed checks as failed and the page as failed', () => {
    const html = renderReport(
      deploymentRecord(),
      run({ checks: [{ name: 'alarms stayed OK', ok: false, detail: 'web-production-5xx=ALARM' }] }),
    );
    expect(html).toContain('1 of 1 checks failed.');
    expect(html).toMatch(/<tr class="fail"><td>FAIL<\/td><td>alarms stayed OK<\/td>/);
  });

  it('says the run stopped with an error when it ended before its checks', () => {
    const { checks: _none, ...stopped } = run({ error: 'TypeError: boom' });
    const html = renderReport(deploymentRecord(), stopped);
    expect(html).toContain('The run stopped with an error');
    expect(html).toContain('TypeError: boom');
  });

  it('gives the same page for the same record', () => {
    expect(renderReport(deploymentRecord(), run())).toBe(renderReport(deploymentRecord(), run()));
  });
});
