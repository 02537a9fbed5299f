import { ApiError } from '../../errors.js';
import type { Storage } from '../../storage/storage.js';
import { storedTokenParams, type TokenParams } from '../token-params.js';
import { parsePem, type TrustedCert } from './verify.js';

/**
 * The registered certificates (`certs/:name`), one JSON record each under `cert/<name>` in
 * the mount's storage view. The PEM is kept as the operator gave it and parsed again when
 * used: it was validated when written, so a stored record always parses.
 */

export interface CertRecord {
  certificate: string;
  displayName: string;
  allowedCommonNames: string[];
  allowedDnsSans: string[];
  token: TokenParams;
}

const PREFIX = 'cert/';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Names are case-insensitive (as in Vault) and one path segment. */
export function certName(raw: string | undefined): string {
  const name = (raw ?? '').trim().toLowerCase();
  if (name === '') throw new ApiError('ERR_MISSING_FIELD', "missing required field 'name'");
  if (name.includes('/')) throw new ApiError('ERR_INVALID_FIELD', "field 'name' must not contain '/'");
  return name;
}

export async function readRecord(storage: Storage, name: string): Promise<CertRecord | null> {
  const raw = await storage.get(PREFIX + name);
  if (raw === null) return null;
  const stored = JSON.parse(decoder.decode(raw)) as Partial<CertRecord>;
  return {
    certificate: stored.certificate ?? '',
    displayName: stored.displayName ?? '',
    allowedCommonNames: stored.allowedCommonNames ?? [],
    allowedDnsSans: stored.allowedDnsSans ?? [],
    token: storedTokenParams(stored.token),
  };
}

export async function writeRecord(storage: Storage, name: string, record: CertRecord): Promise<void> {
  await storage.put(PREFIX + name, encoder.encode(JSON.stringify(record)));
}

export async function deleteRecord(storage: Storage, name: string): Promise<void> {
  await storage.delete(PREFIX + name);
}

export async function listNames(storage: Storage): Promise<string[]> {
  return (await storage.list(PREFIX)).filter((key) => !key.endsWith('/'));
}

/** The records a login may go through: the one named, or every one; a name that is not registered gives none. */
export async function trustedCerts(storage: Storage, only: string | undefined): Promise<{ entry: TrustedCert; record: CertRecord }[]> {
  const names = only !== undefined ? [only] : await listNames(storage);
  const out: { entry: TrustedCert; record: CertRecord }[] = [];
  for (const name of names) {
    const record = await readRecord(storage, name);
    if (record === null) continue;
    const cert = parsePem(record.certificate, 'certificate');
    out.push({ entry: { name, cert, allowedCommonNames: record.allowedCommonNames, allowedDnsSans: record.allowedDnsSans }, record });
  }
  return out;
}
