import { parseHcl, type HclAttribute, type HclBlock, type HclBody, type HclValue } from '../hcl/parser.js';

/**
 * The canonical layout of an HCL document (`policy fmt`): two-space indents, aligned `=` in
 * runs of attributes, lists on one line, a blank line between top-level blocks. The parser
 * drops comments, so they are found separately and put back on their own line before the
 * item they preceded (or sat beside): nothing the user wrote is lost.
 */

interface Comment {
  line: number;
  text: string;
}

/** Comments outside strings and heredocs, with the line each starts on. */
export function findComments(text: string): Comment[] {
  const found: Comment[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === '"') {
      i++;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (text.startsWith('<<', i)) {
      const marker = /^<<-?([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (!marker) {
        i += 2;
        continue;
      }
      const close = new RegExp(`\\n[ \\t]*${marker[1]}[ \\t]*(?=\\n|$)`, 'g');
      close.lastIndex = i;
      const end = close.exec(text);
      const stop = end ? end.index + end[0].length : text.length;
      line += (text.slice(i, stop).match(/\n/g) ?? []).length;
      i = stop;
    } else if (ch === '#' || text.startsWith('//', i)) {
      const eol = text.indexOf('\n', i);
      const stop = eol < 0 ? text.length : eol;
      found.push({ line, text: text.slice(i, stop).trimEnd() });
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      found.push({ line, text: text.slice(i, stop) });
      line += (text.slice(i, stop).match(/\n/g) ?? []).length;
      i = stop;
    } else i++;
  }
  return found;
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')}"`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function value(v: HclValue, depth: number): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((item) => value(item, depth)).join(', ')}]`;
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const pad = '  '.repeat(depth + 1);
  const width = Math.max(...keys.map((k) => (IDENT.test(k) ? k : quote(k)).length));
  const lines = keys.map((k) => `${pad}${(IDENT.test(k) ? k : quote(k)).padEnd(width)} = ${value(v[k]!, depth + 1)}`);
  return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`;
}

export function formatHcl(text: string): string {
  const body = parseHcl(text);
  const comments = findComments(text);
  const out: string[] = [];
  const flush = (beforeLine: number, depth: number): void => {
    while (comments.length > 0 && comments[0]!.line <= beforeLine) out.push(`${'  '.repeat(depth)}${comments.shift()!.text}`);
  };
  const emitBody = (b: HclBody, depth: number): void => {
    const pad = '  '.repeat(depth);
    b.items.forEach((item, index) => {
      const previous = b.items[index - 1];
      if (previous && (item.kind === 'block' || previous.kind === 'block') && (depth === 0 || item.kind !== previous.kind)) out.push('');
      flush(item.line, depth);
      if (item.kind === 'attribute') {
        out.push(`${pad}${item.name.padEnd(runWidth(b.items, index))} = ${value(item.value, depth)}`);
      } else {
        const head = [item.type, ...item.labels.map(quote)].join(' ');
        if (item.body.items.length === 0) out.push(`${pad}${head} {}`);
        else {
          out.push(`${pad}${head} {`);
          emitBody(item.body, depth + 1);
          out.push(`${pad}}`);
        }
      }
    });
  };
  emitBody(body, 0);
  flush(Infinity, 0);
  return `${out.join('\n')}\n`;
}

/** The widest name in the run of consecutive attributes around `index`, for aligned `=`. */
function runWidth(items: Array<HclAttribute | HclBlock>, index: number): number {
  let start = index;
  let end = index;
  while (start > 0 && items[start - 1]!.kind === 'attribute') start--;
  while (end < items.length - 1 && items[end + 1]!.kind === 'attribute') end++;
  return Math.max(...items.slice(start, end + 1).map((i) => (i as HclAttribute).name.length));
}
