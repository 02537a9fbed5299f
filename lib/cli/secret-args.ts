import { readFileSync } from 'node:fs';
import { UsageError } from './flags.js';
import { readStdin } from './terminal.js';

/**
 * The data arguments of `write` (and the options of `audit enable`): `key=value`,
 * `key=@file` (the file's contents), `key=-` (stdin), or a lone `-` (a JSON object on stdin).
 */
export async function parseData(args: string[]): Promise<Record<string, unknown>> {
  const data: Record<string, unknown> = {};
  let stdinUsed = false;
  const stdin = async (): Promise<string> => {
    if (stdinUsed) throw new UsageError('stdin (-) can be used only once');
    stdinUsed = true;
    return readStdin();
  };
  for (const arg of args) {
    if (arg === '-') {
      const text = await stdin();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UsageError('stdin is not valid JSON (with "-", stdin must hold one JSON object)');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('stdin must hold a JSON object');
      Object.assign(data, parsed);
      continue;
    }
    const eq = arg.indexOf('=');
    // The argument is not echoed: it may be a secret typed without its key.
    if (eq <= 0) throw new UsageError('data must be given as key=value, key=@file, key=- or a lone - (a JSON object on stdin)');
    const key = arg.slice(0, eq);
    const raw = arg.slice(eq + 1);
    if (raw === '-') data[key] = await stdin();
    else if (raw.startsWith('@')) data[key] = readFile(raw.slice(1), key);
    else data[key] = raw;
  }
  return data;
}

function readFile(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the file for ${key} (${path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A path as users type it: `secret/a`, `/secret/a` and `v1/secret/a` are the same. */
export function apiPath(path: string): string {
  return path.replace(/^\/+/, '').replace(/^v1\//, '');
}
