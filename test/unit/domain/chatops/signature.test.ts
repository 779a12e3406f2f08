import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { slackSignature, verifySlackSignature } from '../../../../shared/domain/chatops/signature';

const SLACK = join(__dirname, '../../../fixtures/events/slack');

/** Slack's worked example (api.slack.com/authentication/verifying-requests-from-slack). */
function example() {
  const facts = JSON.parse(readFileSync(join(SLACK, 'signing-example.json'), 'utf8')) as {
    signing_secret: string;
    x_slack_request_timestamp: string;
    x_slack_signature: string;
  };
  const rawBody = readFileSync(join(SLACK, 'signing-example-body.txt'));
  return { ...facts, rawBody, atMs: Number(facts.x_slack_request_timestamp) * 1000 };
}

describe('Slack request signature (v0)', () => {
  describe("on Slack's documented example", () => {
    it('computes the signature Slack shows', () => {
      const ex = example();
      expect(slackSignature(ex.signing_secret, ex.x_slack_request_timestamp, ex.rawBody)).toBe(
        ex.x_slack_signature,
      );
    });

    it('accepts the example at its own timestamp', () => {
      const ex = example();
      const verdict = verifySlackSignature(
        { timestamp: ex.x_slack_request_timestamp, signature: ex.x_slack_signature, rawBody: ex.rawBody },
        ex.signing_secret,
        ex.atMs,
      );
      expect(verdict).toEqual({ ok: true });
    });

    it('refuses the example when one byte of the body differs', () => {
      const ex = example();
      const body = Buffer.from(ex.rawBody);
      body[body.length - 1] = body[body.length - 1]! ^ 1;
      const verdict = verifySlackSignature(
        { timestamp: ex.x_slack_request_timestamp, signature: ex.x_slack_signature, rawBody: body },
        ex.signing_secret,
        ex.atMs,
      );
      expect(verdict).toMatchObject({ ok: false, reason: 'bad-signature' });
    });

    it('refuses the example under another secret', () => {
      const ex = example();
      const verdict = verifySlackSignature(
        { timestamp: ex.x_slack_request_timestamp, signature: ex.x_slack_signature, rawBody: ex.rawBody },
        `${ex.signing_secret}x`,
        ex.atMs,
      );
      expect(verdict).toMatchObject({ ok: false, reason: 'bad-signature' });
    });
  });

  describe('timestamps', () => {
    it.each([
      ['5 minutes old', 300, true],
      ['5 minutes and 1 second old', 301, false],
      ['5 minutes and 1 second in the future', -301, false],
    ])('%s: accepted=%s', (_what, ageSeconds, accepted) => {
      const ex = example();
      const verdict = verifySlackSignature(
        { timestamp: ex.x_slack_request_timestamp, signature: ex.x_slack_signature, rawBody: ex.rawBody },
        ex.signing_secret,
        ex.atMs + ageSeconds * 1000,
      );
      expect(verdict.ok).toBe(accepted);
      if (!accepted) expect(verdict).toMatchObject({ reason: 'stale' });
    });

    it('refuses a timestamp that is not whole seconds', () => {
      const ex = example();
      const verdict = verifySlackSignature(
        { timestamp: '1531420618.5', signature: ex.x_slack_signature, rawBody: ex.rawBody },
        ex.signing_secret,
        ex.atMs,
      );
      expect(verdict).toMatchObject({ ok: false, reason: 'bad-timestamp' });
    });
  });

  describe('headers', () => {
    it.each([
      ['no timestamp', { timestamp: undefined, signature: 'v0=00' }],
      ['no signature', { timestamp: '1531420618', signature: undefined }],
    ])('refuses a request with %s', (_what, headers) => {
      const verdict = verifySlackSignature({ ...headers, rawBody: Buffer.from('') }, 'secret', 1531420618000);
      expect(verdict).toMatchObject({ ok: false, reason: 'missing-headers' });
    });

    it('refuses a signature of another length without throwing', () => {
      const ex = example();
      const verdict = verifySlackSignature(
        { timestamp: ex.x_slack_request_timestamp, signature: 'v0=abc', rawBody: ex.rawBody },
        ex.signing_secret,
        ex.atMs,
      );
      expect(verdict).toMatchObject({ ok: false, reason: 'bad-signature' });
    });

    it('refuses a signature in upper-case hex (Slack sends lower case; the comparison is exact)', () => {
      const ex = example();
      const verdict = verifySlackSignature(
        {
          timestamp: ex.x_slack_request_timestamp,
          signature: ex.x_slack_signature.toUpperCase(),
          rawBody: ex.rawBody,
        },
        ex.signing_secret,
        ex.atMs,
      );
      expect(verdict).toMatchObject({ ok: false, reason: 'bad-signature' });
    });
  });
});
