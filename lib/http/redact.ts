/**
 * Request paths as they may appear in a log line (api.md §3: no log line ever holds a token).
 * The token store takes a token in the URL (`auth/token/lookup/<token>`, `renew/<token>`,
 * `revoke/<token>`, `revoke-orphan/<token>`), so after a `token` segment only a known
 * operation name is kept and whatever follows it is replaced, unless the operation takes an
 * accessor. The rule is loose on purpose: a mistyped operation, doubled slashes, `.`
 * segments or another case do not route, yet their log line must not hold the token either.
 * It may hide the tail of an unrelated path with a `token` segment in it; that costs a trace
 * line some detail, not a secret.
 */

const REDACTED = '<redacted>';

const TOKEN_SEGMENT = /(?:^|\/)token\/+/i;
const OPERATIONS = new Set(['create', 'create-orphan', 'lookup', 'lookup-self', 'renew', 'renew-self', 'revoke', 'revoke-self', 'revoke-orphan', 'roles']);

/** The path to log: `decoded` is the percent-decoded path, or null when it could not be decoded. */
export function loggedPath(decoded: string | null): string {
  // An undecodable path can hide anything, a token in percent-encoding included.
  if (decoded === null) return '<not valid percent-encoding>';
  const found = TOKEN_SEGMENT.exec(decoded);
  if (found === null) return decoded;
  const afterToken = found.index + found[0].length;
  const slash = decoded.indexOf('/', afterToken);
  const operation = decoded.slice(afterToken, slash === -1 ? decoded.length : slash).toLowerCase();
  if (operation.endsWith('accessor')) return decoded;
  if (!OPERATIONS.has(operation)) return operation === '' ? decoded : decoded.slice(0, afterToken) + REDACTED;
  if (slash === -1 || /^\/*$/.test(decoded.slice(slash))) return decoded;
  return `${decoded.slice(0, slash + 1)}${REDACTED}`;
}
