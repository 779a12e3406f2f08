import * as z from '../domain/zod';
import { InvalidInputError } from './errors';

/** Renders a zod issue path the way people write it: `detail.object.key`, `environments[1].name`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Parses `value` with `schema`; on failure throws InvalidInputError whose message names every field
 * at fault (`what: field: problem; field: problem`). `at` is where `value` sits in what the caller
 * was given (a named argument), so fields are named from there.
 */
export function parseOrThrow<S extends z.core.$ZodType>(
  schema: S,
  value: unknown,
  what: string,
  at: ReadonlyArray<PropertyKey> = [],
): z.infer<S> {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: formatPath([...at, ...issue.path]),
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  throw new InvalidInputError(`invalid ${what}: ${summary}`, issues, { cause: result.error });
}
