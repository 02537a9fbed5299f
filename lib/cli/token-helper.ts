import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The token helper: `nomad-api login` keeps the token in ~/.nomad-token (mode 0600), and
 * client commands read it when NOMAD_TOKEN is unset. HOME comes from the environment, so a
 * test (or a user) can point it elsewhere.
 */

export function tokenHelperPath(env: NodeJS.ProcessEnv): string {
  return join(env.HOME || homedir(), '.nomad-token');
}

export function readTokenHelper(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const token = readFileSync(tokenHelperPath(env), 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

export function writeTokenHelper(env: NodeJS.ProcessEnv, token: string): string {
  const path = tokenHelperPath(env);
  // The mode of writeFileSync applies only to a new file: tighten an existing one before the token goes in.
  try {
    chmodSync(path, 0o600);
  } catch {
    // No file yet: writeFileSync creates it with 0600.
  }
  writeFileSync(path, token, { mode: 0o600 });
  return path;
}
