import { slackSignature } from '../../../shared/domain/chatops/signature';
import { serveSandbox } from '../../../sandbox/serve';

/**
 * `kiln sandbox --serve`: the region keeps running with the HTTP API on a loopback port, and a
 * request signed with the wall clock's time (as Slack signs) is answered; an unknown user may
 * read status but not roll back.
 */
jest.setTimeout(120_000);

const SECRET = 'serve-test-secret';

function signed(text: string, user: string, n: number) {
  const body = new URLSearchParams({
    team_id: 'T0SANDBOX',
    user_id: user,
    command: '/kiln',
    text,
    response_url: `https://hooks.slack.com/commands/T0SANDBOX/${n}/t`,
  }).toString();
  // Date is the sandbox's virtual clock here, which --serve keeps with the wall clock.
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(SECRET, timestamp, body),
    },
  };
}

describe('kiln sandbox --serve', () => {
  it('answers signed /kiln requests on POST /slack until stopped', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const statuses: number[] = [];
    // Each request's answer is awaited as it is printed (no polling of the event loop: how many
    // turns the worker takes is not the test's business; Jest's timeout bounds a lost answer).
    const waiters = new Map<number, () => void>();
    const print = (line: string) => {
      lines.push(line);
      for (const [n, resolve] of waiters) if (line.includes(`/T0SANDBOX/${n}/t:`)) resolve();
    };
    const answer = (n: number) =>
      new Promise<void>((resolve) => {
        if (lines.some((l) => l.includes(`/T0SANDBOX/${n}/t:`))) resolve();
        else waiters.set(n, resolve);
      });
    await serveSandbox({
      port: 0,
      secret: SECRET,
      seed: 7,
      fleet: 1,
      print,
      signal: stop.signal,
      onListening: (url) => {
        void (async () => {
          try {
            for (const [n, text, user] of [
              [1, 'status checkout', 'U0SANDBOXVIEW'],
              [2, 'rollback checkout staging', 'U0SANDBOXVIEW'],
            ] as const) {
              const { body, headers } = signed(text, user, n);
              const response = await fetch(`${url}/slack`, { method: 'POST', headers, body });
              statuses.push(response.status);
              await response.text();
              await answer(n);
            }
            const unsigned = await fetch(`${url}/slack`, { method: 'POST', body: 'x=1' });
            statuses.push(unsigned.status);
          } finally {
            stop.abort();
          }
        })();
      },
    });
    expect(statuses).toEqual([200, 200, 401]);
    expect(lines.find((l) => l.includes('/T0SANDBOX/1/t:'))).toMatch(/staging: 1\.0\.0/);
    expect(lines.find((l) => l.includes('/T0SANDBOX/2/t:'))).toMatch(/may not roll back checkout\/staging/);
  });
});
