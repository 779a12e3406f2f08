import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deploymentIdAt, deploymentIdTime } from '../../../shared/domain/ids';
import { ID_PATTERN, newDeploymentId, randomIds, type IdSource } from '../../../shared/runtime/ids';

const ROOT = join(__dirname, '../../..');
const JAN_1_2026 = Date.UTC(2026, 0, 1);

/** A source that hands out the given ids in order. */
function scripted(...ids: string[]): IdSource {
  let i = 0;
  return {
    next: () => {
      const id = ids[i++];
      if (id === undefined) throw new Error('scripted ids ran out');
      return id;
    },
  };
}

/** Every .ts file under `dir`, relative to the repository root. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Ways of drawing randomness (the project's stop hook greps for the first three). */
const RANDOMNESS =
  /crypto\.randomUUID|randomUUID\(|Math\.random\(|randomBytes\(|getRandomValues\(|randomInt\(/;

describe('the id source (shared/runtime/ids.ts)', () => {
  describe('newDeploymentId', () => {
    it('derives the id from the clock and one draw of the source', () => {
      const id = newDeploymentId(scripted('a1b2c3d4e5f60718'), () => JAN_1_2026);
      expect(id).toBe(deploymentIdAt(JAN_1_2026, 'a1b2c3d4e5f60718'));
      expect(deploymentIdTime(id)).toBe(JAN_1_2026);
    });

    it('makes different ids in the same millisecond from different draws', () => {
      const ids = scripted('one', 'two');
      expect(newDeploymentId(ids, () => JAN_1_2026)).not.toBe(newDeploymentId(ids, () => JAN_1_2026));
    });

    it('draws from random ids and the real clock by default', () => {
      const before = Date.now();
      const id = newDeploymentId();
      expect(deploymentIdTime(id)).toBeGreaterThanOrEqual(before);
      expect(newDeploymentId()).not.toBe(id);
    });
  });

  describe('randomIds', () => {
    it('draws ids that fit ID_PATTERN', () => {
      expect(randomIds.next()).toMatch(ID_PATTERN);
    });
  });

  describe('production code (functions/, shared/, cli/)', () => {
    const files = ['functions', 'shared', 'cli'].flatMap(sources);

    it('draws randomness only in shared/runtime/ids.ts', () => {
      const offenders = files
        .filter((file) => file !== join('shared', 'runtime', 'ids.ts'))
        .filter((file) => RANDOMNESS.test(readFileSync(join(ROOT, file), 'utf8')));
      expect(offenders).toEqual([]);
    });

    it('is read whole by that check: it finds the one draw in shared/runtime/ids.ts', () => {
      expect(files).toContain(join('shared', 'runtime', 'ids.ts'));
      expect(files.length).toBeGreaterThan(20);
      expect(readFileSync(join(ROOT, 'shared/runtime/ids.ts'), 'utf8')).toMatch(RANDOMNESS);
    });
  });
});
