/**
 * A local HTTP listener that stands in for an API Gateway HTTP API: each request becomes a
 * payload format 2.0 event for the Lambda function routed to it, and the function's result
 * becomes the HTTP response.
 *
 * Shape: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 * (the sample is test/fixtures/events/apigw/http-api-payload-v2-docs-example.json). Header names
 * are lower-cased and repeated headers joined with commas; cookies move to `cookies`; repeated query
 * parameters are joined with commas. Bodies that are not text (including the
 * application/x-www-form-urlencoded posts Slack sends) arrive base64-encoded with
 * `isBase64Encoded: true`, as API Gateway delivers them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface HttpRoute {
  method: string;
  path: string;
  functionName: string;
}

export interface HttpApiOptions {
  routes: HttpRoute[];
  invoke: (functionName: string, event: APIGatewayProxyEventV2) => Promise<unknown>;
  /** Virtual time for requestContext.timeEpoch. */
  now: () => number;
  accountId: string;
  region: string;
  apiId?: string;
}

const TEXT_TYPES = [/^text\//, /^application\/(json|xml|javascript)\b/, /\+(json|xml)\b/];

export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return TEXT_TYPES.some((pattern) => pattern.test(contentType.toLowerCase()));
}

export interface RawHttpRequest {
  method: string;
  /** Path with query string, e.g. /slack?x=1 */
  url: string;
  /** Header pairs as received (names in any case, repeats allowed). */
  headers: Array<[string, string]>;
  body: Buffer;
  sourceIp: string;
}

/** Turns a raw request into the payload-2.0 event API Gateway would send for `routeKey`. */
export function toHttpApiEvent(
  request: RawHttpRequest,
  routeKey: string,
  options: Pick<HttpApiOptions, 'now' | 'accountId' | 'region' | 'apiId'>,
  requestId: string,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url, 'http://localhost');
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  }
  const apiId = options.apiId ?? 'kilnsandbox';
  const text = isTextContentType(headers['content-type']);
  const time = new Date(options.now());
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: options.accountId,
      apiId,
      domainName: `${apiId}.execute-api.${options.region}.amazonaws.com`,
      domainPrefix: apiId,
      http: {
        method: request.method.toUpperCase(),
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: formatClfTime(time),
      timeEpoch: time.getTime(),
    },
    isBase64Encoded: request.body.length > 0 ? !text : false,
  };
  if (cookies.length) event.cookies = cookies;
  if (Object.keys(query).length) event.queryStringParameters = query;
  if (request.body.length > 0)
    event.body = text ? request.body.toString('utf8') : request.body.toString('base64');
  return event;
}

/** 12/Mar/2020:19:03:58 +0000, the format of requestContext.time. */
function formatClfTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * Maps a function result to an HTTP response as HTTP APIs do for payload 2.0: a structured
 * result `{ statusCode, headers, body, isBase64Encoded }` is used as is; anything else is returned
 * as a JSON body with status 200.
 */
export function toHttpResponse(result: unknown): {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
} {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const structured = result as APIGatewayProxyStructuredResultV2;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(structured.headers ?? {})) headers[k] = String(v);
    const raw = structured.body ?? '';
    const body = structured.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    return { status: structured.statusCode ?? 200, headers, body };
  }
  const body = Buffer.from(typeof result === 'string' ? result : JSON.stringify(result ?? null), 'utf8');
  return { status: 200, headers: { 'content-type': 'application/json' }, body };
}

function findRoute(routes: HttpRoute[], method: string, path: string): HttpRoute | undefined {
  return routes.find(
    (r) => (r.method === '*' || r.method.toUpperCase() === method.toUpperCase()) && r.path === path,
  );
}

export interface RunningHttpApi {
  url: string;
  close(): Promise<void>;
}

/** Starts the listener on a loopback port (0 = any free port). */
export async function startHttpApi(options: HttpApiOptions, port = 0): Promise<RunningHttpApi> {
  let counter = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const route = findRoute(options.routes, req.method ?? 'GET', path);
      if (!route) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '']);
      }
      const event = toHttpApiEvent(
        {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers,
          body: Buffer.concat(chunks),
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        },
        `${route.method.toUpperCase()} ${route.path}`,
        options,
        `sandbox-${++counter}`,
      );
      options.invoke(route.functionName, event).then(
        (result) => {
          const response = toHttpResponse(result);
          res.writeHead(response.status, response.headers).end(response.body);
        },
        () => {
          // API Gateway answers a failed integration with 500 and this body.
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end('{"message":"Internal Server Error"}');
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    // server.close() waits for open connections; a request whose function never answers (a run
    // that failed mid-request) would keep it open, and the process alive, for good.
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}
