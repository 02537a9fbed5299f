import { readFileSync } from 'node:fs';
import { ApiError } from '../../client/index.js';
import type { Command } from '../command.js';
import { CommandError, defineCommand } from '../client-command.js';
import { UsageError } from '../flags.js';
import { payload } from '../output.js';
import { listTable } from '../render.js';
import { readStdin } from '../terminal.js';

/** `policy ...`: ACL policies at sys/policy (api.md §9). */

const read = defineCommand({
  name: 'policy read',
  synopsis: 'Print a policy',
  args: 'NAME',
  description: 'GETs sys/policy/<name> and prints its rules as written.',
  example: '$ nomad-api policy read app',
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const name = ctx.args[0]!;
    let answer: any;
    try {
      answer = await ctx.client().request('GET', `sys/policy/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CommandError(`no policy named ${name}`);
      throw err;
    }
    const rules = payload(answer).rules ?? payload(answer).policy;
    ctx.print(answer, () => (typeof rules === 'string' ? (rules.endsWith('\n') ? rules : `${rules}\n`) : ''));
  },
});

const write = defineCommand({
  name: 'policy write',
  synopsis: 'Write a policy from a file or stdin',
  args: 'NAME FILE|-',
  description: `PUTs the file's contents (HCL or JSON; - reads stdin) to sys/policy/<name>, creating or
replacing the policy. A syntax error is reported with its line and column. The root
policy cannot be written.`,
  example: '$ nomad-api policy write app app-policy.hcl',
  output: false,
  minArgs: 2,
  maxArgs: 2,
  async run(ctx) {
    const [name, file] = ctx.args as [string, string];
    let text: string;
    try {
      text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the policy file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    await ctx.client().request('PUT', `sys/policy/${encodeURIComponent(name)}`, { policy: text });
    ctx.io.stdout(`Success! Uploaded policy: ${name}\n`);
  },
});

const list = defineCommand({
  name: 'policy list',
  synopsis: 'List the policies',
  args: '',
  description: 'GETs sys/policy and prints the policy names, root and default included.',
  example: '$ nomad-api policy list',
  maxArgs: 0,
  async run(ctx) {
    const answer = await ctx.client().request('GET', 'sys/policy');
    const data = payload(answer);
    const names = (data.policies ?? data.keys ?? []) as unknown[];
    ctx.print(answer, () => listTable('Policies', names));
  },
});

const remove = defineCommand({
  name: 'policy delete',
  synopsis: 'Delete a policy',
  args: 'NAME',
  description: 'DELETEs sys/policy/<name>. Tokens that had it lose what it allowed at once. root and default cannot be deleted.',
  example: '$ nomad-api policy delete app',
  output: false,
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const name = ctx.args[0]!;
    await ctx.client().request('DELETE', `sys/policy/${encodeURIComponent(name)}`);
    ctx.io.stdout(`Success! Deleted policy: ${name}\n`);
  },
});

export const commands: Command[] = [read, write, list, remove];
