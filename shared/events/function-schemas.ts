/**
 * The schema each EventBridge-triggered Kiln function parses its event with (the `schema` its
 * kilnHandler is given), by serverless.yml function key: what `kiln events check` parses an event
 * with once serverless.yml's patterns say it reaches that function. A test
 * (test/unit/cli/events-check.test.ts) holds this list to every function serverless.yml gives an
 * EventBridge pattern or schedule: a new function adds its line here.
 */
import type * as z from '../domain/zod';
import { AlarmEventSchema } from './alarm';
import { ArtifactEventSchema } from './artifact-facts';
import { SweepEventSchema } from './execution-status';
import { LifecycleActionEvent } from './lifecycle';
import { ProgressEventSchema } from './progress';
import { ScheduledEventSchema } from './scheduled';

export interface FunctionEventSchema {
  /** What the function calls its input in its errors (kilnHandler's `what`). */
  what: string;
  schema: z.core.$ZodType;
}

export const functionEventSchemas: Readonly<Record<string, FunctionEventSchema>> = {
  onArtifact: { what: 'artifact event', schema: ArtifactEventSchema },
  onProgress: { what: 'progress event', schema: ProgressEventSchema },
  sweepBakes: { what: 'execution status change', schema: SweepEventSchema },
  retainImages: { what: 'scheduled event', schema: ScheduledEventSchema },
  onLifecycle: { what: 'lifecycle action event', schema: LifecycleActionEvent },
  onAlarm: { what: 'alarm event', schema: AlarmEventSchema },
  reconcile: { what: 'scheduled event', schema: ScheduledEventSchema },
};
