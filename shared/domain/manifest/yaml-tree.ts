import { Composer, isAlias, isMap, isScalar, isSeq, Lexer, Parser, YAMLParseError } from 'yaml';
import type { CST, Document, LineCounter, Node, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { formatCount, MANIFEST_MAX_ALIAS_VALUES, MANIFEST_MAX_DEPTH } from './limits';

/**
 * Reads YAML text into the plain value the schema checks, in time linear in the text and without
 * recursion deeper than MANIFEST_MAX_DEPTH, refusing the YAML features a manifest has no use for.
 *
 * Why not `parseDocument(…).toJS()`: the library's duplicate-key check compares every key with
 * every other (20,000 keys took 6.6 s; 350,000 never finished), its composer and toJS recurse once
 * per nesting level (10,000 nested lists overflow the stack), each alias is resolved by scanning
 * every earlier anchor, and aliases come out as shared references whose expansion (a "billion
 * laughs") only explodes later, in the schema or the store. So: the lexer and parser run token by
 * token under a depth guard; the composer then builds the document; and one iterative walk of it
 * checks keys with a Set, counts what aliases expand to, refuses merge keys and unknown tags, and
 * builds the value.
 */

/** One problem, at a character offset; `path` leads to the field when there is one. */
export interface TreeProblem {
  offset: number;
  message: string;
  path?: (string | number)[];
}

export interface YamlTree {
  doc: Document.Parsed;
  /** The document as plain data: objects, arrays, strings, numbers, booleans and null. */
  value: unknown;
  /** The pair under each key of a map, for placing an issue on its key or value. */
  pairsOf: (map: YAMLMap) => ReadonlyMap<string, Pair> | undefined;
  /** The node an alias stands for. */
  targetOf: (alias: Node) => Node | undefined;
}

export type YamlRead = { ok: true; tree: YamlTree } | { ok: false; problems: TreeProblem[] };

/**
 * YAML 1.2's core schema whatever the file's `%YAML` directive says (1.1 would read `yes` as
 * true and turn on merge keys), no YAML 1.1 types (!!binary, !!set, !!timestamp…), keys as
 * strings, and no duplicate-key check of the library's own (the walk below does it in linear time).
 */
const COMPOSE_OPTIONS = {
  schema: 'core',
  merge: false,
  resolveKnownTags: false,
  stringKeys: true,
  uniqueKeys: false,
} as const;

/** The tags of the core schema; `!` is the non-specific tag. */
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`).concat('!'),
);

const TOO_DEEP = `maps and lists are nested more than ${MANIFEST_MAX_DEPTH} levels deep`;

export function readYamlTree(text: string, lineCounter: LineCounter): YamlRead {
  const parsed = parseGuarded(text, lineCounter);
  if ('tooDeepAt' in parsed)
    return { ok: false, problems: [{ offset: parsed.tooDeepAt, message: TOO_DEEP }] };

  const composer = new Composer(COMPOSE_OPTIONS);
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(parsed.tokens, true, text.length)) {
    if (doc === undefined) {
      doc = next;
    } else {
      const [start, end] = next.range;
      doc.errors.push(new YAMLParseError([start, end], 'MULTIPLE_DOCS', 'a manifest is one YAML document'));
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document, if only an empty one.
  if (doc === undefined) throw new Error('the YAML composer yielded no document');

  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({ offset: error.pos[0], message: yamlErrorMessage(error) })),
    };
  }
  return walk(doc, text, lineCounter);
}

/**
 * Lexes and parses one token at a time and stops as soon as the parser holds more collections
 * inside each other than MANIFEST_MAX_DEPTH: the composer that runs next recurses per level, and a
 * 1 MiB file of `[` would otherwise also take the parser several seconds to finish.
 */
function parseGuarded(
  text: string,
  lineCounter: LineCounter,
): { tokens: CST.Token[] } | { tooDeepAt: number } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    // The stack holds the document and every open collection (and a scalar or two): only when it
    // is this tall can too many collections be open.
    if (parser.stack.length > MANIFEST_MAX_DEPTH) {
      let open = 0;
      for (const token of parser.stack) {
        if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection')
          continue;
        open += 1;
        if (open > MANIFEST_MAX_DEPTH) return { tooDeepAt: token.offset };
      }
    }
  }
  for (const token of parser.end()) tokens.push(token);
  return { tokens };
}

function yamlErrorMessage(error: YAMLParseError): string {
  if (error.code === 'NON_STRING_KEY') return 'keys must be plain strings, not a list, map or alias';
  return error.message.split('\n')[0]?.trim() ?? error.message;
}

/** A field path kept as links to the parent, turned into an array only for a problem. */
interface PathLink {
  parent: PathLink | undefined;
  segment: string | number;
}

function pathOf(link: PathLink | undefined): (string | number)[] {
  const out: (string | number)[] = [];
  for (let at = link; at !== undefined; at = at.parent) out.push(at.segment);
  return out.reverse();
}

/** What an open collection has gathered from its children: values (expanded) and levels below. */
interface Tally {
  values: number;
  depth: number;
}

/** What an anchored node stands for, once its walk is complete. */
interface Expansion {
  values: number;
  depth: number;
  value: unknown;
}

type Task =
  | {
      kind: 'enter';
      node: unknown;
      level: number;
      path: PathLink | undefined;
      set: (value: unknown) => void;
      tally: Tally;
    }
  | { kind: 'exit'; node: YAMLMap | YAMLSeq; value: unknown; own: Tally; tally: Tally };

/**
 * One pass in document order over the composed document, with an explicit stack. Anchors are
 * recorded on entry (an alias inside its own anchor is then caught) and their expansion on exit
 * (an alias always follows its completed anchor). Problems that make the rest meaningless (an
 * alias bomb, too much nesting) stop the walk; the others are all collected.
 */
function walk(doc: Document.Parsed, text: string, lineCounter: LineCounter): YamlRead {
  const problems: TreeProblem[] = [];
  const pairs = new Map<YAMLMap, Map<string, Pair>>();
  const targets = new Map<Node, Node>();
  const anchors = new Map<string, Node>();
  const expansions = new Map<Node, Expansion>();
  let aliasValues = 0;

  let root: unknown = null;
  const top: Tally = { values: 0, depth: 0 };
  const tasks: Task[] = [
    { kind: 'enter', node: doc.contents, level: 1, path: undefined, set: (v) => (root = v), tally: top },
  ];
  const problem = (offset: number, message: string, path: PathLink | undefined) =>
    problems.push({ offset, message, path: pathOf(path) });

  while (tasks.length > 0) {
    const task = tasks.pop() as Task;
    if (task.kind === 'exit') {
      const done = { values: task.own.values, depth: task.own.depth + 1, value: task.value };
      if (task.node.anchor !== undefined) expansions.set(task.node, done);
      task.tally.values += done.values;
      task.tally.depth = Math.max(task.tally.depth, done.depth);
      continue;
    }

    const { node, level, path, set, tally } = task;
    if (node === null || node === undefined) {
      // `key:` with no value at all (an explicit `? key` without `:`).
      set(null);
      tally.values += 1;
      continue;
    }
    const yamlNode = node as Node;
    const offset = yamlNode.range?.[0] ?? 0;

    if (isAlias(yamlNode)) {
      const name = yamlNode.source;
      const target = anchors.get(name);
      const expansion = target === undefined ? undefined : expansions.get(target);
      if (target === undefined) {
        problem(offset, `alias *${name} has no anchor &${name} before it`, path);
        set(null);
        continue;
      }
      if (expansion === undefined) {
        problem(offset, `alias *${name} refers to a value that contains it`, path);
        set(null);
        continue;
      }
      aliasValues += expansion.values;
      if (aliasValues > MANIFEST_MAX_ALIAS_VALUES) {
        const message =
          `alias *${name} stands for ${formatCount(expansion.values)} values, which takes the manifest past ` +
          `the ${formatCount(MANIFEST_MAX_ALIAS_VALUES)} values aliases may add (a YAML alias bomb?)`;
        return { ok: false, problems: [{ offset, message, path: pathOf(path) }] };
      }
      if (level - 1 + expansion.depth > MANIFEST_MAX_DEPTH) {
        const message = `alias *${name} nests maps and lists more than ${MANIFEST_MAX_DEPTH} levels deep`;
        return { ok: false, problems: [{ offset, message, path: pathOf(path) }] };
      }
      targets.set(yamlNode, target);
      set(expansion.value);
      tally.values += expansion.values;
      tally.depth = Math.max(tally.depth, expansion.depth);
      continue;
    }

    const tag = yamlNode.tag;
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      const written = doc.directives?.tagString(tag) ?? tag;
      problem(
        tagOffset(text, offset),
        `tag ${written} is not supported: a manifest holds only plain strings, numbers, true/false, lists and maps`,
        path,
      );
    }
    if (yamlNode.anchor !== undefined) anchors.set(yamlNode.anchor, yamlNode);

    if (isScalar(yamlNode)) {
      const value: unknown = yamlNode.value;
      if (yamlNode.anchor !== undefined) expansions.set(yamlNode, { values: 1, depth: 0, value });
      set(value);
      tally.values += 1;
      continue;
    }

    if (level > MANIFEST_MAX_DEPTH) return { ok: false, problems: [{ offset, message: TOO_DEEP }] };

    if (isMap(yamlNode)) {
      const object: Record<string, unknown> = {};
      const own: Tally = { values: 1, depth: 0 };
      set(object);
      tasks.push({ kind: 'exit', node: yamlNode, value: object, own, tally });
      const keys = new Map<string, Pair>();
      pairs.set(yamlNode, keys);
      const children: Task[] = [];
      for (const pair of yamlNode.items) {
        const key = pair.key as Scalar | null;
        const name = String(key?.value ?? '');
        const keyOffset = key?.range?.[0] ?? offset;
        const keyPath = { parent: path, segment: name };
        own.values += 1;
        const first = keys.get(name);
        if (first !== undefined) {
          const line = lineCounter.linePos((first.key as Scalar | null)?.range?.[0] ?? offset).line;
          problem(keyOffset, `duplicate key (first at line ${line})`, keyPath);
          continue;
        }
        keys.set(name, pair);
        if (name === '<<' && key?.type === 'PLAIN') {
          problem(
            keyOffset,
            'merge keys (<<) are not supported: write the keys out, or use an alias (*name) for a whole value',
            keyPath,
          );
          continue;
        }
        children.push(enter(pair.value, level + 1, keyPath, (v) => assign(object, name, v), own));
      }
      for (let i = children.length - 1; i >= 0; i--) tasks.push(children[i] as Task);
      continue;
    }

    if (isSeq(yamlNode)) {
      const array: unknown[] = [];
      const own: Tally = { values: 1, depth: 0 };
      set(array);
      tasks.push({ kind: 'exit', node: yamlNode, value: array, own, tally });
      const children: Task[] = [];
      yamlNode.items.forEach((item, index) => {
        const itemPath = { parent: path, segment: index };
        array.push(null);
        children.push(enter(item, level + 1, itemPath, (v) => (array[index] = v), own));
      });
      for (let i = children.length - 1; i >= 0; i--) tasks.push(children[i] as Task);
      continue;
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    tree: {
      doc,
      value: root,
      pairsOf: (map) => pairs.get(map),
      targetOf: (alias) => targets.get(alias),
    },
  };
}

function enter(
  node: unknown,
  level: number,
  path: PathLink | undefined,
  set: (value: unknown) => void,
  tally: Tally,
): Task {
  return { kind: 'enter', node, level, path, set, tally };
}

/** Plain assignment, except that a `__proto__` key becomes a property and not the prototype. */
function assign(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true });
  else object[key] = value;
}

/**
 * The composed node keeps its value's position, not its tag's. The tag is the last property
 * written before the value (`!tag value`), or the one before an anchor (`!tag &name value`).
 */
function tagOffset(text: string, valueStart: number): number {
  const isSpace = (i: number) => i >= 0 && /\s/.test(text[i] ?? '');
  const wordBefore = (end: number) => {
    let start = end;
    while (start > 0 && isSpace(start - 1)) start--;
    let word = start;
    while (word > 0 && !isSpace(word - 1)) word--;
    return word;
  };
  let word = wordBefore(valueStart);
  if (text[word] === '&') word = wordBefore(word);
  return text[word] === '!' ? word : valueStart;
}
