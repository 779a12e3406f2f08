import fc from 'fast-check';
import { LINEAGE_TAG_KEYS, lineageTags } from '../../../shared/domain/lineage';
import { parseManifest } from '../../../shared/domain/manifest/schema';
import { formatFieldPath, ManifestValidationError } from '../../../shared/domain/manifest/errors';
import {
  nextWholeMinute,
  planRetention,
  RETENTION_DEFAULTS,
  StoredRetentionView,
  type ObservedImage,
  type RetainedRelease,
  type RetentionInput,
} from '../../../shared/domain/retention';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-01T12:00:30.000Z');

const ami = (n: number, region = 'us-east-1') =>
  `ami-${(region === 'us-east-1' ? 0 : 1).toString(16)}${n.toString(16).padStart(16, '0')}`;

function kilnTags(service: string, version: string): Record<string, string> {
  return lineageTags({
    service,
    version,
    digest: `sha256:${version}`,
    recipeHash: 'r1',
    baseAmi: 'ami-00000000000000001',
    deployment: `d-${version}`,
  });
}

/** Releases 1.0.0 … 1.(n-1).0, one a day, each with an AMI in us-east-1 and eu-west-1. */
function releases(n: number): RetainedRelease[] {
  return Array.from({ length: n }, (_, i) => ({
    version: `1.${i}.0`,
    createdAt: new Date(Date.parse('2026-01-01T00:00:00.000Z') + i * DAY).toISOString(),
    amis: { 'us-east-1': ami(i), 'eu-west-1': ami(i, 'eu-west-1') },
  }));
}

/** Every release's AMIs as EC2 would show them: available, tagged, not deprecated. */
function observed(list: readonly RetainedRelease[], service = 'checkout'): ObservedImage[] {
  return list.flatMap((release) =>
    Object.entries(release.amis).map(([region, imageId]) => ({
      region,
      imageId,
      state: 'available',
      tags: kilnTags(service, release.version),
    })),
  );
}

function input(overrides: Partial<RetentionInput> = {}): RetentionInput {
  const list = overrides.releases ?? releases(8);
  return {
    service: 'checkout',
    releases: list,
    environments: [],
    images: observed(list),
    now: NOW,
    settings: { ...RETENTION_DEFAULTS },
    ...overrides,
  };
}

const versionsOf = (items: ReadonlyArray<{ version: string }>) =>
  [...new Set(items.map((i) => i.version))].sort();

describe('image retention policy', () => {
  describe('which releases keep their AMIs', () => {
    it('keeps the newest N releases and deprecates the older ones in every Region', () => {
      const plan = planRetention(input({ settings: { keepReleases: 5, graceDays: 14 } }));
      expect(versionsOf(plan.kept)).toEqual(['1.3.0', '1.4.0', '1.5.0', '1.6.0', '1.7.0']);
      expect(plan.actions.map((a) => [a.kind, a.version, a.region])).toEqual([
        ['deprecate', '1.2.0', 'eu-west-1'],
        ['deprecate', '1.2.0', 'us-east-1'],
        ['deprecate', '1.1.0', 'eu-west-1'],
        ['deprecate', '1.1.0', 'us-east-1'],
        ['deprecate', '1.0.0', 'eu-west-1'],
        ['deprecate', '1.0.0', 'us-east-1'],
      ]);
    });

    it('keeps what an environment runs and what it would roll back to, however old', () => {
      const plan = planRetention(
        input({
          environments: [
            { environment: 'prod', currentRelease: '1.1.0', previousRelease: '1.0.0' },
            { environment: 'staging', currentRelease: '1.7.0' },
          ],
        }),
      );
      expect(plan.kept.filter((k) => k.version === '1.1.0').map((k) => k.reason)).toEqual([
        'running in prod',
        'running in prod',
      ]);
      expect(plan.kept.find((k) => k.version === '1.0.0')?.reason).toBe('rollback target of prod');
      expect(versionsOf(plan.actions)).toEqual(['1.2.0']);
    });

    it('keeps an AMI that a kept release shares with an older one', () => {
      const list = releases(7);
      const shared = { ...list[0], amis: { 'us-east-1': ami(6) } } as RetainedRelease;
      const plan = planRetention(
        input({ releases: [shared, ...list.slice(1)], images: observed(list.slice(1)) }),
      );
      expect(plan.actions.some((a) => a.imageId === ami(6))).toBe(false);
    });
  });

  describe('whose images it touches', () => {
    it('skips, and names, an image the records call a release but whose tags do not say Kiln baked it', () => {
      const list = releases(6);
      const images = observed(list).map((image) =>
        image.imageId === ami(0) ? { ...image, tags: { Name: 'hand-made' } } : image,
      );
      const plan = planRetention(input({ releases: list, images }));
      expect(plan.skipped).toEqual([
        {
          region: 'us-east-1',
          imageId: ami(0),
          version: '1.0.0',
          reason: 'its tags do not say Kiln baked it for checkout@1.0.0',
        },
      ]);
      expect(plan.actions.map((a) => a.imageId)).toEqual([ami(0, 'eu-west-1')]);
    });

    it('skips an image tagged for another service or another version', () => {
      const list = releases(6);
      const images = observed(list).map((image) =>
        image.imageId === ami(0)
          ? { ...image, tags: kilnTags('ledger', '1.0.0') }
          : image.imageId === ami(0, 'eu-west-1')
            ? { ...image, tags: kilnTags('checkout', '9.9.9') }
            : image,
      );
      const plan = planRetention(input({ releases: list, images }));
      expect(plan.actions).toEqual([]);
      expect(plan.skipped).toHaveLength(2);
    });

    it('leaves a pending or failed image alone, with its state as the reason', () => {
      const list = releases(6);
      const images = observed(list).map((image) =>
        image.imageId === ami(0) ? { ...image, state: 'pending' } : image,
      );
      const plan = planRetention(input({ releases: list, images }));
      expect(plan.skipped.map((s) => s.reason)).toEqual(['it is pending, not available']);
    });

    it('counts an AMI EC2 no longer shows as gone, with nothing to do', () => {
      const list = releases(6);
      const plan = planRetention(input({ releases: list, images: observed(list.slice(1)) }));
      expect(plan.gone.map((g) => g.imageId).sort()).toEqual([ami(0), ami(0, 'eu-west-1')].sort());
      expect(plan.actions).toEqual([]);
    });
  });

  describe('deprecating, then deregistering after the grace period', () => {
    it('deprecates at the next whole minute, the earliest time EC2 takes without rounding it back', () => {
      const plan = planRetention(input({ releases: releases(6) }));
      expect(plan.actions[0]).toMatchObject({
        kind: 'deprecate',
        deprecateAt: Date.parse('2026-03-01T12:01:00.000Z'),
      });
      expect(nextWholeMinute(Date.parse('2026-03-01T12:01:00.000Z'))).toBe(
        Date.parse('2026-03-01T12:02:00.000Z'),
      );
    });

    it('waits while the grace period runs, then deregisters', () => {
      const list = releases(6);
      const deprecatedAt = NOW - 14 * DAY + 60_000;
      const images = observed(list).map((image) =>
        image.imageId === ami(0) ? { ...image, deprecationTime: deprecatedAt } : image,
      );
      const during = planRetention(input({ releases: list, images }));
      expect(during.waiting).toEqual([
        { region: 'us-east-1', imageId: ami(0), version: '1.0.0', deregisterAfter: deprecatedAt + 14 * DAY },
      ]);
      expect(during.actions.filter((a) => a.imageId === ami(0))).toEqual([]);

      const after = planRetention(input({ releases: list, images, now: deprecatedAt + 14 * DAY }));
      expect(after.actions.filter((a) => a.imageId === ami(0))).toMatchObject([
        { kind: 'deregister', deprecatedAt },
      ]);
    });

    it('deprecates sooner an image whose deprecation someone set for later', () => {
      const list = releases(6);
      const later = NOW + 365 * DAY;
      const images = observed(list).map((image) =>
        image.imageId === ami(0) ? { ...image, deprecationTime: later } : image,
      );
      const plan = planRetention(input({ releases: list, images }));
      expect(plan.actions.find((a) => a.imageId === ami(0))).toMatchObject({
        kind: 'deprecate',
        previousDeprecationTime: later,
      });
    });

    it('plans nothing new on a rerun in the same minute (its deprecation is already set)', () => {
      const list = releases(6);
      const first = planRetention(input({ releases: list }));
      const deprecateAt = nextWholeMinute(NOW);
      const images = observed(list).map((image) =>
        first.actions.some((a) => a.imageId === image.imageId)
          ? { ...image, deprecationTime: deprecateAt }
          : image,
      );
      expect(planRetention(input({ releases: list, images, now: NOW + 10_000 })).actions).toEqual([]);
    });

    it('cancels the deprecation of an image that is kept again, so its next retirement waits the whole grace period', () => {
      const list = releases(8);
      const images = observed(list).map((image) =>
        image.imageId === ami(0) ? { ...image, deprecationTime: NOW - 20 * DAY } : image,
      );
      const plan = planRetention(
        input({ releases: list, images, environments: [{ environment: 'prod', currentRelease: '1.0.0' }] }),
      );
      expect(plan.actions.filter((a) => a.version === '1.0.0')).toEqual([
        expect.objectContaining({ kind: 'restore', imageId: ami(0), deprecationTime: NOW - 20 * DAY }),
      ]);
    });
  });

  describe('as a property over any releases, environments and images', () => {
    const arbitraryInput = fc
      .record({
        count: fc.integer({ min: 0, max: 12 }),
        keepReleases: fc.integer({ min: 1, max: 6 }),
        graceDays: fc.integer({ min: 1, max: 30 }),
        envs: fc.array(fc.record({ current: fc.option(fc.nat(14)), previous: fc.option(fc.nat(14)) }), {
          maxLength: 3,
        }),
        // Per image: is it tagged as Kiln's (0), untagged (1), another service's (2); its state;
        // its deprecation, in days from now (negative: in the past).
        looks: fc.array(
          fc.record({
            tagging: fc.constantFrom(0, 0, 0, 1, 2),
            state: fc.constantFrom('available', 'available', 'pending', 'failed'),
            deprecatedDaysAgo: fc.option(fc.integer({ min: -5, max: 40 })),
            present: fc.boolean(),
          }),
          { minLength: 24, maxLength: 24 },
        ),
        shuffled: fc.boolean(),
      })
      .map(({ count, keepReleases, graceDays, envs, looks, shuffled }) => {
        const list = releases(count);
        const images: ObservedImage[] = [];
        observed(list).forEach((image, i) => {
          const look = looks[i % looks.length];
          if (!look?.present) return;
          const tags =
            look.tagging === 0
              ? image.tags
              : look.tagging === 1
                ? {}
                : kilnTags('ledger', image.tags[LINEAGE_TAG_KEYS.version] ?? '');
          images.push({
            ...image,
            tags,
            state: look.state,
            ...(look.deprecatedDaysAgo === null
              ? {}
              : { deprecationTime: NOW - look.deprecatedDaysAgo * DAY }),
          });
        });
        return {
          service: 'checkout',
          releases: shuffled ? [...list].reverse() : list,
          environments: envs.map((e, i) => ({
            environment: `env${i}`,
            ...(e.current === null ? {} : { currentRelease: `1.${e.current}.0` }),
            ...(e.previous === null ? {} : { previousRelease: `1.${e.previous}.0` }),
          })),
          images,
          now: NOW,
          settings: { keepReleases, graceDays },
        } satisfies RetentionInput;
      });

    const retiring = (kind: string) => kind === 'deprecate' || kind === 'deregister';

    it('never retires an image of the newest N releases or of a release an environment runs or would roll back to', () => {
      fc.assert(
        fc.property(arbitraryInput, (given) => {
          const newest = [...given.releases]
            .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
            .slice(0, given.settings.keepReleases)
            .map((r) => r.version);
          const inUse = given.environments.flatMap((e) => [e.currentRelease, e.previousRelease]);
          const protectedVersions = new Set([...newest, ...inUse]);
          const protectedAmis = new Set(
            given.releases
              .filter((r) => protectedVersions.has(r.version))
              .flatMap((r) => Object.values(r.amis)),
          );
          for (const action of planRetention(given).actions) {
            if (retiring(action.kind)) expect(protectedAmis.has(action.imageId)).toBe(false);
          }
        }),
      );
    });

    it("never acts on an image that is not a recorded release's AMI in that Region, tagged as Kiln's for that release", () => {
      fc.assert(
        fc.property(arbitraryInput, (given) => {
          for (const action of planRetention(given).actions) {
            const release = given.releases.find((r) => r.version === action.version);
            expect(release?.amis[action.region]).toBe(action.imageId);
            const image = given.images.find(
              (i) => i.region === action.region && i.imageId === action.imageId,
            );
            expect(image?.tags[LINEAGE_TAG_KEYS.service]).toBe('checkout');
            expect(image?.tags[LINEAGE_TAG_KEYS.version]).toBe(action.version);
            expect(image?.state).toBe('available');
          }
        }),
      );
    });

    it('deregisters only images deprecated at least the grace period ago, and deprecates never into the past', () => {
      fc.assert(
        fc.property(arbitraryInput, (given) => {
          for (const action of planRetention(given).actions) {
            if (action.kind === 'deregister')
              expect(action.deprecatedAt + given.settings.graceDays * DAY).toBeLessThanOrEqual(given.now);
            if (action.kind === 'deprecate') {
              expect(action.deprecateAt).toBeGreaterThan(given.now);
              expect(action.deprecateAt % 60_000).toBe(0);
            }
          }
        }),
      );
    });

    it('plans the same whatever order the releases come in', () => {
      fc.assert(
        fc.property(arbitraryInput, (given) => {
          const reversed = { ...given, releases: [...given.releases].reverse() };
          expect(planRetention(reversed)).toEqual(planRetention(given));
        }),
      );
    });
  });
});

describe('retention settings in the manifest', () => {
  const checkout = () =>
    parseYaml(readFileSync(join(__dirname, '../../../examples/checkout.yml'), 'utf8')) as {
      bake: Record<string, unknown>;
    };

  it('defaults to keeping 5 releases with a 14-day grace period', () => {
    expect(parseManifest(checkout()).bake.retention).toEqual({ keepReleases: 5, graceDays: 14 });
  });

  it.each([
    [{ keepReleases: 0 }, 'bake.retention.keepReleases', 'must be between 1 and 100'],
    [{ keepReleases: 2.5 }, 'bake.retention.keepReleases', ''],
    [{ graceDays: 0 }, 'bake.retention.graceDays', 'must be between 1 and 365'],
    [{ graceDays: 400 }, 'bake.retention.graceDays', 'must be between 1 and 365'],
    [{ keepRelease: 3 }, 'bake.retention', 'keepRelease'],
  ])('refuses bake.retention %j, naming the field', (retention, field, message) => {
    const manifest = checkout();
    manifest.bake.retention = retention;
    let error: unknown;
    try {
      parseManifest(manifest);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ManifestValidationError);
    const issues = (error as ManifestValidationError).issues;
    expect(issues).toHaveLength(1);
    expect(formatFieldPath(issues[0]?.path ?? [])).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}`));
    expect(JSON.stringify(issues)).toContain(message);
  });

  it('reads a manifest stored before the setting existed with the defaults', () => {
    const stored = parseManifest(checkout()) as unknown as { bake: Record<string, unknown> };
    delete stored.bake.retention;
    const view = StoredRetentionView.parse(stored);
    expect(view.bake.retention).toEqual(RETENTION_DEFAULTS);
  });
});
