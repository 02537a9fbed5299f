import type { Command } from '../command.js';
import { defineCommand } from '../client-command.js';
import { flagString } from '../flags.js';
import { cell, columns, payload } from '../output.js';
import { mountPath } from '../mount-commands.js';
import { parseData } from '../secret-args.js';

/** `audit enable|disable|list` over sys/audit (api.md §13); `audit verify` lives in audit-verify.ts. */

const enable = defineCommand({
  name: 'audit enable',
  synopsis: 'Enable an audit device',
  args: 'TYPE [KEY=VALUE ...]',
  description: `PUTs sys/audit/<path> with {"type", "description", "options"}: from then on every request
and response is recorded (and refused when no device can record it). KEY=VALUE arguments
are the device's options, e.g. file_path for the file device.`,
  example: '$ nomad-api audit enable file file_path=/var/log/nomad-api/audit.log',
  flags: {
    path: { type: 'string', description: 'Where to enable it (default: TYPE).' },
    description: { type: 'string', description: 'Free text shown in the listing.' },
  },
  output: false,
  minArgs: 1,
  async run(ctx) {
    const [type, ...options] = ctx.args as [string, ...string[]];
    const path = mountPath(flagString(ctx.flags, 'path') ?? type);
    const body: Record<string, unknown> = { type, options: await parseData(options) };
    const description = flagString(ctx.flags, 'description');
    if (description !== undefined) body.description = description;
    await ctx.client().request('PUT', `sys/audit/${path}`, body);
    ctx.io.stdout(`Success! Enabled the ${type} audit device at: ${path}\n`);
  },
});

const disable = defineCommand({
  name: 'audit disable',
  synopsis: 'Disable an audit device',
  args: 'PATH',
  description: 'DELETEs sys/audit/<path>. Its log file stays where it is.',
  example: '$ nomad-api audit disable file',
  output: false,
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const path = mountPath(ctx.args[0]!);
    await ctx.client().request('DELETE', `sys/audit/${path}`);
    ctx.io.stdout(`Success! Disabled the audit device (if it existed) at: ${path}\n`);
  },
});

const list = defineCommand({
  name: 'audit list',
  synopsis: 'List the audit devices',
  args: '',
  description: 'GETs sys/audit and prints one row per device: path, type and description.',
  example: '$ nomad-api audit list',
  maxArgs: 0,
  async run(ctx) {
    const answer = await ctx.client().request('GET', 'sys/audit');
    const devices = payload(answer) as Record<string, any>;
    const rows = Object.keys(devices)
      .filter((path) => devices[path] && typeof devices[path] === 'object')
      .sort()
      .map((path) => [path, cell(devices[path].type), cell(devices[path].description ?? '')]);
    ctx.print(answer, () => (rows.length === 0 ? 'No audit devices are enabled.\n' : columns(['Path', 'Type', 'Description'], rows)));
  },
});

export const commands: Command[] = [enable, disable, list];
