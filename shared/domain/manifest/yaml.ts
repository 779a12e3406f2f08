import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { formatFieldPath, type ManifestIssue } from './errors';
import { safeParseManifest, type ServiceManifest } from './schema';

/** One problem in one file, at a 1-based line and column, like a compiler's. */
export interface ManifestDiagnostic {
  file: string;
  line: number;
  column: number;
  /** `field: reason`, or the YAML parser's message when the file is not valid YAML. */
  message: string;
  /** The dotted field path; absent for YAML syntax errors. */
  field?: string;
  /** The message without the field. */
  reason: string;
}

export interface ManifestValidation {
  manifest?: ServiceManifest;
  diagnostics: ManifestDiagnostic[];
}

/**
 * Validates a manifest file's text: YAML syntax first (reported where the parser stopped), then
 * the schema, with each issue placed on the YAML node it is about. Diagnostics come sorted by
 * position so they read top to bottom like the file.
 */
export function validateManifestSource(text: string, fileName: string): ManifestValidation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  if (doc.errors.length > 0) {
    const diagnostics = doc.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      const reason = firstLine(error.message);
      return { file: fileName, line, column: col, message: reason, reason };
    });
    return { diagnostics: sortByPosition(diagnostics) };
  }

  const outcome = safeParseManifest(doc.toJS({ maxAliasCount: 100 }));
  if (outcome.success) return { manifest: outcome.data, diagnostics: [] };

  const diagnostics = outcome.issues.map((issue) => {
    const { line, col } = lineCounter.linePos(offsetOf(doc, issue));
    const field = formatFieldPath(issue.path);
    return {
      file: fileName,
      line,
      column: col,
      message: `${field}: ${issue.message}`,
      field,
      reason: issue.message,
    };
  });
  return { diagnostics: sortByPosition(diagnostics) };
}

/**
 * Where an issue points: the node at its path; for a wrong key, the key itself; for a missing
 * key (no node of its own), the nearest enclosing node that exists: the parent map.
 */
function offsetOf(doc: Document, issue: ManifestIssue): number {
  let node: unknown = doc.contents;
  let lastFound: unknown = node;
  let pair: Pair | undefined;
  for (const segment of issue.path) {
    pair = undefined;
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      pair = node.items.find((item) => isPair(item) && keyText(item.key) === String(segment));
      node = pair?.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      node = undefined;
    }
    if (node === undefined || node === null) {
      // A key with no value (`bake:`) still has a position: its key.
      if (pair !== undefined) return startOf(pair.key) ?? startOf(lastFound) ?? 0;
      return startOf(lastFound) ?? 0;
    }
    lastFound = node;
  }
  const keyed = issue.kind === 'unknown-key' || issue.kind === 'invalid-key';
  // An empty value (`baseImage:` and nothing else) sits at the end of the line: point at its key.
  const empty = isScalar(lastFound) && lastFound.value === null;
  if ((keyed || empty) && pair !== undefined) return startOf(pair.key) ?? startOf(lastFound) ?? 0;
  return startOf(lastFound) ?? 0;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

function sortByPosition(diagnostics: ManifestDiagnostic[]): ManifestDiagnostic[] {
  return diagnostics
    .map((d, index) => ({ d, index }))
    .sort((a, b) => a.d.line - b.d.line || a.d.column - b.d.column || a.index - b.index)
    .map(({ d }) => d);
}
