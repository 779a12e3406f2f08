import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { authorize, groupsNamed, type ChatUser } from '../../../../shared/domain/chatops/authorize';
import { parseManifest, type ServiceManifest } from '../../../../shared/domain/manifest/schema';

/**
 * examples/checkout.yml's access lists: staging deploy/rollback [S02CHECKOUTDEV], approve [];
 * production deploy [U04ALICE01], rollback [S02CHECKOUTDEV, S03ONCALL], approve [U04ALICE01, U05BOBBY02].
 */
function checkout(): ServiceManifest {
  return parseManifest(parse(readFileSync(join(__dirname, '../../../../examples/checkout.yml'), 'utf8')));
}

const user = (userId: string, groups: string[] = [], groupsResolved = true): ChatUser => ({
  userId,
  groups: new Set(groups),
  groupsResolved,
});

describe('chat authorization', () => {
  describe('reads', () => {
    it('lets anyone read status and history, even a user no list names', () => {
      expect(authorize({ permission: 'read' }, checkout(), user('U0NOBODY'))).toEqual({
        allowed: true,
        via: 'anyone',
      });
    });
  });

  describe('a user listed by id', () => {
    it('may deploy to production', () => {
      expect(
        authorize({ permission: 'deploy', environment: 'production' }, checkout(), user('U04ALICE01')),
      ).toEqual({
        allowed: true,
        via: 'user',
      });
    });

    it('may approve promotions to production', () => {
      expect(
        authorize({ permission: 'approve', environment: 'production' }, checkout(), user('U05BOBBY02')),
      ).toMatchObject({
        allowed: true,
      });
    });

    it('may not roll back production, whose list names only groups, and the refusal says what and where', () => {
      const verdict = authorize(
        { permission: 'rollback', environment: 'production' },
        checkout(),
        user('U04ALICE01'),
      );
      expect(verdict).toEqual({
        allowed: false,
        message:
          '<@U04ALICE01> may not roll back checkout/production: only those listed in environments[production].access.rollback may',
      });
    });
  });

  describe('a user in a listed group', () => {
    it('may roll back production through the group', () => {
      expect(
        authorize(
          { permission: 'rollback', environment: 'production' },
          checkout(),
          user('U0CAROL', ['S03ONCALL']),
        ),
      ).toEqual({ allowed: true, via: 'group S03ONCALL' });
    });

    it('gains nothing from a group the list does not name', () => {
      const verdict = authorize(
        { permission: 'deploy', environment: 'production' },
        checkout(),
        user('U0CAROL', ['S03ONCALL']),
      );
      expect(verdict.allowed).toBe(false);
    });

    it('is refused when groups could not be resolved, and the refusal names the unchecked groups', () => {
      const verdict = authorize(
        { permission: 'rollback', environment: 'production' },
        checkout(),
        user('U0CAROL', [], false),
      );
      expect(verdict).toEqual({
        allowed: false,
        message: expect.stringContaining('its user groups (S02CHECKOUTDEV, S03ONCALL) could not be checked'),
      });
    });
  });

  describe('lists and environments', () => {
    it('refuses everyone when the list is empty, saying the manifest lists nobody', () => {
      const verdict = authorize(
        { permission: 'approve', environment: 'staging' },
        checkout(),
        user('U04ALICE01'),
      );
      expect(verdict).toEqual({
        allowed: false,
        message:
          '<@U04ALICE01> may not approve promotions to checkout/staging: the manifest lists nobody in environments[staging].access.approve',
      });
    });

    it('refuses an environment the manifest does not have, naming the ones it has', () => {
      const verdict = authorize({ permission: 'deploy', environment: 'qa' }, checkout(), user('U04ALICE01'));
      expect(verdict).toEqual({
        allowed: false,
        message: 'checkout has no environment "qa" (its environments: staging, production)',
      });
    });

    it('refuses an acting request that names no environment', () => {
      expect(authorize({ permission: 'deploy' }, checkout(), user('U04ALICE01')).allowed).toBe(false);
    });
  });

  describe('groupsNamed', () => {
    it('lists only the groups of the permission and environment asked about', () => {
      expect(groupsNamed(checkout(), 'rollback', 'production')).toEqual(['S02CHECKOUTDEV', 'S03ONCALL']);
      expect(groupsNamed(checkout(), 'approve', 'production')).toEqual([]);
      expect(groupsNamed(checkout(), 'read')).toEqual([]);
      expect(groupsNamed(checkout(), 'deploy', 'qa')).toEqual([]);
    });
  });
});
