/**
 * How the sandbox builds each Kiln function: the deployed module's own handler factory, given
 * the sandbox's SDK clients instead of the defaults. Keyed by the serverless.yml function key;
 * a test holds this map and serverless.yml to the same set of functions.
 */
import type { IdSource } from '../shared/runtime/ids';
import type { LambdaHandler } from './services/lambda';
import type { SandboxClients } from './core/sdk';

export interface SandboxFunctionEnv {
  /** Clients whose calls the timeline attributes to this function. */
  clients: SandboxClients;
  /** The run's seeded source for the ids Kiln makes up (shared by every function, so none repeat). */
  ids: IdSource;
  tableName: string;
  region: string;
  stage: string;
}

export type SandboxFunctionFactory = (env: SandboxFunctionEnv) => Promise<LambdaHandler>;

export const sandboxFunctions: Record<string, SandboxFunctionFactory> = {
  onArtifact: async (env) => {
    const { createOnArtifactHandler } = await import('../functions/on-artifact');
    const handler = createOnArtifactHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      ids: env.ids,
    }));
    return (event, context) => handler(event, context);
  },
  onProgress: async (env) => {
    const { createOnProgressHandler } = await import('../functions/on-progress');
    const handler = createOnProgressHandler(() => ({
      documentClient: env.clients.doc,
      tableName: env.tableName,
      sfn: env.clients.sfn,
      ids: env.ids,
    }));
    return (event, context) => handler(event, context);
  },
};
