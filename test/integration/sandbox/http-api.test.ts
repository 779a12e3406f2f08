import { join } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createRegion, type Region } from '../../../sandbox/region';

describe('the sandbox HTTP API', () => {
  let region: Region;
  const seen: APIGatewayProxyEventV2[] = [];

  beforeEach(async () => {
    seen.length = 0;
    region = await createRegion({
      seed: 3,
      serverlessFile: join(__dirname, '../../fixtures/serverless/http-api.yml'),
      functions: {
        chatops: async (env) => async (event) => {
          const request = event as APIGatewayProxyEventV2;
          seen.push(request);
          // `wait`: the function waits on a virtual timer first, as the SDK's retry backoff does.
          if (request.body === 'wait') {
            await new Promise((resolve) => setTimeout(resolve, 5000));
          }
          // `hang`: the function never answers (a run that fails while it works).
          if (request.body === 'hang') await new Promise(() => undefined);
          const out = await env.clients.ec2.send(new DescribeInstancesCommand({}));
          return { statusCode: 200, body: `instances=${(out.Reservations ?? []).length}` };
        },
      },
    });
  });

  afterEach(() => region.dispose());

  it('turns a form post into a payload 2.0 event for the routed function and returns its answer', async () => {
    const api = await region.startHttpApi();
    const response = await region.engine.run(async () => {
      const res = await api.request('POST', '/slack', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'command=%2Fkiln&text=status+checkout',
      });
      return { status: res.status, body: await res.text() };
    });
    expect(response).toEqual({ status: 200, body: 'instances=0' });
    expect(seen[0]).toMatchObject({ routeKey: 'POST /slack', isBase64Encoded: true });
    expect(Buffer.from(seen[0]?.body ?? '', 'base64').toString()).toBe(
      'command=%2Fkiln&text=status+checkout',
    );
  });

  it("attributes the function's SDK calls to it on the timeline and holds virtual time during the request", async () => {
    const api = await region.startHttpApi();
    const before = region.engine.clock.now();
    await region.engine.run(() => api.request('POST', '/slack', { body: 'x' }));
    expect(region.engine.clock.now()).toBe(before);
    const calls = region.engine.timeline.entries.filter((e) => e.kind === 'api');
    expect(calls).toEqual([
      expect.objectContaining({
        service: 'EC2',
        operation: 'DescribeInstances',
        caller: 'fn:chatops',
        ok: true,
      }),
    ]);
  });

  it('lets virtual time move while the function itself waits on a timer (no deadlock on a retry backoff)', async () => {
    const api = await region.startHttpApi();
    const before = region.engine.clock.now();
    const status = await region.engine.run(
      async () => (await api.request('POST', '/slack', { body: 'wait' })).status,
    );
    expect(status).toBe(200);
    expect(region.engine.clock.now()).toBe(before + 5000);
  });

  it('closes with a request still in flight (a failed run disposes the region mid-request)', async () => {
    const api = await region.startHttpApi();
    let pending: Promise<string> | undefined;
    await region.engine.run(async () => {
      pending = api.request('POST', '/slack', { body: 'hang' }).then(
        () => 'answered',
        () => 'dropped',
      );
      // Real turns of the event loop (not virtual time): until the function has the request.
      while (seen.length === 0) await new Promise((resolve) => setImmediate(resolve));
    });
    await region.dispose();
    expect(await pending).toBe('dropped');
  });

  it('answers 404 for a route serverless.yml does not declare', async () => {
    const api = await region.startHttpApi();
    const status = await region.engine.run(async () => (await api.request('GET', '/slack')).status);
    expect(status).toBe(404);
  });
});
