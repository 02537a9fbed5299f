/**
 * A path trie over `/`-separated segments. Patterns are made of:
 *   - static segments (`keys`), matched first;
 *   - `:name`, one non-empty segment, matched second;
 *   - `*name`, the rest of the path (possibly empty, slashes included), last segment only.
 * A pattern ending in `/` has a trailing empty static segment, so `keys/` and `keys` differ.
 *
 * The matcher is pure: `findRoute` returns a match or undefined, and never throws on input.
 * Bad patterns and duplicates throw when they are added, so they fail at startup.
 */

export interface RouteMatch<T> {
  value: T;
  pattern: string;
  params: Record<string, string>;
}

interface Leaf<T> {
  value: T;
  pattern: string;
}

interface Node<T> {
  statics: Map<string, Node<T>>;
  param?: { name: string; node: Node<T> };
  wildcard?: { name: string; leaf: Leaf<T> };
  leaf?: Leaf<T>;
}

export interface Router<T> {
  root: Node<T>;
  size: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function createNode<T>(): Node<T> {
  return { statics: new Map() };
}

export function createRouter<T>(): Router<T> {
  return { root: createNode<T>(), size: 0 };
}

/** Syntax alone, checked before the trie is touched: a refused pattern leaves no trace in it. */
function checkPattern(pattern: string): string[] {
  if (pattern.startsWith('/')) throw new Error(`route pattern must not start with '/': ${pattern}`);
  const segments = pattern.split('/');
  const names = new Set<string>();
  segments.forEach((segment, i) => {
    if (segment.startsWith('*') || segment.startsWith(':')) {
      const wildcard = segment.startsWith('*');
      const name = segment.slice(1);
      if (wildcard && i !== segments.length - 1) throw new Error(`wildcard must be the last segment: ${pattern}`);
      if (!NAME.test(name)) throw new Error(`bad ${wildcard ? 'wildcard' : 'parameter'} name in ${pattern}`);
      // Two captures of one name would silently lose the first.
      if (names.has(name)) throw new Error(`name '${name}' is used twice in ${pattern}`);
      names.add(name);
    } else if (segment.includes(':') || segment.includes('*')) {
      throw new Error(`bad segment '${segment}' in ${pattern}`);
    }
  });
  return segments;
}

export function addRoute<T>(router: Router<T>, pattern: string, value: T): void {
  const segments = checkPattern(pattern);
  let node = router.root;
  for (const segment of segments) {
    if (segment.startsWith('*')) {
      if (node.wildcard) throw new Error(`duplicate route: ${pattern} (already ${node.wildcard.leaf.pattern})`);
      node.wildcard = { name: segment.slice(1), leaf: { value, pattern } };
      router.size++;
      return;
    }
    if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (node.param && node.param.name !== name) {
        throw new Error(`conflicting parameter names :${node.param.name} and :${name} in ${pattern}`);
      }
      node.param ??= { name, node: createNode<T>() };
      node = node.param.node;
    } else {
      let child = node.statics.get(segment);
      if (!child) {
        child = createNode<T>();
        node.statics.set(segment, child);
      }
      node = child;
    }
  }
  if (node.leaf) throw new Error(`duplicate route: ${pattern}`);
  node.leaf = { value, pattern };
  router.size++;
}

export function findRoute<T>(router: Router<T>, path: string): RouteMatch<T> | undefined {
  const captured: Array<[string, string]> = [];
  const leaf = walk(router.root, path, 0, captured);
  if (!leaf) return undefined;
  const params: Record<string, string> = {};
  for (const [name, value] of captured) params[name] = value;
  return { value: leaf.value, pattern: leaf.pattern, params };
}

/**
 * Static, then parameter, then wildcard; backtracks when a branch dead-ends. `start` is the
 * offset of the current segment in `path`, or -1 once every segment is used: walking offsets
 * instead of a split array lets a wildcard take the rest of the path without rejoining it.
 */
function walk<T>(node: Node<T>, path: string, start: number, captured: Array<[string, string]>): Leaf<T> | undefined {
  if (start === -1) return node.leaf;
  const slash = path.indexOf('/', start);
  const segment = slash === -1 ? path.slice(start) : path.slice(start, slash);
  const next = slash === -1 ? -1 : slash + 1;
  // 1. Static
  const child = node.statics.get(segment);
  if (child) {
    const found = walk(child, path, next, captured);
    if (found) return found;
  }
  // 2. Parameter: one non-empty segment
  if (node.param && segment !== '') {
    captured.push([node.param.name, segment]);
    const found = walk(node.param.node, path, next, captured);
    if (found) return found;
    captured.pop();
  }
  // 3. Wildcard: everything from this segment on
  if (node.wildcard) {
    captured.push([node.wildcard.name, path.slice(start)]);
    return node.wildcard.leaf;
  }
  return undefined;
}

/**
 * The size of a memo, in the same shape as storage's CacheSize (the trie imports nothing).
 * Bytes are an estimate that errs high: two bytes a character plus a fixed cost an entry.
 */
export interface MemoSize {
  entries: number;
  bytes: number;
  maxEntries: number;
  maxBytes: number;
}

export interface MatcherLimits {
  /** Entries remembered before the memo starts over; default 1024. */
  maxEntries?: number;
  /** Estimated bytes remembered before the memo starts over; default 256 KiB. */
  maxBytes?: number;
  /** Longer paths are matched every time, never remembered; default 512 characters. */
  maxKeyLength?: number;
}

/** A memoising matcher: call it with a path; `size()` reads its memo. */
export interface Matcher<T> {
  (path: string): RouteMatch<T> | undefined;
  size(): MemoSize;
}

/** A Map slot, the match and its params object, roughly. */
const MEMO_ENTRY_BYTES = 160;

/**
 * A matcher for a router that no longer changes, remembering recent answers: hot paths
 * (the same secret read over and over) then cost one map lookup. Callers must treat the
 * returned match, params included, as read-only.
 */
export function createMatcher<T>(router: Router<T>, limits: MatcherLimits = {}): Matcher<T> {
  const maxEntries = limits.maxEntries ?? 1024;
  const maxBytes = limits.maxBytes ?? 256 << 10;
  const maxKeyLength = limits.maxKeyLength ?? 512;
  // `null` remembers "no route", so a hit costs one lookup.
  const memo = new Map<string, RouteMatch<T> | null>();
  // Kept on misses only: a hit does no bookkeeping at all.
  let bytes = 0;
  const match = (path: string): RouteMatch<T> | undefined => {
    const known = memo.get(path);
    if (known !== undefined) return known ?? undefined;
    const found = findRoute(router, path);
    // Request paths may be kilobytes long: remembering them would let a few requests fill
    // the budget and wipe the short hot paths it is for.
    if (path.length > maxKeyLength) return found;
    const cost = path.length * 2 + MEMO_ENTRY_BYTES;
    if (memo.size >= maxEntries || bytes + cost > maxBytes) {
      memo.clear();
      bytes = 0;
    }
    memo.set(path, found ?? null);
    bytes += cost;
    return found;
  };
  return Object.assign(match, { size: (): MemoSize => ({ entries: memo.size, bytes, maxEntries, maxBytes }) });
}

/** Every pattern in match order, for help listings and the OpenAPI document. */
export function listRoutes<T>(router: Router<T>): Array<Leaf<T>> {
  const out: Array<Leaf<T>> = [];
  const visit = (node: Node<T>): void => {
    if (node.leaf) out.push(node.leaf);
    for (const key of [...node.statics.keys()].sort()) visit(node.statics.get(key)!);
    if (node.param) visit(node.param.node);
    if (node.wildcard) out.push(node.wildcard.leaf);
  };
  visit(router.root);
  return out;
}

/** The trie as indented text, one node a line; tests snapshot it so shape changes show in diffs. */
export function printRouter<T>(router: Router<T>): string {
  const lines: string[] = [];
  const visit = (node: Node<T>, label: string, depth: number): void => {
    const mark = node.leaf ? `  => ${node.leaf.pattern}` : '';
    lines.push(`${'  '.repeat(depth)}${label}${mark}`);
    for (const key of [...node.statics.keys()].sort()) visit(node.statics.get(key)!, `${key}/`, depth + 1);
    if (node.param) visit(node.param.node, `:${node.param.name}/`, depth + 1);
    if (node.wildcard) lines.push(`${'  '.repeat(depth + 1)}*${node.wildcard.name}  => ${node.wildcard.leaf.pattern}`);
  };
  visit(router.root, '<root>', 0);
  return lines.join('\n');
}
