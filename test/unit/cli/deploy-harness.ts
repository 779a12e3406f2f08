import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Command, CommanderError } from 'commander';
import type { DeployCommandIo, GroupReader } from '../../../cli/deploy-options';
import { documentClientFor } from '../../../shared/runtime/clients';
import type { GroupDescription } from '../../../shared/usecases/rollout/deps';
import { countingIds, type Clock } from '../../support/deployment-fixtures';
import type { LocalDynamo } from '../../support/dynalite';
import type { CliRun } from './services-history-harness';

export interface DeployRunOptions {
  dynamo: LocalDynamo;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Called on each `sleep` (after the clock moved): what the world does meanwhile. */
  onSleep?: (ms: number) => Promise<void>;
  groups?: (region: string, name: string) => GroupDescription | undefined;
  isTTY?: boolean;
}

export interface DeployRun extends CliRun {
  /** Clients made: a bad argument must make none. */
  sfnClients: number;
  sleeps: number;
}

/**
 * Runs one of the deployment commands in-process on dynalite, with Step Functions clients that
 * aws-sdk-client-mock answers (`mockClient(SFNClient)` in the test), a fake clock whose `sleep`
 * moves time and lets the test change the world, and scripted Auto Scaling groups.
 */
export async function runDeployCli(
  register: (program: Command, io: DeployCommandIo) => void,
  args: string[],
  options: DeployRunOptions,
): Promise<DeployRun> {
  const out: string[] = [];
  const err: string[] = [];
  let sfnClients = 0;
  let sleeps = 0;
  const io: DeployCommandIo = {
    readFile: async () => {
      throw new Error('no file expected');
    },
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env: options.env,
    createClient: () =>
      documentClientFor(
        new DynamoDBClient({
          endpoint: options.dynamo.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        }),
      ),
    createSfn: async (settings) => {
      sfnClients++;
      return new SFNClient({
        region: settings.region ?? 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        maxAttempts: 1,
      });
    },
    createGroups: async ({ region }): Promise<GroupReader> => ({
      describeGroup: async (name) => options.groups?.(region, name),
      close: () => undefined,
    }),
    now: options.clock.now,
    sleep: async (ms) => {
      sleeps++;
      options.clock.advance(ms);
      await options.onSleep?.(ms);
    },
    ids: countingIds(),
    isTTY: options.isTTY ?? false,
  };
  const program = new Command('kiln')
    .exitOverride()
    .configureOutput({ writeOut: (text) => out.push(text), writeErr: (text) => err.push(text) });
  register(program, io);
  const saved = process.exitCode;
  process.exitCode = undefined;
  let exitCode: number | undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    exitCode = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  } finally {
    process.exitCode = saved;
  }
  return { stdout: out.join(''), stderr: err.join(''), exitCode, sfnClients, sleeps };
}
