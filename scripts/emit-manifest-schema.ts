// Writes schemas/service-manifest.schema.json from the zod schema (`npm run schema`). A unit test
// fails when the committed file differs from a fresh emission, so re-run this after schema edits.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderManifestJsonSchema } from '../shared/domain/manifest/json-schema';

const target = join(__dirname, '..', 'schemas', 'service-manifest.schema.json');
writeFileSync(target, renderManifestJsonSchema());
console.log(`wrote ${target}`);
