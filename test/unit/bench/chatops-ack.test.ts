import { percentile } from '../../../bench/chatops-ack';
import { firstInvocations, slashCommandEvent } from '../../../bench/first-invocations';
import { BENCH_SLACK_SECRET } from '../../../bench/stub-sfn';
import { verifySlackSignature } from '../../../shared/domain/chatops/signature';

describe('the slash-command acknowledgement bench', () => {
  describe('percentile (nearest rank)', () => {
    it.each([
      [50, 3],
      [99, 5],
      [100, 5],
      [1, 1],
    ])('p%i of 1..5 is %i', (p, expected) => {
      expect(percentile([5, 1, 4, 2, 3], p)).toBe(expected);
    });
  });

  describe("chatops' first invocation", () => {
    it('is a request signed with the stub secret, different in every run (a first delivery, never a replay)', () => {
      const events = [0, 1, 2].map((run) => slashCommandEvent(run));
      for (const event of events) {
        const verdict = verifySlackSignature(
          {
            timestamp: event.headers['x-slack-request-timestamp'],
            signature: event.headers['x-slack-signature'],
            rawBody: Buffer.from(event.body, 'base64'),
          },
          BENCH_SLACK_SECRET,
          Date.now(),
        );
        expect(verdict).toEqual({ ok: true });
      }
      expect(new Set(events.map((e) => e.headers['x-slack-signature'])).size).toBe(3);
    });

    it('accepts only a 200 acknowledgement', () => {
      const check = firstInvocations.chatops!.check;
      expect(
        check({ statusCode: 200, body: '{"text":"Working on `/kiln status checkout`…"}' }),
      ).toBeUndefined();
      expect(check({ statusCode: 401, body: '{}' })).toMatch(/expected a 200/);
    });
  });
});
