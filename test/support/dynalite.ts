import { setImmediate as realSetImmediate } from 'node:timers';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClientFor } from '../../shared/runtime/clients';
import dynalite from 'dynalite';
import { createTableInput } from '../../shared/store/table';
import { inProcessHandler } from '../../sandbox/core/dynamo';

export interface LocalDynamo {
  endpoint: string;
  /** A document client (plain JS values) pointed at this server. */
  client: DynamoDBDocumentClient;
  /** The low-level client behind `client`, for tests that speak the wire format. */
  rawClient: DynamoDBClient;
  /** The table created at start, from shared/store/table.json. */
  tableName: string;
  /** Creates one more table with Kiln's definition (a fresh table per test, when wanted). */
  createTable(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let tableCounter = 0;

/**
 * Starts dynalite in memory on a random port and creates Kiln's table on it. Table state changes
 * take 0 ms so the table is ACTIVE as soon as CreateTable returns (under real timers).
 */
export async function startDynalite(options: { tableName?: string } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('dynalite is not listening on a TCP port');
  const { port } = address;
  const endpoint = `http://127.0.0.1:${port}`;
  const rawClient = new DynamoDBClient({
    endpoint,
    // Straight to dynalite's request handler, without the loopback socket (sandbox/core/dynamo.ts);
    // `endpoint` still answers over HTTP for clients made elsewhere (a spawned CLI, say).
    requestHandler: inProcessHandler(server),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const client = documentClientFor(rawClient);

  const createTable = async (name = `kiln-test-${++tableCounter}`): Promise<string> => {
    await rawClient.send(new CreateTableCommand(createTableInput(name)));
    // dynalite turns the table ACTIVE on a 0 ms timer; with no socket in between, the next request
    // can come before it fires. Node's own setImmediate (not a faked global) lets the loop reach it.
    for (let turn = 0; turn < 100; turn++) {
      const { Table } = await rawClient.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE') return name;
      await new Promise<void>((resolve) => realSetImmediate(resolve));
    }
    throw new Error(`dynalite: table ${name} did not become ACTIVE`);
  };
  const tableName = await createTable(options.tableName);

  return {
    endpoint,
    client,
    rawClient,
    tableName,
    createTable,
    stop: async () => {
      client.destroy();
      rawClient.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
