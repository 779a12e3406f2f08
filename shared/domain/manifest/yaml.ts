import { isAlias, isMap, isScalar, isSeq, LineCounter } from 'yaml';
import type { Node, Pair } from 'yaml';
import { formatFieldPath, type ManifestIssue } from './errors';
import { fileTooLargeMessage, MANIFEST_MAX_BYTES, utf8Length } from './limits';
import { safeParseManifest, type ServiceManifest } from './schema';
import { readYamlTree, type YamlTree } from './yaml-tree';

/** One problem in one file, at a 1-based line and column, like a compiler's. */
export interface ManifestDiagnostic {
  file: string;
  /** Absent (with `column`) for a problem with the whole file, such as its size. */
  line?: number;
  column?: number;
  /** `field: reason`, or the reason alone when there is no field. */
  message: string;
  /** The dotted field path; absent for YAML syntax errors and problems with the whole file. */
  field?: string;
  /** The message without the field. */
  reason: string;
}

export interface ManifestValidation {
  manifest?: ServiceManifest;
  diagnostics: ManifestDiagnostic[];
}

/** `FILE:LINE:COL message`, or `FILE: message` for a problem with the whole file. */
export function formatDiagnostic(d: ManifestDiagnostic): string {
  return d.line === undefined
    ? `${d.file}: ${d.message}`
    : `${d.file}:${d.line}:${d.column ?? 1} ${d.message}`;
}

/**
 * Validates a manifest file's text: its size first (before anything reads it), then YAML syntax
 * and structure (reported where the parser stopped or the problem is: see ./yaml-tree.ts), then
 * the schema, with each issue placed on the YAML node it is about. Diagnostics come sorted by
 * position so they read top to bottom like the file. Time and stack depth stay bounded whatever
 * the text holds.
 */
export function validateManifestSource(text: string, fileName: string): ManifestValidation {
  const bytes = utf8Length(text);
  if (bytes > MANIFEST_MAX_BYTES) {
    const reason = fileTooLargeMessage(bytes);
    return { diagnostics: [{ file: fileName, message: reason, reason }] };
  }

  const lineCounter = new LineCounter();
  const at = (offset: number, reason: string, path?: (string | number)[]): ManifestDiagnostic => {
    const { line, col } = lineCounter.linePos(offset);
    if (path === undefined || path.length === 0)
      return { file: fileName, line, column: col, message: reason, reason };
    const field = formatFieldPath(path);
    return { file: fileName, line, column: col, message: `${field}: ${reason}`, field, reason };
  };

  const read = readYamlTree(text, lineCounter);
  if (!read.ok)
    return { diagnostics: sortByPosition(read.problems.map((p) => at(p.offset, p.message, p.path))) };

  const outcome = safeParseManifest(read.tree.value);
  if (outcome.success) return { manifest: outcome.data, diagnostics: [] };
  const diagnostics = outcome.issues.map((issue) => {
    const d = at(offsetOf(read.tree, issue), issue.message, issue.path);
    // A rule about the whole manifest still names it, as `(manifest)`.
    return d.field === undefined
      ? { ...d, field: formatFieldPath([]), message: `${formatFieldPath([])}: ${d.reason}` }
      : d;
  });
  return { diagnostics: sortByPosition(diagnostics) };
}

/**
 * Where an issue points: the node at its path; for a wrong key, the key itself; for a missing
 * key (no node of its own), the nearest enclosing node that exists: the parent map. Each step is
 * a lookup in the walk's index, so placing every issue of a 20,000-key map stays linear.
 */
function offsetOf(tree: YamlTree, issue: ManifestIssue): number {
  let node: unknown = tree.doc.contents;
  let lastFound: unknown = node;
  let pair: Pair | undefined;
  for (const segment of issue.path) {
    pair = undefined;
    if (isAlias(node)) node = tree.targetOf(node);
    if (isMap(node)) {
      pair = tree.pairsOf(node)?.get(String(segment));
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

function startOf(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

function sortByPosition(diagnostics: ManifestDiagnostic[]): ManifestDiagnostic[] {
  return diagnostics
    .map((d, index) => ({ d, index }))
    .sort(
      (a, b) =>
        (a.d.line ?? 0) - (b.d.line ?? 0) || (a.d.column ?? 0) - (b.d.column ?? 0) || a.index - b.index,
    )
    .map(({ d }) => d);
}
