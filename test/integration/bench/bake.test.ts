import { measureBake } from '../../../bench/bake';

/**
 * The bake bench (`KILN_BENCH_SECTIONS=bake`) counts a whole deploy execution: its figures are
 * only a bake's if the execution is the bake alone and ends well. No timing is asserted.
 */
describe('the bake bench', () => {
  it('measures a fresh bake whose execution succeeds, with the release reached in virtual time', async () => {
    const figures = await measureBake({ seed: 7, cacheHit: false });

    expect(figures.status).toBe('SUCCEEDED');
    expect(figures.releaseSeconds).toBeGreaterThan(0);
    expect(figures.waits).toBeGreaterThan(0);
  }, 120_000);
});
