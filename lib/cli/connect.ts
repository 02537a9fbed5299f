import { readFileSync } from 'node:fs';
import { createClient, DEFAULT_ADDRESS, type Client } from '../client/index.js';
import { flagBool, flagString, UsageError, type FlagSpec, type ParsedFlags } from './flags.js';
import { readTokenHelper } from './token-helper.js';

/**
 * The flags every client command takes, and the client they build with the environment
 * (flags win over NOMAD_* variables). There is no -token flag, as in Vault: a token on the
 * command line ends up in shell history and in `ps`; it comes from NOMAD_TOKEN or the token
 * helper (~/.nomad-token, written by `nomad-api login`).
 */

export const CONNECTION_FLAGS: Record<string, FlagSpec> = {
  address: { type: 'string', description: 'The server address; overrides NOMAD_ADDR.', default: DEFAULT_ADDRESS },
  'ca-cert': { type: 'string', description: "A PEM file of the CA that signed the server's certificate; overrides NOMAD_CACERT." },
  'client-cert': { type: 'string', description: 'A PEM client certificate for TLS (cert auth); overrides NOMAD_CLIENT_CERT.' },
  'client-key': { type: 'string', description: "The client certificate's PEM private key; overrides NOMAD_CLIENT_KEY." },
  'tls-skip-verify': { type: 'bool', description: "Do not verify the server's certificate (testing only); overrides NOMAD_SKIP_VERIFY.", default: 'false' },
  'tls-server-name': { type: 'string', description: 'The name to send as SNI and verify the certificate against; overrides NOMAD_TLS_SERVER_NAME.' },
};

export const OUTPUT_FLAGS: Record<string, FlagSpec> = {
  format: { type: 'string', description: 'table or json (the server\'s JSON, indented); overrides NOMAD_FORMAT.', default: 'table' },
  field: { type: 'string', description: 'Print only this field, raw (no trailing newline when stdout is not a terminal).' },
};

export type Format = 'table' | 'json';

export function outputFormat(flags: ParsedFlags, env: NodeJS.ProcessEnv): Format {
  const format = flagString(flags, 'format') ?? (env.NOMAD_FORMAT || 'table');
  if (format !== 'table' && format !== 'json') throw new UsageError(`-format must be table or json, not '${format}'`);
  return format;
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && !['0', 'false', 'no'].includes(value.toLowerCase());
}

/** Reads a PEM file named by a flag or variable; a missing file is the user's error (exit 2). */
function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined || path === '') return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Where the token comes from: NOMAD_TOKEN, else the token helper file. */
export function resolveToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NOMAD_TOKEN) return env.NOMAD_TOKEN;
  return readTokenHelper(env);
}

export function connect(flags: ParsedFlags, env: NodeJS.ProcessEnv): Client {
  const retries = env.NOMAD_MAX_RETRIES === undefined ? undefined : Number(env.NOMAD_MAX_RETRIES);
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) throw new UsageError('NOMAD_MAX_RETRIES must be a whole number');
  return createClient({
    address: flagString(flags, 'address') ?? (env.NOMAD_ADDR || DEFAULT_ADDRESS),
    token: resolveToken(env),
    caCert: readPem(flagString(flags, 'ca-cert') ?? env.NOMAD_CACERT, 'CA certificate'),
    clientCert: readPem(flagString(flags, 'client-cert') ?? env.NOMAD_CLIENT_CERT, 'client certificate'),
    clientKey: readPem(flagString(flags, 'client-key') ?? env.NOMAD_CLIENT_KEY, 'client key'),
    skipVerify: flags.values['tls-skip-verify'] ? flagBool(flags, 'tls-skip-verify') : truthy(env.NOMAD_SKIP_VERIFY),
    serverName: flagString(flags, 'tls-server-name') ?? (env.NOMAD_TLS_SERVER_NAME || undefined),
    retries,
  });
}
