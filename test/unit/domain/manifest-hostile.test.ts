import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateManifestSource, type ManifestDiagnostic } from '../../../shared/domain/manifest/yaml';

/**
 * Manifests written to hurt the validator: huge, repetitive, self-referential, deeply nested, or
 * using YAML features Kiln does not read. Each must end in diagnostics, never in a hang or a
 * crash, and each diagnostic says what is wrong in words at the place it is wrong.
 */

const ROOT = join(__dirname, '..', '..', '..');
const checkout = () => readFileSync(join(ROOT, 'examples', 'checkout.yml'), 'utf8');
const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'manifests', name), 'utf8');
const lineOf = (text: string, needle: string) =>
  text.split('\n').findIndex((line) => line.includes(needle)) + 1;
const columnOf = (text: string, needle: string) =>
  (text.split('\n')[lineOf(text, needle) - 1] ?? '').indexOf(needle) + 1;

function diagnose(text: string): ManifestDiagnostic[] {
  return validateManifestSource(text, 'hostile.yml').diagnostics;
}

/** `k0: 0`, `k1: 1`, … one key per line. */
function manyKeys(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`k${i}: ${i}`);
  return `${lines.join('\n')}\n`;
}

describe('validateManifestSource on hostile input', () => {
  describe('file size', () => {
    it('refuses a file over 1 MiB by its size, before parsing it, naming its size and the limit', () => {
      const text = `# ${'x'.repeat(20 * 1024 * 1024)}\n`;
      const result = validateManifestSource(text, 'big.yml');
      expect(result.manifest).toBeUndefined();
      expect(result.diagnostics).toEqual([
        {
          file: 'big.yml',
          message: 'file is 20,971,523 bytes (20.0 MiB); manifests are limited to 1 MiB (1,048,576 bytes)',
          reason: 'file is 20,971,523 bytes (20.0 MiB); manifests are limited to 1 MiB (1,048,576 bytes)',
        },
      ]);
    });

    it('counts UTF-8 bytes, not characters', () => {
      // 600,000 two-byte characters: 1,200,000 bytes in a file, though only 600,000 characters.
      const text = `# ${'é'.repeat(600_000)}\n`;
      expect(diagnose(text)).toEqual([
        expect.objectContaining({ reason: expect.stringMatching(/^file is 1,200,003 bytes \(1\.1 MiB\);/) }),
      ]);
    });

    it('reads a file of exactly 1 MiB', () => {
      const head = checkout();
      const text = `${head}#${'x'.repeat(1024 * 1024 - head.length - 2)}\n`;
      expect(Buffer.byteLength(text)).toBe(1024 * 1024);
      expect(diagnose(text)).toEqual([]);
    });
  });

  describe('duplicate keys', () => {
    it('reports a duplicate at the second occurrence, naming the field and the first line', () => {
      const text = checkout().replace('kind: Service\n', 'kind: Service\nkind: Service\n');
      const first = lineOf(text, 'kind: Service');
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          line: first + 1,
          column: 1,
          field: 'kind',
          reason: `duplicate key (first at line ${first})`,
        }),
      ]);
    });

    it('treats 1 and "1" as the same key, as they name the same field', () => {
      expect(diagnose("1: a\n'1': b\n")).toEqual([
        expect.objectContaining({
          line: 2,
          column: 1,
          field: '["1"]',
          reason: 'duplicate key (first at line 1)',
        }),
      ]);
    });

    it('finds the one duplicate among 20,000 keys', () => {
      const text = `${manyKeys(20_000)}k5: again\n`;
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          line: 20_001,
          column: 1,
          field: 'k5',
          reason: 'duplicate key (first at line 6)',
        }),
      ]);
    });
  });

  describe('many keys', () => {
    it('reports each of 20,000 unknown keys at its own line', () => {
      const diagnostics = diagnose(manyKeys(20_000));
      const unknown = diagnostics.filter((d) => d.reason === 'unknown key');
      expect(unknown).toHaveLength(20_000);
      expect(unknown.map((d) => d.line)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
      expect(unknown[19_999]).toMatchObject({ field: 'k19999', column: 1 });
    });
  });

  describe('aliases', () => {
    it('reports an alias bomb at the alias that expands the manifest past 10,000 values', () => {
      const text = fixture('alias-bomb.yml');
      const result = validateManifestSource(text, 'alias-bomb.yml');
      expect(result.manifest).toBeUndefined();
      expect(result.diagnostics).toEqual([
        {
          file: 'alias-bomb.yml',
          line: lineOf(text, 'e: &e'),
          column: columnOf(text, '*d'),
          field: 'e[0]',
          message:
            'e[0]: alias *d stands for 7,381 values, which takes the manifest past the 10,000 values aliases may add (a YAML alias bomb?)',
          reason:
            'alias *d stands for 7,381 values, which takes the manifest past the 10,000 values aliases may add (a YAML alias bomb?)',
        },
      ]);
    });

    it('still follows ordinary aliases to the anchored value', () => {
      const text = checkout()
        .replace('      deploy: [S02CHECKOUTDEV]', '      deploy: &devs [S02CHECKOUTDEV]')
        .replace('      deploy: [U04ALICE01]', '      deploy: *devs');
      const { manifest, diagnostics } = validateManifestSource(text, 'checkout.yml');
      expect(diagnostics).toEqual([]);
      expect(manifest?.environments[1]?.access.deploy).toEqual(['S02CHECKOUTDEV']);
    });

    it('reports an alias with no anchor before it', () => {
      const text = checkout().replace('name: checkout', 'name: *service');
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          line: lineOf(text, 'name: *service'),
          column: 7,
          field: 'name',
          reason: 'alias *service has no anchor &service before it',
        }),
      ]);
    });

    it('reports an alias inside the value it names', () => {
      expect(diagnose('a: &loop [x, *loop]\n')).toEqual([
        expect.objectContaining({
          line: 1,
          column: 14,
          field: 'a[1]',
          reason: 'alias *loop refers to a value that contains it',
        }),
      ]);
    });
  });

  describe('nesting', () => {
    it('reports 10,000 nested lists in words at the first level past 32', () => {
      const text = `name: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
      const diagnostics = diagnose(text);
      // The document's map is level 1, so the 32nd "[" opens level 33.
      expect(diagnostics).toEqual([
        expect.objectContaining({
          line: 1,
          column: 'name: '.length + 32,
          reason: 'maps and lists are nested more than 32 levels deep',
        }),
      ]);
      expect(JSON.stringify(diagnostics)).not.toMatch(/call stack/i);
    });

    it('reports deeply indented maps the same way', () => {
      const text = Array.from({ length: 40 }, (_, level) => `${'  '.repeat(level)}a:`).join('\n');
      expect(diagnose(`${text} end\n`)).toEqual([
        expect.objectContaining({
          line: 33,
          column: 65,
          reason: 'maps and lists are nested more than 32 levels deep',
        }),
      ]);
    });

    it('reports nesting that an alias adds', () => {
      const deep = `${'['.repeat(20)}x${']'.repeat(20)}`;
      const text = `a: &deep ${deep}\nb: ${'['.repeat(20)}*deep${']'.repeat(20)}\n`;
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          line: 2,
          column: 24,
          reason: 'alias *deep nests maps and lists more than 32 levels deep',
        }),
      ]);
    });

    it('counts a key: value pair in a flow list as a map, one level further in', () => {
      // 31 lists under the document's map reach level 32; YAML reads the pair as a map, at 33.
      const text = `a: ${'['.repeat(31)}x: 1${']'.repeat(31)}\n`;
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          line: 1,
          column: 'a: '.length + 31 + 1,
          reason: 'maps and lists are nested more than 32 levels deep',
        }),
      ]);
    });

    it('reads 32 levels, leaving the rest to the schema', () => {
      const text = checkout().replace('name: checkout', `name: ${'['.repeat(31)}${']'.repeat(31)}`);
      expect(diagnose(text)).toEqual([
        expect.objectContaining({ field: 'name', reason: 'must be a string, not a list' }),
      ]);
    });
  });

  describe('keys', () => {
    it('refuses a list used as a key', () => {
      expect(diagnose('? [a, b]\n: 1\n')).toEqual([
        expect.objectContaining({
          line: 1,
          column: 3,
          reason: 'keys must be plain strings, not a list, map or alias',
        }),
      ]);
    });
  });

  describe('merge keys', () => {
    it('refuses a merge key, naming it, at the key', () => {
      const text = fixture('merge-keys.yml');
      expect(validateManifestSource(text, 'merge-keys.yml').diagnostics).toEqual([
        expect.objectContaining({
          line: lineOf(text, '<<: *staging'),
          column: columnOf(text, '<<: *staging'),
          field: 'environments[1]["<<"]',
          reason:
            'merge keys (<<) are not supported: write the keys out, or use an alias (*name) for a whole value',
        }),
      ]);
    });

    it('treats a quoted "<<" as an ordinary (unknown) key', () => {
      const text = checkout().replace('kind: Service\n', "kind: Service\n'<<': x\n");
      expect(diagnose(text)).toEqual([expect.objectContaining({ field: '["<<"]', reason: 'unknown key' })]);
    });

    it('does not merge under a %YAML 1.1 directive either', () => {
      const text = `%YAML 1.1\n---\n${fixture('merge-keys.yml')}`;
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          field: 'environments[1]["<<"]',
          reason: expect.stringMatching(/^merge keys/),
        }),
      ]);
    });
  });

  describe('tags', () => {
    it('refuses an unknown local tag, naming it, where it is written', () => {
      const text = checkout().replace('name: checkout', 'name: !service checkout');
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          line: lineOf(text, 'name: !service'),
          column: 7,
          field: 'name',
          reason:
            'tag !service is not supported: a manifest holds only plain strings, numbers, true/false, lists and maps',
        }),
      ]);
    });

    it('refuses the YAML 1.1 types such as !!binary and !!set', () => {
      const text = checkout()
        .replace('name: checkout', 'name: !!binary Y2hlY2tvdXQ=')
        .replace("    cost-center: '4410'", '    cost-center: !!set {a}');
      expect(diagnose(text).map((d) => `${d.field} ${d.reason.split(':')[0]}`)).toEqual([
        'name tag !!binary is not supported',
        'bake.tags.cost-center tag !!set is not supported',
      ]);
    });

    it('accepts the core tags, such as !!str to keep a number a string', () => {
      const text = checkout().replace("    cost-center: '4410'", '    cost-center: !!str 4410');
      const { manifest, diagnostics } = validateManifestSource(text, 'checkout.yml');
      expect(diagnostics).toEqual([]);
      expect(manifest?.bake.tags['cost-center']).toBe('4410');
    });
  });

  describe('YAML version', () => {
    it('reads the core schema even under %YAML 1.1, so yes is a string, not true', () => {
      const text = `%YAML 1.1\n---\n${checkout().replace('required: true', 'required: yes')}`;
      expect(diagnose(text)).toEqual([
        expect.objectContaining({
          field: 'environments[1].approval.required',
          reason: 'must be true or false, not a string',
        }),
      ]);
    });
  });
});
