import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startHttpApi, toHttpApiEvent, toHttpResponse } from '../../../sandbox/http-api';

const docsSample = JSON.parse(
  readFileSync(join(__dirname, '../../fixtures/events/apigw/http-api-payload-v2-docs-example.json'), 'utf8'),
) as APIGatewayProxyEventV2;

const options = { now: () => Date.UTC(2026, 0, 1, 12, 0, 0), accountId: '123456789012', region: 'us-east-1' };

describe('toHttpApiEvent (API Gateway payload format 2.0)', () => {
  const formBody = 'command=%2Fkiln&text=rollback+checkout+production&user_id=U2147483697';

  it("carries the same top-level and requestContext fields as AWS's documented sample", () => {
    const event = toHttpApiEvent(
      {
        method: 'POST',
        url: '/slack?a=1&a=2&b=3',
        headers: [
          ['Content-Type', 'text/plain'],
          ['Cookie', 'c1=1; c2=2'],
          ['X-Repeat', 'v1'],
          ['X-Repeat', 'v2'],
        ],
        body: Buffer.from('hello'),
        sourceIp: '127.0.0.1',
      },
      'POST /slack',
      options,
      'req-1',
    );
    const optionalInSample = ['pathParameters', 'stageVariables'];
    expect(Object.keys(event).sort()).toEqual(
      Object.keys(docsSample)
        .filter((k) => !optionalInSample.includes(k))
        .sort(),
    );
    const sampleContextKeys = Object.keys(docsSample.requestContext).filter(
      (k) => !['authentication', 'authorizer'].includes(k),
    );
    expect(Object.keys(event.requestContext).sort()).toEqual(sampleContextKeys.sort());
    expect(event.headers).toEqual({ 'content-type': 'text/plain', 'x-repeat': 'v1,v2' });
    expect(event.cookies).toEqual(['c1=1', 'c2=2']);
    expect(event.queryStringParameters).toEqual({ a: '1,2', b: '3' });
    expect(event.rawQueryString).toBe('a=1&a=2&b=3');
    expect(event.requestContext.time).toBe('01/Jan/2026:12:00:00 +0000');
    expect(event).toMatchObject({ body: 'hello', isBase64Encoded: false });
  });

  it('base64-encodes a form post, as API Gateway does for Slack requests', () => {
    const event = toHttpApiEvent(
      {
        method: 'POST',
        url: '/slack',
        headers: [['Content-Type', 'application/x-www-form-urlencoded']],
        body: Buffer.from(formBody),
        sourceIp: '127.0.0.1',
      },
      'POST /slack',
      options,
      'req-2',
    );
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').toString('utf8')).toBe(formBody);
  });
});

describe('toHttpResponse', () => {
  it('uses a structured result as is', () => {
    expect(toHttpResponse({ statusCode: 401, headers: { 'x-a': 'b' }, body: 'no' })).toEqual({
      status: 401,
      headers: { 'x-a': 'b' },
      body: Buffer.from('no'),
    });
  });

  it('returns any other result as JSON with status 200', () => {
    expect(toHttpResponse({ text: 'ok' })).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"text":"ok"}'),
    });
  });
});

describe('startHttpApi', () => {
  it('routes a request to its function and answers with the function result', async () => {
    const seen: APIGatewayProxyEventV2[] = [];
    const api = await startHttpApi({
      ...options,
      routes: [{ method: 'POST', path: '/slack', functionName: 'kiln-sandbox-chatops' }],
      invoke: async (_name, event) => {
        seen.push(event);
        return { statusCode: 200, body: 'rolled back' };
      },
    });
    try {
      const ok = await fetch(`${api.url}/slack`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'text=status',
      });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('rolled back');
      expect(seen[0]).toMatchObject({ routeKey: 'POST /slack', isBase64Encoded: true });
      const missing = await fetch(`${api.url}/nope`, { method: 'POST' });
      expect(missing.status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('answers 500 when the function fails, like API Gateway', async () => {
    const api = await startHttpApi({
      ...options,
      routes: [{ method: 'POST', path: '/slack', functionName: 'f' }],
      invoke: async () => {
        throw new Error('crash');
      },
    });
    try {
      const response = await fetch(`${api.url}/slack`, { method: 'POST', body: 'x' });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    } finally {
      await api.close();
    }
  });
});
