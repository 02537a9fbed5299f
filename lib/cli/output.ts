import type { Format } from './connect.js';

/**
 * How results are printed: aligned tables by default, the server's JSON with -format=json,
 * one raw value with -field=NAME.
 */

export interface Output {
  format: Format;
  field: string | undefined;
  write(text: string): void;
}

/** A value as a table cell: strings as they are, lists Vault-style `[a b]`, objects as JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return 'n/a';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return `[${value.join(' ')}]`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Columns padded to the widest cell, a dashed rule under the header. */
export function columns(header: string[], rows: string[][]): string {
  const all = [header, header.map((h) => '-'.repeat(h.length)), ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 4))).join('').trimEnd()).join('\n') + '\n';
}

export function keyValueTable(rows: Array<[string, unknown]>): string {
  return columns(['Key', 'Value'], rows.map(([k, v]) => [k, cell(v)]));
}

export function json(body: unknown): string {
  return `${JSON.stringify(body ?? null, null, 2)}\n`;
}

/**
 * -field: the raw value (strings unquoted, others as JSON), with a newline only on a
 * terminal, so `$(nomad-api read -field=v secret/a)` and pipes get the bytes alone.
 */
export function rawField(value: unknown, stdoutIsTty: boolean): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return stdoutIsTty ? `${text}\n` : text;
}

/** The body's payload: `data` when the envelope has it, else the top level (raw sys answers). */
export function payload(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object') return {};
  const data = (body as { data?: unknown }).data;
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  return body as Record<string, unknown>;
}

/** The rows Vault prints for an `auth` block: token_* names. The token itself only when asked to. */
export function authRows(auth: Record<string, any>, showToken: boolean): Array<[string, unknown]> {
  const rows: Array<[string, unknown]> = [];
  if (showToken) rows.push(['token', auth.client_token]);
  rows.push(
    ['token_accessor', auth.accessor],
    ['token_duration', duration(auth.lease_duration)],
    ['token_renewable', auth.renewable],
    ['token_policies', auth.policies ?? auth.token_policies],
  );
  for (const [k, v] of Object.entries(auth.metadata ?? {})) rows.push([`token_meta_${k}`, v]);
  return rows;
}

/** Seconds as Vault shows them: `768h`, `1h2m3s`, `∞` for 0 (no expiry). */
export function duration(seconds: unknown): string {
  if (typeof seconds !== 'number') return cell(seconds);
  if (seconds === 0) return '∞';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

/** The -field lookup: the payload, then the top level, then the auth block under Vault's token_* names. */
export function findField(body: unknown, name: string): { found: boolean; value?: unknown } {
  const data = payload(body);
  if (Object.hasOwn(data, name)) return { found: true, value: data[name] };
  const top = (body ?? {}) as Record<string, unknown>;
  if (typeof top === 'object' && Object.hasOwn(top, name)) return { found: true, value: top[name] };
  const auth = top.auth as Record<string, unknown> | null | undefined;
  if (auth && typeof auth === 'object') {
    const aliases: Record<string, string> = { token: 'client_token', token_accessor: 'accessor', token_duration: 'lease_duration', token_renewable: 'renewable', token_policies: 'policies' };
    const key = aliases[name] ?? name;
    if (Object.hasOwn(auth, key)) return { found: true, value: auth[key] };
  }
  return { found: false };
}
