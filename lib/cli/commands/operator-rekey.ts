import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { flagBool, flagString, UsageError } from '../flags.js';
import { intFlag } from '../numbers.js';
import { keyValueTable } from '../output.js';
import { keyShare, sharesText } from '../shares.js';

/** `operator rekey`: new unseal key shares, in the steps of sys/rekey/* (api.md §6). */

function statusRows(status: any): Array<[string, unknown]> {
  return [
    ['Nonce', status?.nonce],
    ['Started', status?.started],
    ['Rekey Progress', `${status?.progress ?? 0}/${status?.required ?? '?'}`],
    ['New Shares', status?.n],
    ['New Threshold', status?.t],
  ];
}

export const commands: Command[] = [
  defineCommand({
    name: 'operator rekey',
    synopsis: 'Make new unseal key shares',
    args: '[KEY | -]',
    description: `Replaces the master key and its shares. Start with -init (and the new -key-shares and
-key-threshold), then give the current threshold of shares one at a time, each by
running the command again (KEY as an argument, - for stdin, or typed without echo when
omitted). The last one prints the new shares, the only time they are shown; the old
shares stop working. -status prints the attempt, -cancel discards it.`,
    example: `$ nomad-api operator rekey -init -key-shares=5 -key-threshold=3
$ nomad-api operator rekey`,
    flags: {
      init: { type: 'bool', description: 'Start a rekey attempt.', default: 'false' },
      cancel: { type: 'bool', description: 'Cancel the attempt in progress.', default: 'false' },
      status: { type: 'bool', description: 'Print the attempt in progress.', default: 'false' },
      'key-shares': { type: 'string', description: 'With -init: how many new shares.', default: '5' },
      'key-threshold': { type: 'string', description: 'With -init: how many new shares unseal.', default: '3' },
      nonce: { type: 'string', description: 'The nonce of the attempt (read from the server when omitted).' },
    },
    maxArgs: 1,
    async run(ctx) {
      const modes = ['init', 'cancel', 'status'].filter((m) => flagBool(ctx.flags, m));
      if (modes.length > 1) throw new UsageError('-init, -cancel and -status exclude one another');
      const client = ctx.client();
      if (modes[0] === 'cancel') {
        await client.request('DELETE', 'sys/rekey/init');
        ctx.io.stdout('Success! Canceled the rekey attempt (if there was one).\n');
        return;
      }
      if (modes[0] === 'init' || modes[0] === 'status') {
        const status = modes[0] === 'init'
          ? await client.request('PUT', 'sys/rekey/init', { secret_shares: intFlag(ctx.flags, 'key-shares', 5), secret_threshold: intFlag(ctx.flags, 'key-threshold', 3) })
          : await client.request('GET', 'sys/rekey/init');
        ctx.print(status, () => keyValueTable(statusRows(status)));
        return;
      }
      const nonce = flagString(ctx.flags, 'nonce') ?? (await client.request('GET', 'sys/rekey/init'))?.nonce;
      if (!nonce) throw new UsageError('no rekey attempt in progress: start one with -init');
      const key = await keyShare(ctx.args[0], 'Unseal Key (will be hidden): ');
      const result = await client.request('PUT', 'sys/rekey/update', { key, nonce });
      // The final answer holds the keys but not the new threshold: the seal status has it.
      const seal = result.complete && ctx.out.format === 'table' ? await client.request('GET', 'sys/seal-status') : undefined;
      ctx.print(result, () =>
        result.complete
          ? sharesText(result.keys, result.keys.length, seal?.t ?? result.keys.length)
          : keyValueTable([['Nonce', result.nonce], ['Rekey Progress', `${result.progress}/${result.required}`]]),
      );
    },
  }),
];
