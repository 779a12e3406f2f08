import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandCatalog } from '../../../cli/catalog';

describe("the README's command list", () => {
  it('names every kiln command, and no other', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## The `kiln` command'));
    const rows = section.slice(0, section.indexOf('\n\n', section.indexOf('| command')));
    const named = [...rows.matchAll(/^\| `kiln ([a-z-]+)/gm)].map((match) => match[1]);

    expect([...new Set(named)].sort()).toEqual(commandCatalog.map((entry) => entry.name).sort());
  });
});
