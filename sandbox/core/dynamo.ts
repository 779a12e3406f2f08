/**
 * DynamoDB stays real: dynalite (the DynamoDB API in Node, in memory) on a random loopback port,
 * in this process, under the fake clock. Tables are created before a run, with the clock nudged
 * so they turn ACTIVE (dynalite flips CREATING → ACTIVE in a setTimeout, faked here, even at 0 ms).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { SandboxClock } from './clock';

export interface DynamoSandbox {
  /** e.g. 'http://127.0.0.1:40123' */
  readonly endpoint: string;
  /** Creates a table and waits until it is ACTIVE. Call outside runs (setup). */
  createTable(input: CreateTableCommandInput): Promise<void>;
  /** Closes the server and its connections. Idempotent. */
  stop(): Promise<void>;
}

export async function startDynamo(clock: SandboxClock, region: string): Promise<DynamoSandbox> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // A plain client for setup: not scheduled, but with the Date header brought to virtual time.
  const admin = new DynamoDBClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'SANDBOXACCESSKEY', secretAccessKey: 'sandbox-secret-key' },
  });
  admin.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response: unknown = result.response;
      if (typeof response === 'object' && response !== null && 'headers' in response) {
        const headers: unknown = response.headers;
        if (typeof headers === 'object' && headers !== null) {
          Object.assign(headers, { date: new Date(clock.now()).toUTCString() });
        }
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'kilnSandboxDate' },
  );
  let stopped = false;

  return {
    endpoint,
    async createTable(input) {
      if (typeof input.TableName !== 'string' || input.TableName === '') {
        throw new TypeError('createTable: TableName is required');
      }
      await admin.send(new CreateTableCommand(input));
      for (let attempt = 0; attempt < 100; attempt++) {
        const { Table } = await admin.send(new DescribeTableCommand({ TableName: input.TableName }));
        if (Table?.TableStatus === 'ACTIVE') return;
        // Fires dynalite's zero-delay "now ACTIVE" timer without moving virtual time.
        clock.fake.tick(0);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      throw new Error(`createTable: table ${input.TableName} did not become ACTIVE`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      admin.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
