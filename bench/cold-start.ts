/**
 * Cold start of every function serverless.yml deploys, as ratios to `node -e 0` measured side by
 * side (bench/paired.ts). A cold start is the bundle's `require` plus the first invocation, so
 * both are timed: `require` alone, and `require` + one invocation against dynalite (a local
 * DynamoDB in this process, holding the table and what the function reads). Each function is
 * bundled the way `npm run package` bundles it (serverless.yml's `custom.esbuild`, NODE_OPTIONS as
 * deployed), and once more naively, with the AWS SDK left external and loaded from node_modules as
 * from the Lambda runtime's own copy: the yardstick the bundling is judged by. A last row is the
 * floor: a bundle of the DynamoDB client alone making the same calls (bench/floor/dynamodb-only.ts).
 *
 * Budgets (issue 8): require + first invocation ≤ 1.8× (≤ 2.4× for a function that bundles the
 * EC2 client), require alone ≤ 1.6×. The table prints them beside the figures; it never fails.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { KilnStore } from '../shared/store';
import { startDynalite, type LocalDynamo } from '../test/support/dynalite';
import { readDeployedSettings, type DeployedFunction } from './deployed-functions';
import type { Headline, SectionResult } from './results';
import { firstInvocations, type FirstInvocation } from './first-invocations';
import {
  BENCH_DEPLOY_STATE_MACHINE_ARN,
  BENCH_LIFECYCLE_STATE_MACHINE_ARN,
  BENCH_SLACK_SECRET_PARAMETER,
  startStubSfn,
} from './stub-sfn';
import {
  pairedRuns,
  renderTable,
  times,
  type Command,
  type PairedResult,
  type RunOutcome,
  type Subject,
} from './paired';

export const BUDGET = { invoke: 1.8, invokeEc2: 2.4, require: 1.6 } as const;

/** What the SDK leaves to the runtime in the naive bundle. */
const SDK_PACKAGES = ['@aws-sdk/*', '@smithy/*', '@aws-crypto/*'];

const FLOOR: DeployedFunction = {
  key: 'DynamoDB client alone',
  deployedName: 'kiln-bench-floor',
  // Beside this file, so the floor is the same when the bench measures another checkout.
  entry: join(__dirname, 'floor', 'dynamodb-only.ts'),
  exportName: 'handler',
  nodeOptions: undefined,
  memorySizeMb: 512,
  architecture: 'arm64',
};

interface Bundle {
  file: string;
  /** What a zip of the bundle and its source map holds (deflate, as `npm run package` zips). */
  zippedBytes: number;
  usesEc2: boolean;
}

/** The size of a zip of these files: deflated data plus the local and central directory records. */
function zippedSize(files: readonly string[], base: string): number {
  let total = 22; // end of central directory
  for (const file of files) {
    const name = Buffer.byteLength(relative(base, file));
    total += 30 + name + 46 + name + deflateRawSync(readFileSync(file), { level: 9 }).length;
  }
  return total;
}

export async function bundleFunction(
  fn: DeployedFunction,
  root: string,
  outDir: string,
  options: BuildOptions,
): Promise<Bundle> {
  const file = join(outDir, basename(fn.entry).replace(/\.ts$/, '.js'));
  mkdirSync(dirname(file), { recursive: true });
  const result = await build({
    ...options,
    absWorkingDir: root,
    entryPoints: [resolve(root, fn.entry)],
    outfile: file,
    metafile: true,
    logLevel: 'error',
  });
  const files = Object.keys(result.metafile.outputs).map((out) => join(root, out));
  const inputs = Object.keys(result.metafile.inputs);
  return {
    file,
    zippedBytes: zippedSize(files, outDir),
    usesEc2: inputs.some((input) => input.includes('@aws-sdk/client-ec2/')),
  };
}

const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;

/**
 * A new table holding what this first invocation reads and nothing else: each function is
 * measured on a table of its own, so what one function's seed wrote (a release in another Region,
 * one more service) cannot change another's first call. Returns the table's name.
 */
export async function seedFreshTable(
  dynamo: LocalDynamo,
  invocation: FirstInvocation,
  root: string,
): Promise<string> {
  const tableName = await dynamo.createTable();
  await invocation.seed?.(new KilnStore({ client: dynamo.client, tableName }), root);
  return tableName;
}

export interface ColdStartOptions {
  rounds: number;
  /**
   * The environment the measured processes start from: `inherit` (this process's, as a developer
   * or CI shell has it) or `clean` (PATH and HOME only). Both then get the function's own
   * variables. It matters: NODE_EXTRA_CA_CERTS, for one, makes every Node start-up read and parse
   * a certificate bundle, which lengthens `node -e 0` as much as the subject and so shrinks every
   * ratio.
   */
  environment: 'inherit' | 'clean';
}

/** The environment the measured processes start from (see ColdStartOptions.environment). */
export function baseEnvironment(mode: 'inherit' | 'clean'): NodeJS.ProcessEnv {
  if (mode === 'clean') return { PATH: process.env.PATH, HOME: process.env.HOME };
  const { NODE_OPTIONS: _ignored, ...rest } = process.env;
  return rest;
}

/** One function's cold start, as ratios to `node -e 0` (medians over the paired rounds). */
export interface ColdStartFigures {
  function: string;
  naive: boolean;
  zippedBytes: number;
  requireCpu?: number;
  requireWall?: number;
  invokeCpu?: number;
  invokeWall?: number;
  /** The budget of require + 1st call (CPU), for the deployed bundle. */
  invokeBudget?: number;
}

export interface ColdStartData {
  rounds: number;
  environment: 'inherit' | 'clean';
  functions: ColdStartFigures[];
  failures: string[];
}

export async function coldStartTable(
  root: string,
  options: ColdStartOptions,
): Promise<SectionResult<ColdStartData>> {
  const settings = readDeployedSettings(root);
  const work = mkdtempSync(join(tmpdir(), 'kiln-bench-cold-'));
  const dynamo = await startDynalite();
  const sfn = await startStubSfn();
  try {
    const notes: string[] = [];
    const rows: string[][] = [];
    const figures: ColdStartFigures[] = [];
    const failures: string[] = [];
    const external = [...(settings.esbuild.external ?? []), ...settings.exclude];
    const base = baseEnvironment(options.environment);

    const measure = async (fn: DeployedFunction, invocation: FirstInvocation, withNaive: boolean) => {
      const tableName = await seedFreshTable(dynamo, invocation, root);
      const deployed = await bundleFunction(fn, root, join(work, fn.key, 'deployed'), {
        ...settings.esbuild,
        external,
      });
      const naive = withNaive
        ? await bundleFunction(fn, root, join(work, fn.key, 'naive'), {
            ...settings.esbuild,
            external: [...external, ...SDK_PACKAGES],
          })
        : undefined;
      const { NODE_OPTIONS: _unused, ...inherited } = base;
      const env: NodeJS.ProcessEnv = {
        ...inherited,
        // Lambda's environment as far as the function reads it (credentials are dummies: dynalite).
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'bench',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        // on-artifact starts the deploy: a local stand-in answers StartExecution (bench/stub-sfn.ts).
        AWS_ENDPOINT_URL_SFN: sfn.endpoint,
        // chatops reads its signing secret and queues its work: the same stand-in answers both.
        AWS_ENDPOINT_URL_SSM: sfn.endpoint,
        AWS_ENDPOINT_URL_LAMBDA: sfn.endpoint,
        KILN_SLACK_SECRET_PARAMETER: BENCH_SLACK_SECRET_PARAMETER,
        // The reconciler looks for Kiln's groups: the same stand-in answers "none".
        AWS_ENDPOINT_URL_AUTO_SCALING: sfn.endpoint,
        KILN_DEPLOY_STATE_MACHINE_ARN: BENCH_DEPLOY_STATE_MACHINE_ARN,
        KILN_LIFECYCLE_STATE_MACHINE_ARN: BENCH_LIFECYCLE_STATE_MACHINE_ARN,
        AWS_LAMBDA_FUNCTION_NAME: fn.deployedName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        KILN_TABLE: tableName,
        KILN_STAGE: 'bench',
        POWERTOOLS_SERVICE_NAME: 'kiln',
        // Lambda's Node 24 prints no such warning; Node 20 here would, on stderr, in every run.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...(fn.nodeOptions === undefined ? {} : { NODE_OPTIONS: fn.nodeOptions }),
      };
      // The naive bundle finds the SDK where the runtime would provide it.
      const naiveEnv = { ...env, NODE_PATH: join(root, 'node_modules') };
      const requireOnly = (bundle: Bundle, childEnv: NodeJS.ProcessEnv): Command => ({
        argv: [process.execPath, '-e', `require(${JSON.stringify(bundle.file)})`],
        env: childEnv,
      });
      let run = 0;
      const invoke =
        (bundle: Bundle, childEnv: NodeJS.ProcessEnv): Subject['command'] =>
        () => ({
          argv: [process.execPath, join(__dirname, 'invoke.cjs'), bundle.file, fn.exportName],
          env: { ...childEnv, KILN_BENCH_EVENT: JSON.stringify(invocation.event(run++)) },
        });
      const checkResult = (outcome: RunOutcome) => {
        const line = outcome.stdout.split('\n').find((l) => l.startsWith('KILN_BENCH_RESULT '));
        if (line === undefined) return 'printed no result';
        return invocation.check(JSON.parse(line.slice('KILN_BENCH_RESULT '.length)));
      };
      const subjects: Subject[] = [
        { name: 'require', command: () => requireOnly(deployed, env) },
        { name: 'invoke', command: invoke(deployed, env), check: checkResult },
      ];
      if (naive !== undefined) {
        subjects.push(
          { name: 'naive require', command: () => requireOnly(naive, naiveEnv) },
          { name: 'naive invoke', command: invoke(naive, naiveEnv), check: checkResult },
        );
      }
      const paired = await pairedRuns({ argv: [process.execPath, '-e', '0'], env }, subjects, options.rounds);
      for (const result of paired.results)
        for (const failure of result.failures) {
          notes.push(`${fn.key} ${result.name}: ${failure}`);
          failures.push(`${fn.key} ${result.name}: ${failure}`);
        }
      const [req, inv, naiveReq, naiveInv] = paired.results;
      const row = (label: string, bundle: Bundle, r?: PairedResult, i?: PairedResult, budget = '') => [
        label,
        kib(bundle.zippedBytes),
        times(r?.cpu.median),
        times(r?.wall.median),
        times(i?.cpu.median),
        times(i?.wall.median),
        budget,
      ];
      const budget = withNaive
        ? `${times(BUDGET.require)} / ${times(deployed.usesEc2 ? BUDGET.invokeEc2 : BUDGET.invoke)}`
        : '';
      rows.push(row(fn.key, deployed, req, inv, budget));
      if (naive !== undefined) rows.push(row(`${fn.key} (naive)`, naive, naiveReq, naiveInv));
      const figure = (
        bundle: Bundle,
        isNaive: boolean,
        r?: PairedResult,
        i?: PairedResult,
      ): ColdStartFigures => ({
        function: fn.key,
        naive: isNaive,
        zippedBytes: bundle.zippedBytes,
        ...(r === undefined ? {} : { requireCpu: r.cpu.median, requireWall: r.wall.median }),
        ...(i === undefined ? {} : { invokeCpu: i.cpu.median, invokeWall: i.wall.median }),
        ...(withNaive && !isNaive ? { invokeBudget: bundle.usesEc2 ? BUDGET.invokeEc2 : BUDGET.invoke } : {}),
      });
      figures.push(figure(deployed, false, req, inv));
      if (naive !== undefined) figures.push(figure(naive, true, naiveReq, naiveInv));
      notes.push(
        `${fn.key}: node -e 0 took ${paired.baseline.cpuMs.toFixed(0)} ms CPU, ` +
          `${paired.baseline.wallMs.toFixed(0)} ms wall (medians); require + 1st call ranged ` +
          `${times(inv?.cpu.min)}–${times(inv?.cpu.max)} CPU, ${times(inv?.wall.min)}–${times(inv?.wall.max)} wall`,
      );
    };

    for (const fn of settings.functions) {
      const invocation = firstInvocations[fn.key];
      if (invocation === undefined) {
        notes.push(`${fn.key}: no first invocation in bench/first-invocations.ts; add one`);
        continue;
      }
      await measure(fn, invocation, true);
    }
    const floorInvocation = firstInvocations.onArtifact;
    if (floorInvocation !== undefined) {
      // The same events and seed as on-artifact; the floor answers nothing to check.
      await measure(FLOOR, { ...floorInvocation, check: () => undefined }, false);
    }

    const extraCerts = base.NODE_EXTRA_CA_CERTS === undefined ? '' : ', NODE_EXTRA_CA_CERTS set';
    const text = [
      `cold start: ratios to node -e 0, median of ${options.rounds} paired rounds; ` +
        `environment: ${options.environment}${extraCerts}`,
      renderTable(
        [
          'function',
          'zipped',
          'require (CPU)',
          'require (wall)',
          'require + 1st call (CPU)',
          'require + 1st call (wall)',
          'budget: require / + 1st call',
        ],
        rows,
      ),
      '(naive: the AWS SDK left external, loaded from node_modules as from the Lambda runtime)',
      ...notes,
    ].join('\n');
    return {
      text,
      headlines: coldStartHeadlines(figures),
      data: { rounds: options.rounds, environment: options.environment, functions: figures, failures },
    };
  } finally {
    await sfn.stop();
    await dynamo.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The slowest deployed function's cold start against its budget, and the floor's. */
export function coldStartHeadlines(figures: readonly ColdStartFigures[]): Headline[] {
  const deployed = figures.filter(
    (f) => !f.naive && f.invokeBudget !== undefined && f.invokeCpu !== undefined,
  );
  const slowest = [...deployed].sort((a, b) => (b.invokeCpu ?? 0) - (a.invokeCpu ?? 0))[0];
  const over = deployed.filter((f) => (f.invokeCpu ?? 0) > (f.invokeBudget ?? Number.POSITIVE_INFINITY));
  const floor = figures.find((f) => f.function === FLOOR.key);
  return [
    ...(slowest === undefined
      ? []
      : [
          {
            figure: `slowest cold start, require + 1st call (CPU, × node -e 0): ${slowest.function}`,
            value: `${times(slowest.invokeCpu)} (budget ${times(slowest.invokeBudget)})`,
          },
        ]),
    { figure: 'functions over their cold-start budget', value: `${over.length} of ${deployed.length}` },
    ...(floor === undefined
      ? []
      : [{ figure: 'floor: the DynamoDB client alone', value: times(floor.invokeCpu) }]),
  ];
}
