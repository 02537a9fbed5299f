import { UsageError } from './flags.js';

/**
 * Reading what the user types: all of stdin (`-` arguments), and secrets typed without echo
 * (passwords, unseal keys). A secret is only ever prompted for on a terminal; a script must
 * pass it, so a pipe never hangs waiting for a prompt nobody sees.
 */

export function stdoutIsTty(): boolean {
  return process.stdout.isTTY === true;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Prompts on stderr and reads one line from the terminal with echo off. */
export function promptHidden(prompt: string, missing: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError(`${missing} (stdin is not a terminal, so it cannot be prompted for)`);
  // Echo off before the prompt shows: what is typed the moment it appears must not be echoed.
  stdin.setRawMode(true);
  process.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    stdin.resume();
    stdin.setEncoding('utf8');
    const finish = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(new UsageError('interrupted'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
