import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { flagBool } from '../flags.js';
import { intFlag } from '../numbers.js';
import { keyValueTable } from '../output.js';
import { sealStatusTable } from '../seal-status.js';
import { keyShare, sharesText } from '../shares.js';

/** `operator ...`: the seal and the barrier key (api.md §6, §15). */

const init = defineCommand({
  name: 'operator init',
  synopsis: 'Initialise the server: make the unseal keys and the root token',
  args: '',
  description: `PUTs sys/init. The master key is split into -key-shares shares (Shamir), any
-key-threshold of which unseal the server. Prints the shares and the initial root token:
the only time either is shown. The server stays sealed until unsealed.`,
  example: '$ nomad-api operator init -key-shares=3 -key-threshold=2',
  flags: {
    'key-shares': { type: 'string', description: 'How many key shares to make (1 to 255).', default: '5' },
    'key-threshold': { type: 'string', description: 'How many shares unseal (1 only with one share).', default: '3' },
  },
  maxArgs: 0,
  async run(ctx) {
    const shares = intFlag(ctx.flags, 'key-shares', 5);
    const threshold = intFlag(ctx.flags, 'key-threshold', 3);
    const body = await ctx.client().request('PUT', 'sys/init', { secret_shares: shares, secret_threshold: threshold });
    ctx.print(body, () => sharesText(body.keys, shares, threshold, body.root_token));
  },
});

const unseal = defineCommand({
  name: 'operator unseal',
  synopsis: 'Give one unseal key share',
  args: '[KEY | -]',
  description: `PUTs one key share to sys/unseal and prints the seal status (Unseal Progress 1/2
until the threshold is reached). Without KEY the share is prompted for with echo off (on
a terminal only); - reads it from stdin. Prefer the prompt: a key in the arguments ends up
in shell history.`,
  example: '$ nomad-api operator unseal\nUnseal Key (will be hidden):',
  flags: { reset: { type: 'bool', description: 'Discard the shares given so far.', default: 'false' } },
  maxArgs: 1,
  async run(ctx) {
    const body = flagBool(ctx.flags, 'reset')
      ? { reset: true }
      : { key: await keyShare(ctx.args[0], 'Unseal Key (will be hidden): ') };
    const status = await ctx.client().request('PUT', 'sys/unseal', body);
    ctx.print(status, () => sealStatusTable(status ?? {}));
  },
});

const seal = defineCommand({
  name: 'operator seal',
  synopsis: 'Seal the server',
  args: '',
  description: `PUTs sys/seal: the server forgets its master key and answers 503 to everything but
the seal routes until unsealed again. Needs root or sudo on sys/seal.`,
  example: '$ nomad-api operator seal',
  output: false,
  maxArgs: 0,
  async run(ctx) {
    await ctx.client().request('PUT', 'sys/seal');
    ctx.io.stdout('Success! The server is sealed.\n');
  },
});

function keyStatusRows(status: any): Array<[string, unknown]> {
  return [
    ['Key Term', status?.term],
    ['Install Time', status?.install_time],
  ];
}

const rotate = defineCommand({
  name: 'operator rotate',
  synopsis: 'Add a new barrier encryption key term',
  args: '',
  description: `PUTs sys/rotate: new writes are encrypted under a new key term, older entries stay
readable. Then prints the key status. Needs root or sudo on sys/rotate.`,
  example: '$ nomad-api operator rotate',
  maxArgs: 0,
  async run(ctx) {
    await ctx.client().request('PUT', 'sys/rotate');
    const status = await ctx.client().request('GET', 'sys/key-status');
    ctx.print(status, () => `Success! Rotated key\n\n${keyValueTable(keyStatusRows(status))}`);
  },
});

const stepDown = defineCommand({
  name: 'operator step-down',
  synopsis: 'Make the active node give up its lock',
  args: '',
  description: `PUTs sys/step-down: the active node of an HA cluster releases its lock so that a
standby takes over. Needs root.`,
  example: '$ nomad-api operator step-down',
  output: false,
  maxArgs: 0,
  async run(ctx) {
    await ctx.client().request('PUT', 'sys/step-down');
    ctx.io.stdout(`Success! Stepped down: ${ctx.client().address}\n`);
  },
});

const keyStatus = defineCommand({
  name: 'operator key-status',
  synopsis: 'Print the barrier key term and install time',
  args: '',
  description: 'GETs sys/key-status: the term of the active encryption key and when it was installed.',
  example: '$ nomad-api operator key-status',
  maxArgs: 0,
  async run(ctx) {
    const status = await ctx.client().request('GET', 'sys/key-status');
    ctx.print(status, () => keyValueTable(keyStatusRows(status)));
  },
});

export const commands: Command[] = [init, unseal, seal, rotate, stepDown, keyStatus];
