import * as z from '../zod';
import { ServiceManifestSchema } from './schema';

export const MANIFEST_SCHEMA_ID = 'https://kiln.dev/schemas/service-manifest.schema.json';

/**
 * The manifest as JSON Schema (draft 2020-12) for editors and other tools. It describes what an
 * author writes (`io: 'input'`), so keys with defaults are optional. Rules that need code (regex
 * named groups, cross-field checks) are not expressible here; `kiln validate` applies them.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(ServiceManifestSchema, { io: 'input', target: 'draft-2020-12' });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: MANIFEST_SCHEMA_ID,
    title: 'Kiln service manifest',
    description:
      'One service: where its artifacts come from, how they are baked into an AMI, and how it rolls out.',
    ...rest,
  };
}

/** The committed file's exact text: stable key order, two-space indent, trailing newline. */
export function renderManifestJsonSchema(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
