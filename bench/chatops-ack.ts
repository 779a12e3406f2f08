/**
 * Slash-command acknowledgement with a cold handler (issue 11, item 10): Slack gives an app 3
 * seconds to answer (https://api.slack.com/interactivity/slash-commands, "Responding to commands").
 * Each round starts a fresh Node process (a cold start: nothing loaded, no secret cached, no
 * connection open), loads chatops bundled as `npm run package` bundles it, and hands it one signed
 * `/kiln status checkout`; the round's figure is the wall time from spawn to the acknowledgement
 * printed. What it does inside: verify the signature (the secret read from Parameter Store), take
 * the request's claim in DynamoDB (dynalite), queue the worker with Lambda's asynchronous Invoke
 * (a local stand-in, bench/stub-sfn.ts, answering at once). Beside it, `node -e 0` in the same
 * rounds: the process start-up that a Lambda cold start pays in its own way.
 *
 * On Lambda add the runtime's own init (published figures: ~120–150 ms for hello-world on
 * nodejs20.x/22.x) and real network round trips (a few ms each within a Region).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynalite } from '../test/support/dynalite';
import { baseEnvironment, bundleFunction, seedFreshTable } from './cold-start';
import { readDeployedSettings } from './deployed-functions';
import { firstInvocations } from './first-invocations';
import { renderTable, runOnce } from './paired';
import type { SectionResult } from './results';
import { BENCH_DEPLOY_STATE_MACHINE_ARN, BENCH_SLACK_SECRET_PARAMETER, startStubSfn } from './stub-sfn';

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? Number.NaN;
}

export interface ChatopsAckData {
  rounds: number;
  coldMs: number[];
  baselineMs: number[];
  failures: string[];
}

export async function chatopsAckTable(
  root: string,
  rounds: number,
): Promise<SectionResult<ChatopsAckData | undefined>> {
  const settings = readDeployedSettings(root);
  const fn = settings.functions.find((f) => f.key === 'chatops');
  const invocation = firstInvocations.chatops;
  if (fn === undefined || invocation === undefined)
    return {
      text: 'slash-command acknowledgement: no chatops function in serverless.yml',
      headlines: [],
      data: undefined,
    };
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-chatops-'));
  const dynamo = await startDynalite();
  const stub = await startStubSfn();
  try {
    const tableName = await seedFreshTable(dynamo, invocation, root);
    const bundle = await bundleFunction(fn, root, join(work, 'deployed'), {
      ...settings.esbuild,
      external: [...(settings.esbuild.external ?? []), ...settings.exclude],
    });
    const { NODE_OPTIONS: _unused, ...inherited } = baseEnvironment('inherit');
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SSM: stub.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: stub.endpoint,
      KILN_SLACK_SECRET_PARAMETER: BENCH_SLACK_SECRET_PARAMETER,
      KILN_DEPLOY_STATE_MACHINE_ARN: BENCH_DEPLOY_STATE_MACHINE_ARN,
      AWS_LAMBDA_FUNCTION_NAME: fn.deployedName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      KILN_TABLE: tableName,
      KILN_STAGE: 'bench',
      POWERTOOLS_SERVICE_NAME: 'kiln',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const cold: number[] = [];
    const baseline: number[] = [];
    const failures: string[] = [];
    for (let round = 0; round < rounds; round++) {
      baseline.push((await runOnce({ argv: [process.execPath, '-e', '0'], env })).wallMs);
      const outcome = await runOnce({
        argv: [process.execPath, join(__dirname, 'invoke.cjs'), bundle.file, fn.exportName],
        env: { ...env, KILN_BENCH_EVENT: JSON.stringify(invocation.event(round)) },
      });
      const line = outcome.stdout.split('\n').find((l) => l.startsWith('KILN_BENCH_RESULT '));
      const problem =
        line === undefined
          ? `printed no result (${outcome.stderr.trim().split('\n').at(-1) ?? ''})`
          : invocation.check(JSON.parse(line.slice(18)));
      if (problem !== undefined) failures.push(`round ${round + 1}: ${problem}`);
      else cold.push(outcome.wallMs);
    }
    const ms = (v: number) => `${Math.round(v)} ms`;
    const row = (label: string, values: number[]) => [
      label,
      String(values.length),
      ms(percentile(values, 50)),
      ms(percentile(values, 99)),
      ms(Math.max(...values)),
    ];
    const text = [
      `slash-command acknowledgement, cold handler: ${rounds} rounds, each a fresh process (wall time, spawn to the 200 printed); Slack's deadline 3000 ms`,
      renderTable(
        ['process', 'runs', 'p50', 'p99', 'max'],
        [row('chatops: require + ack of a signed /kiln', cold), row('node -e 0 (start-up alone)', baseline)],
      ),
      ...failures,
    ].join('\n');
    return {
      text,
      headlines: [
        {
          figure: "slash command acknowledged, cold handler, p50 / p99 (wall; Slack's deadline 3000 ms)",
          value: `${ms(percentile(cold, 50))} / ${ms(percentile(cold, 99))}`,
        },
      ],
      data: { rounds, coldMs: cold, baselineMs: baseline, failures },
    };
  } finally {
    await stub.stop();
    await dynamo.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
