/**
 * The relative-import graph of a source tree, for the structure specs.
 *
 * Every `.ts` file under a root is read, and every module edge it declares is
 * extracted: `import … from`, `import type … from`, side-effect `import '…'`,
 * `import x = require('…')`, `export … from`, `export type … from`,
 * `export * from` and dynamic `import('…')` with a literal specifier. Type-only
 * edges count: a cycle through `import type` is still a cycle in the design.
 *
 * The source is first masked: comments, and the contents of strings, template
 * literals and regular expression literals, are blanked to spaces (newlines
 * kept, so line numbers hold). Statements are matched on the masked text, so
 * "import x from './y.js'" inside a comment or a string is not an edge; the
 * specifier is then read from the original text at the same offsets.
 *
 * Relative specifiers (starting with `.`) are resolved against the files found
 * under the root: `x.js` → `x.ts` (`.mjs` → `.mts`, `.cjs` → `.cts`), a
 * specifier naming a file as-is, and an extensionless `x` → `x.ts` or
 * `x/index.ts`. A relative specifier that resolves to nothing (or outside the
 * root) is recorded in `unresolved` rather than dropped, so a typo cannot make
 * an edge vanish silently; a dynamic import without a literal specifier is
 * recorded in `nonLiteral` for the same reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

export type EdgeKind = 'import' | 'import type' | 'side-effect' | 'require' | 'export' | 'export type' | 'dynamic';

export interface ImportEdge {
  /** The importing file, relative to the root, with `/` separators. */
  from: string;
  /** The imported file, relative to the root. */
  to: string;
  specifier: string;
  kind: EdgeKind;
  /** 1-based line of the statement in `from`. */
  line: number;
}

export interface UnresolvedImport {
  from: string;
  specifier: string;
  kind: EdgeKind;
  line: number;
  reason: string;
}

export interface ImportGraph {
  root: string;
  /** Every `.ts` file under the root, relative to it, sorted. */
  files: string[];
  /** Every resolved relative edge, one per statement, in file then source order. */
  edges: ImportEdge[];
  /** Distinct targets per file (the graph proper). */
  adjacency: Map<string, Set<string>>;
  unresolved: UnresolvedImport[];
  /** Dynamic `import(…)` calls whose specifier is not a literal: edges the graph cannot see. */
  nonLiteral: { from: string; line: number }[];
}

/** A specifier as found in one file, before resolution. */
export interface RawImport {
  specifier: string;
  kind: EdgeKind;
  line: number;
}

// ---------------------------------------------------------------------------
// Masking

const REGEX_AFTER_WORDS = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);
const REGEX_AFTER_PUNCT = new Set([...'(,=:[!&|?{};+-*%<>~^']);

/**
 * The source with comments and the contents of string, template and regex
 * literals replaced by spaces. Delimiting quotes are kept, newlines are kept,
 * and `${…}` expressions inside templates are kept as code. The result has the
 * same length as the input, so offsets carry over.
 */
export function maskSource(src: string): string {
  const out = src.split('');
  const n = src.length;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  // One entry per open `${`: the brace depth inside that expression.
  const templateDepth: number[] = [];
  let lastSig = ''; // last significant character of code
  let lastWord = ''; // last identifier-like word of code, if it was the last significant token
  let i = 0;

  /** Scans a template literal's text from i (just past a backtick or a closing `}`). */
  const scanTemplateText = (): void => {
    const start = i;
    while (i < n) {
      const c = src[i];
      if (c === '\\') { i += 2; continue; }
      if (c === '`') { blank(start, i); i++; lastSig = '`'; lastWord = ''; return; }
      if (c === '$' && src[i + 1] === '{') {
        blank(start, i);
        i += 2;
        templateDepth.push(0);
        lastSig = '{'; lastWord = '';
        return;
      }
      i++;
    }
    blank(start, n);
  };

  while (i < n) {
    const c = src[i]!;
    const next = src[i + 1];
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '\'' || c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      blank(i + 1, Math.min(j, n));
      i = j + 1;
      lastSig = c; lastWord = '';
      continue;
    }
    if (c === '`') {
      i++;
      scanTemplateText();
      continue;
    }
    if (c === '/') {
      const regexAllowed = lastWord !== '' ? REGEX_AFTER_WORDS.has(lastWord) : lastSig === '' || REGEX_AFTER_PUNCT.has(lastSig);
      if (regexAllowed) {
        let j = i + 1;
        let inClass = false;
        while (j < n && src[j] !== '\n') {
          const d = src[j];
          if (d === '\\') { j += 2; continue; }
          if (inClass) { if (d === ']') inClass = false; } else if (d === '[') inClass = true;
          else if (d === '/') break;
          j++;
        }
        blank(i + 1, Math.min(j, n));
        i = j + 1;
        while (i < n && /[A-Za-z]/.test(src[i]!)) i++; // flags
        lastSig = '/'; lastWord = '';
        continue;
      }
    }
    if (c === '{' && templateDepth.length > 0) templateDepth[templateDepth.length - 1]!++;
    if (c === '}' && templateDepth.length > 0) {
      if (templateDepth[templateDepth.length - 1] === 0) {
        templateDepth.pop();
        i++;
        scanTemplateText();
        continue;
      }
      templateDepth[templateDepth.length - 1]!--;
    }
    if (/[A-Za-z0-9_$]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$]/.test(src[j]!)) j++;
      lastWord = src.slice(i, j);
      lastSig = src[j - 1]!;
      i = j;
      continue;
    }
    if (!/\s/.test(c)) { lastSig = c; lastWord = ''; }
    i++;
  }
  return out.join('');
}

// ---------------------------------------------------------------------------
// Extraction

// All matched against the masked text. A statement starts at the start of a
// line (after whitespace) or after `;`, `{` or `}`.
const START = String.raw`(?<=(?:^|[;{}])[ \t]*)`;
// The clause of an import: names, `* as ns`, `{ … }` (whose contents are masked), `type`.
const IMPORT_CLAUSE = String.raw`(?:\{[^}]*\}|[^;'"\`(){}=])*?`;
const STATIC_IMPORT = new RegExp(
  START + String.raw`import\b(?!\s*[.(])(?:(\s*)(['"])|(${IMPORT_CLAUSE})\bfrom\s*(['"])|(\s*(?:type\s+)?[\w$]+\s*=\s*require\s*\(\s*)(['"]))`,
  'gmd',
);
const STATIC_EXPORT = new RegExp(
  START + String.raw`export\b(\s*type\b)?\s*(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(['"])`,
  'gmd',
);
const DYNAMIC_IMPORT = /(?<![\w$.])import\s*\(\s*(['"`]?)/gd;

function lineAt(src: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (src.charCodeAt(k) === 10) line++;
  return line;
}

/** The literal whose opening quote is at `open` in the masked text, read from the original. */
function literalAt(src: string, masked: string, open: number): string | undefined {
  const quote = masked[open]!;
  const close = masked.indexOf(quote, open + 1);
  if (close === -1) return undefined;
  const raw = src.slice(open + 1, close);
  if (quote === '`' && raw.includes('${')) return undefined;
  return raw;
}

/** Every module specifier one source file declares, relative or not, in source order. */
export function extractImports(src: string): { imports: RawImport[]; nonLiteral: number[] } {
  const masked = maskSource(src);
  const found: (RawImport & { offset: number })[] = [];
  const nonLiteral: number[] = [];
  const push = (kind: EdgeKind, open: number, at: number): void => {
    const specifier = literalAt(src, masked, open);
    if (specifier !== undefined) found.push({ specifier, kind, line: lineAt(src, at), offset: at });
  };

  for (const m of masked.matchAll(STATIC_IMPORT)) {
    const idx = m.indices!;
    if (m[2] !== undefined) push('side-effect', idx[2]![0], m.index);
    else if (m[4] !== undefined) {
      // `import type { A } from`, `import type A from`; but `import type from` and
      // `import type, { A } from` import a default binding named `type`.
      const clause = m[3]!.trim();
      const typeOnly = /^type\b/.test(clause) && !/^type\s*(?:,|$)/.test(clause);
      push(typeOnly ? 'import type' : 'import', idx[4]![0], m.index);
    }
    else if (m[6] !== undefined) push('require', idx[6]![0], m.index);
  }
  for (const m of masked.matchAll(STATIC_EXPORT)) {
    push(m[1] !== undefined ? 'export type' : 'export', m.indices![2]![0], m.index);
  }
  for (const m of masked.matchAll(DYNAMIC_IMPORT)) {
    const open = m.indices![1]![0];
    const specifier = m[1] === '' ? undefined : literalAt(src, masked, open);
    if (specifier === undefined) nonLiteral.push(lineAt(src, m.index));
    else found.push({ specifier, kind: 'dynamic', line: lineAt(src, m.index), offset: m.index });
  }
  found.sort((a, b) => a.offset - b.offset);
  return { imports: found.map(({ specifier, kind, line }) => ({ specifier, kind, line })), nonLiteral };
}

// ---------------------------------------------------------------------------
// Resolution and the graph

function walk(root: string, dir = root, acc: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(root, full, acc);
    else if (entry.isFile()) acc.push(relative(root, full).split(sep).join('/'));
  }
  return acc;
}

/** The candidates a relative specifier may name, in order, relative to the root. */
function candidates(from: string, specifier: string): string[] {
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  const out: string[] = [];
  const swapped = base.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts').replace(/\.cjs$/, '.cts');
  if (swapped !== base) out.push(swapped);
  out.push(base, `${base}.ts`, `${base}/index.ts`);
  return out.map((c) => c.replace(/^\.\//, ''));
}

/** The import graph of every `.ts` file under `root`. */
export function buildImportGraph(root: string): ImportGraph {
  const all = walk(root).sort();
  const present = new Set(all);
  const files = all.filter((f) => f.endsWith('.ts'));
  const graph: ImportGraph = { root, files, edges: [], adjacency: new Map(), unresolved: [], nonLiteral: [] };
  for (const from of files) {
    const targets = new Set<string>();
    graph.adjacency.set(from, targets);
    const { imports, nonLiteral } = extractImports(readFileSync(join(root, from), 'utf8'));
    for (const line of nonLiteral) graph.nonLiteral.push({ from, line });
    for (const { specifier, kind, line } of imports) {
      if (!specifier.startsWith('.')) continue;
      const options = candidates(from, specifier);
      if (options.some((c) => c === '..' || c.startsWith('../'))) {
        graph.unresolved.push({ from, specifier, kind, line, reason: 'resolves outside the root' });
        continue;
      }
      const to = options.find((c) => present.has(c));
      if (to === undefined) {
        graph.unresolved.push({ from, specifier, kind, line, reason: `no such file (tried ${options.join(', ')})` });
        continue;
      }
      graph.edges.push({ from, to, specifier, kind, line });
      targets.add(to);
    }
  }
  return graph;
}

/** Number of distinct (from, to) pairs. */
export function distinctEdgeCount(graph: ImportGraph): number {
  let count = 0;
  for (const targets of graph.adjacency.values()) count += targets.size;
  return count;
}

// ---------------------------------------------------------------------------
// Cycles

/** Strongly connected components (Tarjan), each sorted, in order of their smallest member. */
export function stronglyConnected(adjacency: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of adjacency.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of [...adjacency.keys()].sort()) if (!index.has(v)) visit(v);
  return components.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** Shortest path from `start` to `goal` inside `within`, as the list of nodes, or undefined. */
function shortestPath(adjacency: Map<string, Set<string>>, within: Set<string>, start: string, goal: string): string[] | undefined {
  const previous = new Map<string, string | null>([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    if (v === goal) {
      const path: string[] = [];
      for (let at: string | null = v; at !== null; at = previous.get(at)!) path.unshift(at);
      return path;
    }
    for (const w of [...(adjacency.get(v) ?? [])].sort()) {
      if (within.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return undefined;
}

/**
 * Import cycles, each as a closed list of files (`[a, b, a]`). For every edge
 * that lies on some cycle, the shortest cycle through that edge is listed, so
 * every import that would have to go to break the cycles appears at least once,
 * without enumerating every elementary cycle (which can grow exponentially).
 * Each cycle is rotated to start at its smallest file; duplicates are dropped.
 */
export function findCycles(adjacency: Map<string, Set<string>>): string[][] {
  const seen = new Set<string>();
  const cycles: string[][] = [];
  for (const component of stronglyConnected(adjacency)) {
    const within = new Set(component);
    const selfLoop = component.length === 1 && adjacency.get(component[0]!)?.has(component[0]!) === true;
    if (component.length === 1 && !selfLoop) continue;
    for (const from of component) {
      for (const to of [...(adjacency.get(from) ?? [])].sort()) {
        if (!within.has(to)) continue;
        const back = shortestPath(adjacency, within, to, from);
        if (back === undefined) continue;
        const ring = [from, ...back.slice(0, -1)]; // from → to → … (open)
        const at = ring.indexOf([...ring].sort()[0]!);
        const rotated = [...ring.slice(at), ...ring.slice(0, at)];
        const key = rotated.join('\0');
        if (seen.has(key)) continue;
        seen.add(key);
        cycles.push([...rotated, rotated[0]!]);
      }
    }
  }
  return cycles.sort((a, b) => a.length - b.length || (a.join('\0') < b.join('\0') ? -1 : 1));
}

/** `a.ts → b.ts → a.ts`, each name given `prefix`. */
export function formatCycle(cycle: string[], prefix = ''): string {
  return cycle.map((f) => prefix + f).join(' → ');
}

// ---------------------------------------------------------------------------
// Layering

export interface LayerRule {
  /** Importing files: those whose path starts with one of these (e.g. `core/`). */
  from: string[];
  /** Imported files that are forbidden: those whose path starts with one of these. */
  to: string[];
  /** Imported files allowed anyway, by exact path. */
  except?: string[];
}

/** The edges that break a rule, in file then source order. */
export function violations(graph: ImportGraph, rule: LayerRule): ImportEdge[] {
  const starts = (file: string, prefixes: string[]): boolean => prefixes.some((p) => file.startsWith(p));
  const except = new Set(rule.except ?? []);
  return graph.edges.filter((e) => starts(e.from, rule.from) && starts(e.to, rule.to) && !except.has(e.to));
}

/** `lib/core/mounts.ts:3 → lib/http/router.ts (import '../http/router.js')`. */
export function formatEdge(edge: ImportEdge, prefix = ''): string {
  return `${prefix}${edge.from}:${edge.line} → ${prefix}${edge.to} (${edge.kind} '${edge.specifier}')`;
}
