import { promptHidden, readStdin } from './terminal.js';

/** Text printed with new unseal keys (init, rekey): they are shown once, and only here. */
export function sharesText(keys: string[], shares: number, threshold: number, rootToken?: string): string {
  const lines = keys.map((key, i) => `Unseal Key ${i + 1}: ${key}`);
  if (rootToken !== undefined) lines.push('', `Initial Root Token: ${rootToken}`);
  lines.push(
    '',
    `The master key is split into ${shares} key share${shares === 1 ? '' : 's'}; any ${threshold} of them unseal the server.`,
    'These keys are shown only this once. Store each share apart from the others (one per',
    'trusted person, in a password manager or offline), never together with the root token,',
    'and never in the server\'s own storage. Losing more than',
    `${shares - threshold} share${shares - threshold === 1 ? '' : 's'} makes the data unrecoverable.`,
  );
  if (rootToken !== undefined) lines.push('Use the root token for setup only, then revoke it (nomad-api token revoke -self).');
  return `${lines.join('\n')}\n`;
}

/** One key share: the argument, `-` for stdin, or typed without echo on a terminal. */
export async function keyShare(arg: string | undefined, prompt: string): Promise<string> {
  if (arg === '-') return (await readStdin()).trim();
  if (arg !== undefined) return arg;
  return (await promptHidden(prompt, 'an unseal key is required')).trim();
}
