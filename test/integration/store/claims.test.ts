import { InvalidInputError } from '../../../shared/runtime/errors';
import { startDynalite, type LocalDynamo } from '../../support/dynalite';
import { newStore, testClock, uniqueName, T0 } from './helpers';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.stop();
});

const HOUR = 3_600_000;

describe('KilnStore claims', () => {
  describe('claim', () => {
    it('gives a key to exactly one of two racing holders; the other reads the winner', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('i-0abc');
      const [a, b] = await Promise.all([
        store.claim({ scope: 'lifecycle', key, holder: 'a', expiresAt: T0 + HOUR }),
        store.claim({ scope: 'lifecycle', key, holder: 'b', expiresAt: T0 + HOUR }),
      ]);
      const winners = [a, b].filter((outcome) => outcome.claimed);
      expect(winners).toHaveLength(1);
      const loser = [a, b].find((outcome) => !outcome.claimed);
      expect(loser).toMatchObject({ claimed: false, existing: { status: 'held', key } });
    });

    it('lets the same holder claim again (a retried invocation)', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('k');
      await store.claim({ scope: 'lifecycle', key, holder: 'a', expiresAt: T0 + HOUR });
      expect(await store.claim({ scope: 'lifecycle', key, holder: 'a', expiresAt: T0 + HOUR })).toMatchObject(
        {
          claimed: true,
        },
      );
    });

    it('takes over a held claim whose holder let it expire', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const key = uniqueName('k');
      await store.claim({ scope: 'alarm-rollback', key, holder: 'a', expiresAt: T0 + 1000 });
      expect(
        (await store.claim({ scope: 'alarm-rollback', key, holder: 'b', expiresAt: T0 + HOUR })).claimed,
      ).toBe(false);
      clock.advance(1001);
      expect(
        await store.claim({ scope: 'alarm-rollback', key, holder: 'b', expiresAt: T0 + HOUR }),
      ).toMatchObject({
        claimed: true,
        claim: { holder: 'b' },
      });
    });

    it('never takes over a done claim, even past its expiry', async () => {
      const clock = testClock();
      const store = newStore(dynamo, clock);
      const key = uniqueName('k');
      await store.claim({ scope: 'slack-request', key, holder: 'a', expiresAt: T0 + 1000 });
      expect(await store.settleClaim('slack-request', key, { holder: 'a', outcome: 'answered' })).toBe(true);
      clock.advance(5000);
      const again = await store.claim({ scope: 'slack-request', key, holder: 'b', expiresAt: T0 + HOUR });
      expect(again).toMatchObject({
        claimed: false,
        existing: { status: 'done', outcome: 'answered', holder: 'a' },
      });
    });

    it('refuses a malformed claim naming the field, writing nothing', async () => {
      const store = newStore(dynamo);
      await expect(
        store.claim({ scope: 'lifecycle', key: 'a#b', holder: 'a', expiresAt: T0 + HOUR }),
      ).rejects.toThrow(InvalidInputError);
      await expect(
        // @ts-expect-error an unknown scope is refused at run time too
        store.claim({ scope: 'nope', key: 'k', holder: 'a', expiresAt: T0 + HOUR }),
      ).rejects.toThrow(/scope/);
    });
  });

  describe('settleClaim and releaseClaim', () => {
    it('only the holder settles or releases its claim', async () => {
      const store = newStore(dynamo);
      const key = uniqueName('k');
      await store.claim({ scope: 'notification', key, holder: 'a', expiresAt: T0 + HOUR });
      expect(await store.settleClaim('notification', key, { holder: 'b' })).toBe(false);
      expect(await store.releaseClaim('notification', key, { holder: 'b' })).toBe(false);
      expect(await store.releaseClaim('notification', key, { holder: 'a' })).toBe(true);
      expect(await store.getClaim('notification', key)).toBeUndefined();
    });
  });

  describe('listClaims', () => {
    it('lists a scope by expiry, and narrows to the overdue ones', async () => {
      const store = newStore(dynamo);
      const scope = 'reconcile' as const;
      const late = uniqueName('late');
      const soon = uniqueName('soon');
      await store.claim({ scope, key: late, holder: 'a', expiresAt: T0 + 2 * HOUR });
      await store.claim({ scope, key: soon, holder: 'a', expiresAt: T0 + HOUR });
      const all = (await store.listClaims(scope)).items.map((claim) => claim.key);
      expect(all.indexOf(soon)).toBeLessThan(all.indexOf(late));
      const overdue = (await store.listClaims(scope, { expiringBefore: T0 + HOUR + 1 })).items.map(
        (c) => c.key,
      );
      expect(overdue).toContain(soon);
      expect(overdue).not.toContain(late);
    });
  });
});
