import { ApiError } from '../errors.js';
import { parseHcl, HclSyntaxError, type HclBody, type HclValue } from '../hcl/parser.js';
import { parseJsonDocument } from '../hcl/json.js';

/**
 * ACL policy documents (api.md §9): `path "<pattern>" { capabilities = [...] }` blocks in
 * the HCL subset, or the same as JSON. Anything the parser does not understand is an error,
 * never ignored: an ignored restriction (say, `allowed_parameters`) would widen access.
 */

/** Capabilities as bits, so a decision is one AND. */
export const CAP = {
  create: 1,
  read: 2,
  update: 4,
  delete: 8,
  list: 16,
  sudo: 32,
  deny: 64,
} as const;

export type Capability = keyof typeof CAP;

/** The old `policy = "…"` levels, as Vault maps them. A Map: `constructor` or `__proto__` is no level. */
const LEVELS: ReadonlyMap<string, number> = new Map([
  ['deny', CAP.deny],
  ['read', CAP.read | CAP.list],
  ['write', CAP.create | CAP.read | CAP.update | CAP.delete | CAP.list],
  ['sudo', CAP.create | CAP.read | CAP.update | CAP.delete | CAP.list | CAP.sudo],
]);

export interface PolicyRule {
  /** As written, without a leading slash: `secret/*`, `secret/+/db`, `secret/exact`. */
  path: string;
  caps: number;
}

export interface Policy {
  name: string;
  /** The document as the user wrote it. */
  text: string;
  rules: PolicyRule[];
}

export function capabilityNames(caps: number): string[] {
  if (caps & CAP.deny) return ['deny'];
  return (Object.keys(CAP) as Capability[]).filter((name) => caps & CAP[name]);
}

function invalid(line: number, column: number, reason: string): ApiError {
  return new ApiError('ERR_INVALID_POLICY', `failed to parse policy: line ${line}, column ${column}: ${reason}`);
}

function parseDocument(text: string): HclBody {
  try {
    return text.trimStart().startsWith('{') ? parseJsonDocument(text, { path: 1 }) : parseHcl(text);
  } catch (err) {
    if (err instanceof HclSyntaxError) throw invalid(err.line, err.column, err.reason);
    throw err;
  }
}

function validatePattern(path: string, line: number, column: number): string {
  const pattern = path.replace(/^\/+/, '');
  const star = pattern.indexOf('*');
  if (star !== -1 && star !== pattern.length - 1) throw invalid(line, column, `'*' may only end a path: "${path}"`);
  for (const segment of pattern.split('/')) {
    if (segment.includes('+') && segment !== '+') throw invalid(line, column, `'+' must be a whole path segment: "${path}"`);
  }
  return pattern;
}

function capabilitiesOf(value: HclValue, line: number, column: number): number {
  if (!Array.isArray(value)) throw invalid(line, column, 'capabilities must be a list of strings');
  let caps = 0;
  for (const item of value) {
    if (typeof item !== 'string' || !Object.hasOwn(CAP, item)) {
      throw invalid(line, column, `unknown capability ${JSON.stringify(item)} (known: ${Object.keys(CAP).join(', ')})`);
    }
    caps |= CAP[item as Capability];
  }
  // deny overrides whatever it is listed with.
  return caps & CAP.deny ? CAP.deny : caps;
}

export function parsePolicy(name: string, text: string): Policy {
  const body = parseDocument(text);
  const rules: PolicyRule[] = [];
  const seen = new Map<string, number>();
  for (const item of body.items) {
    if (item.kind === 'attribute') throw invalid(item.line, item.column, `unexpected attribute '${item.name}': a policy holds only path blocks`);
    if (item.type !== 'path') throw invalid(item.line, item.column, `unexpected block '${item.type}': a policy holds only path blocks`);
    if (item.labels.length !== 1) throw invalid(item.line, item.column, 'a path block takes exactly one label: path "<pattern>" { ... }');
    const path = validatePattern(item.labels[0]!, item.line, item.column);
    const first = seen.get(path);
    if (first !== undefined) throw invalid(item.line, item.column, `duplicate path "${path}" (first at line ${first})`);
    seen.set(path, item.line);

    let caps: number | undefined;
    for (const inner of item.body.items) {
      if (inner.kind === 'block') throw invalid(inner.line, inner.column, `nested blocks are not allowed inside path "${path}"`);
      if (inner.name === 'capabilities') {
        if (caps !== undefined) throw invalid(inner.line, inner.column, 'give either capabilities or policy, not both');
        caps = capabilitiesOf(inner.value, inner.valueLine, inner.valueColumn);
      } else if (inner.name === 'policy') {
        if (caps !== undefined) throw invalid(inner.line, inner.column, 'give either capabilities or policy, not both');
        const level = typeof inner.value === 'string' ? LEVELS.get(inner.value) : undefined;
        if (level === undefined) throw invalid(inner.valueLine, inner.valueColumn, 'policy must be one of deny, read, write, sudo');
        caps = level;
      } else {
        throw invalid(inner.line, inner.column, `unsupported key '${inner.name}' in path "${path}" (supported: capabilities, policy)`);
      }
    }
    if (caps === undefined) throw invalid(item.line, item.column, `path "${path}" needs capabilities = [...] or policy = "..."`);
    rules.push({ path, caps });
  }
  return { name, text, rules };
}

/** Policy names are case-insensitive (stored lower-cased) and safe as storage keys. */
export function normalizePolicyName(name: string): string {
  const lower = name.trim().toLowerCase();
  if (lower === '' || lower.length > 128 || !/^[a-z0-9][a-z0-9_.@-]*$/.test(lower)) {
    throw new ApiError('ERR_INVALID_POLICY', `invalid policy name '${name}': use letters, digits, '_', '-', '.', '@'`);
  }
  return lower;
}
