type Template = { Resources?: Record<string, unknown>; Outputs?: Record<string, unknown> };

declare class DropUnusedDefaultRole {
  constructor(serverless: unknown, options?: unknown, utils?: unknown);
  hooks: Record<string, () => void>;
}
declare namespace DropUnusedDefaultRole {
  const DEFAULT_ROLE: 'IamRoleLambdaExecution';
  function dropUnusedDefaultRole(template: Template): boolean;
  function referencesTo(template: Template, id: string): string[];
}
export = DropUnusedDefaultRole;
