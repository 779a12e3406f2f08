/**
 * DynamoDB stays real: dynalite (the DynamoDB API in Node, in memory) on a random loopback port,
 * in this process, under the fake clock. Tables are created before a run, with the clock nudged
 * so they turn ACTIVE (dynalite flips CREATING → ACTIVE in a setTimeout, faked here, even at 0 ms).
 *
 * The sandbox's own clients reach dynalite without the loopback socket (`requestHandler`): the
 * SDK builds, signs and reads each request exactly as over HTTP, and dynalite's request handler
 * answers it, but Node's HTTP client, server and socket in between (a tenth of a story's CPU) are
 * skipped. The port stays open for clients built elsewhere (tests, the CLI under test).
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import type { HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';
import dynalite from 'dynalite';
import type { SandboxClock } from './clock';

/** An SDK client's `requestHandler`. */
export type SdkRequestHandler = RequestHandler<HttpRequest, HttpResponse>;

export interface DynamoSandbox {
  /** e.g. 'http://127.0.0.1:40123' */
  readonly endpoint: string;
  /** An SDK request handler that hands requests for `endpoint` to dynalite in this process. */
  readonly requestHandler: SdkRequestHandler;
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
  const requestHandler = inProcessHandler(server);
  // A plain client for setup: not scheduled, but with the Date header brought to virtual time.
  const admin = new DynamoDBClient({
    region,
    endpoint,
    requestHandler,
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
    requestHandler,
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

/** dynalite's `(req, res)` listener on its HTTP server. */
type DynaliteListener = (request: InProcessRequest, response: InProcessResponse) => void;

/** What dynalite reads of an IncomingMessage: method, url, headers (lower case), 'data' and 'end'. */
class InProcessRequest extends EventEmitter {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: Record<string, string>,
  ) {
    super();
  }
}

/** What dynalite writes to a ServerResponse: statusCode, headers, one `end(body)`. */
class InProcessResponse {
  statusCode = 200;
  contentType: string | undefined;
  readonly headers: Record<string, string> = {};
  constructor(private readonly done: (response: HttpResponse) => void) {}
  setHeader(name: string, value: string | number): void {
    this.headers[name.toLowerCase()] = String(value);
  }
  getHeader(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }
  end(body?: string): void {
    this.done({
      statusCode: this.statusCode,
      headers: this.headers,
      body: Buffer.from(body ?? '', 'utf8'),
    });
  }
}

/**
 * Written by hand: an SDK HttpHandler is a one-method interface, and no package bridges one to an
 * in-process `(req, res)` listener. The body and headers are what the SDK would have sent on the
 * wire; the answer is what dynalite would have written back (status, headers, body).
 */
export function inProcessHandler(server: Server): SdkRequestHandler {
  const listener = server.listeners('request')[0] as DynaliteListener | undefined;
  if (listener === undefined) throw new TypeError('inProcessHandler: the server has no request listener');
  return {
    handle(request: HttpRequest) {
      return new Promise((resolve) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
        // DynamoDB's JSON protocol sends everything in the body; its requests carry no query.
        const req = new InProcessRequest(request.method, request.path, headers);
        const res = new InProcessResponse((response) => resolve({ response }));
        listener(req, res);
        const body: unknown = request.body;
        if (typeof body === 'string') {
          if (body !== '') req.emit('data', Buffer.from(body, 'utf8'));
        } else if (body instanceof Uint8Array) {
          // A view on the same bytes (the SDK's JSON body is a Uint8Array that warns when used as a
          // string, which Buffer.from(body) would do through its valueOf).
          if (body.byteLength > 0)
            req.emit('data', Buffer.from(body.buffer, body.byteOffset, body.byteLength));
        } else if (body !== undefined && body !== null) {
          throw new TypeError('sandbox DynamoDB: a request body that is neither a string nor bytes');
        }
        req.emit('end');
      });
    },
  };
}
