/**
 * The zod Kiln validates with: `zod/mini`, with zod's English messages.
 *
 * Why mini: a Lambda function builds its schemas at every cold start. zod/mini shares zod's core
 * (the same checks, issues and messages) but its schemas carry no chainable methods, so building
 * one costs about a quarter of a classic zod schema (measured: 200 object schemas of 4 fields in
 * 49 ms against 196 ms), and a bundle keeps only the parts it uses (importing classic zod alone
 * costs ~17 ms). Write `z.optional(x)`, `x.check(z.minLength(1, '…'))`, `z.pipe(x, z.transform(f))`
 * where classic zod writes `x.optional()`, `x.min(1, '…')`, `x.transform(f)`.
 *
 * Why the locale here: classic zod installs the English messages when it is imported; mini does
 * not, and without them every default message would read "Invalid input". Every module imports
 * zod from this file, so the messages are installed before any schema parses.
 * https://zod.dev/packages/mini
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
