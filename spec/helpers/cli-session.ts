import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from './cli.js';

/**
 * A CLI user for end-to-end specs: a temporary HOME (for ~/.nomad-token), the NOMAD_*
 * variables the spec sets and none from the environment the tests run in, and a record of
 * every output, so a spec can check that no secret was printed where it should not be.
 */

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliSession {
  home: string;
  env: NodeJS.ProcessEnv;
  /** Runs `nomad-api ...args` with the session's env plus `env`; `stdin` is written and closed. */
  run(args: string[], options?: { env?: NodeJS.ProcessEnv; stdin?: string; mayPrintSecrets?: boolean }): Promise<CliResult>;
  /** Everything printed (not the arguments) by runs not marked `mayPrintSecrets`. */
  ordinaryOutput(): string;
  cleanup(): void;
}

const CLEARED = ['NOMAD_ADDR', 'NOMAD_TOKEN', 'NOMAD_CACERT', 'NOMAD_CLIENT_CERT', 'NOMAD_CLIENT_KEY', 'NOMAD_SKIP_VERIFY', 'NOMAD_TLS_SERVER_NAME', 'NOMAD_FORMAT'];

export function cliSession(env: NodeJS.ProcessEnv): CliSession {
  const home = mkdtempSync(join(tmpdir(), 'nomad-cli-home-'));
  const ordinary: string[] = [];
  const base: NodeJS.ProcessEnv = { ...Object.fromEntries(CLEARED.map((k) => [k, ''])), HOME: home, ...env };
  return {
    home,
    env: base,
    async run(args, options = {}) {
      const proc = spawnCli(args, { ...base, ...options.env });
      proc.child.stdin.end(options.stdin ?? '');
      const { code } = await proc.exited;
      const result = { code, stdout: proc.stdout(), stderr: proc.stderr() };
      // Labelled by the command's first words only: its arguments may hold the very secrets checked for.
      if (!options.mayPrintSecrets) ordinary.push(`$ nomad-api ${args.slice(0, 2).join(' ')}\n${result.stdout}${result.stderr}`);
      return result;
    },
    ordinaryOutput: () => ordinary.join('\n'),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
