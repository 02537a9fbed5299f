/**
 * An in-memory index of `/`-separated keys that answers the storage listing (one level,
 * folders ending in `/`) without scanning every key. A node holds the value of the key that
 * ends there and the folder of keys below it, so `foo` and `foo/bar` coexist; a node left
 * with neither is removed at once, so a folder never outlives its last key.
 */

interface Node<T> {
  value: T | undefined;
  children: Map<string, Node<T>> | undefined;
}

export interface KeyTree<T> {
  readonly size: number;
  get(key: string): T | undefined;
  /** Returns the value it replaced. */
  set(key: string, value: T): T | undefined;
  /** Returns the value it removed. */
  delete(key: string): T | undefined;
  /** Immediate children of `prefix` ("" or ending in `/`), sorted, folders suffixed with `/`. */
  list(prefix: string): string[];
  /** Every key and value, depth first. */
  entries(): Generator<[string, T]>;
}

const newNode = <T>(): Node<T> => ({ value: undefined, children: undefined });

export function createKeyTree<T>(): KeyTree<T> {
  const root = newNode<T>();
  let size = 0;

  const find = (segments: string[]): Node<T> | undefined => {
    let node: Node<T> | undefined = root;
    for (const segment of segments) {
      node = node.children?.get(segment);
      if (node === undefined) return undefined;
    }
    return node;
  };

  function* walk(node: Node<T>, prefix: string): Generator<[string, T]> {
    for (const [segment, child] of node.children ?? []) {
      const key = prefix + segment;
      if (child.value !== undefined) yield [key, child.value];
      yield* walk(child, `${key}/`);
    }
  }

  return {
    get size() {
      return size;
    },
    get(key) {
      return find(key.split('/'))?.value;
    },
    set(key, value) {
      let node = root;
      for (const segment of key.split('/')) {
        node.children ??= new Map();
        let child = node.children.get(segment);
        if (child === undefined) {
          child = newNode();
          node.children.set(segment, child);
        }
        node = child;
      }
      const old = node.value;
      if (old === undefined) size += 1;
      node.value = value;
      return old;
    },
    delete(key) {
      const segments = key.split('/');
      const path: Node<T>[] = [root];
      for (const segment of segments) {
        const child = path[path.length - 1]!.children?.get(segment);
        if (child === undefined) return undefined;
        path.push(child);
      }
      const node = path[path.length - 1]!;
      const old = node.value;
      if (old === undefined) return undefined;
      node.value = undefined;
      size -= 1;
      // Prune upwards: an empty node would show up in listings as an empty folder.
      for (let i = path.length - 1; i > 0; i--) {
        const current = path[i]!;
        if (current.value !== undefined || (current.children?.size ?? 0) > 0) break;
        path[i - 1]!.children!.delete(segments[i - 1]!);
      }
      return old;
    },
    list(prefix) {
      const node = prefix === '' ? root : find(prefix.slice(0, -1).split('/'));
      const out: string[] = [];
      for (const [segment, child] of node?.children ?? []) {
        if (child.value !== undefined) out.push(segment);
        if ((child.children?.size ?? 0) > 0) out.push(`${segment}/`);
      }
      return out.sort();
    },
    entries() {
      return walk(root, '');
    },
  };
}
