/** What is wrong with a manifest, and where: `path` leads from the document root to the field. */
export interface ManifestIssue {
  path: (string | number)[];
  message: string;
  /**
   * `missing`: a required key is absent (it has no position of its own, so point at its parent).
   * `unknown-key` / `invalid-key`: the key itself is wrong (point at the key, not its value).
   * `invalid`: the value at `path` is wrong.
   */
  kind: 'missing' | 'unknown-key' | 'invalid-key' | 'invalid';
}

/** A manifest failed validation; `issues` lists every problem found, each naming its field. */
export class ManifestValidationError extends Error {
  readonly issues: ManifestIssue[];

  constructor(issues: ManifestIssue[], options?: { cause?: unknown }) {
    super(summarize(issues), options);
    this.name = 'ManifestValidationError';
    this.issues = issues;
  }
}

/** `environments[1].strategy.minHealthyPercentage`: the dotted form every message uses. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(manifest)' : out;
}

function summarize(issues: ManifestIssue[]): string {
  const lines = issues.map((issue) => `${formatFieldPath(issue.path)}: ${issue.message}`);
  const head = `invalid service manifest (${issues.length} problem${issues.length === 1 ? '' : 's'})`;
  return [head, ...lines.map((line) => `  ${line}`)].join('\n');
}
