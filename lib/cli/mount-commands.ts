import type { Command } from './command.js';
import { defineCommand } from './client-command.js';
import { flagString, type FlagSpec, type ParsedFlags } from './flags.js';
import { cell, columns, payload } from './output.js';
import { parseData } from './secret-args.js';

/**
 * `secrets ...` and `auth ...` are the same four commands over sys/mounts and sys/auth
 * (api.md §10); this makes both sets.
 */

export type MountKind = 'secrets' | 'auth';

interface Words {
  base: string;
  noun: string;
  example: string;
}

const WORDS: Record<MountKind, Words> = {
  secrets: { base: 'sys/mounts', noun: 'secrets engine', example: 'kv' },
  auth: { base: 'sys/auth', noun: 'auth method', example: 'userpass' },
};

const TTL_FLAGS: Record<string, FlagSpec> = {
  'default-lease-ttl': { type: 'string', description: 'The default lease TTL of the mount, e.g. 1h (default: the server\'s).' },
  'max-lease-ttl': { type: 'string', description: 'The maximum lease TTL of the mount (default: the server\'s).' },
  description: { type: 'string', description: 'Free text shown in the listing.' },
};

/** `kv/`, `/kv` and `kv` are the same mount path. */
export function mountPath(path: string): string {
  return `${path.replace(/^\/+|\/+$/g, '')}/`;
}

function ttlConfig(flags: ParsedFlags): Record<string, string> {
  const config: Record<string, string> = {};
  const ttl = flagString(flags, 'default-lease-ttl');
  const max = flagString(flags, 'max-lease-ttl');
  if (ttl !== undefined) config.default_lease_ttl = ttl;
  if (max !== undefined) config.max_lease_ttl = max;
  return config;
}

export function mountCommands(kind: MountKind): Command[] {
  const { base, noun, example } = WORDS[kind];
  const shown = (path: string): string => (kind === 'auth' ? `auth/${path}` : path);

  const enable = defineCommand({
    name: `${kind} enable`,
    synopsis: kind === 'auth' ? 'Enable an auth method' : 'Mount a secrets engine',
    args: 'TYPE [KEY=VALUE ...]',
    description: `POSTs ${base}/<path> with {"type", "description", "config", "options"}: mounts a ${noun} of TYPE
at -path (default: the type's name)${kind === 'auth' ? ', under auth/' : ''}. KEY=VALUE arguments are the backend's options.`,
    example: `$ nomad-api ${kind} enable -path=${kind === 'auth' ? 'people' : 'kv2'} ${example}`,
    flags: { path: { type: 'string', description: 'Where to mount it (default: TYPE).' }, ...TTL_FLAGS },
    output: false,
    minArgs: 1,
    async run(ctx) {
      const [type, ...options] = ctx.args as [string, ...string[]];
      const path = mountPath(flagString(ctx.flags, 'path') ?? type);
      const body: Record<string, unknown> = { type, config: ttlConfig(ctx.flags) };
      const description = flagString(ctx.flags, 'description');
      if (description !== undefined) body.description = description;
      if (options.length > 0) body.options = await parseData(options);
      await ctx.client().request('POST', `${base}/${path}`, body);
      ctx.io.stdout(`Success! Enabled the ${type} ${noun} at: ${shown(path)}\n`);
    },
  });

  const disable = defineCommand({
    name: `${kind} disable`,
    synopsis: kind === 'auth' ? 'Disable an auth method' : 'Unmount a secrets engine and delete its data',
    args: 'PATH',
    description: `DELETEs ${base}/<path>: the ${noun} is removed with all its data, and its leases are revoked.`,
    example: `$ nomad-api ${kind} disable ${kind === 'auth' ? 'people' : 'kv2'}`,
    output: false,
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const path = mountPath(ctx.args[0]!.replace(kind === 'auth' ? /^\/*auth\// : /^$/, ''));
      await ctx.client().request('DELETE', `${base}/${path}`);
      ctx.io.stdout(`Success! Disabled the ${noun} (if it existed) at: ${shown(path)}\n`);
    },
  });

  const list = defineCommand({
    name: `${kind} list`,
    synopsis: kind === 'auth' ? 'List the enabled auth methods' : 'List the mounted secrets engines',
    args: '',
    description: `GETs ${base} and prints one row per ${noun}: path, type, accessor and description.`,
    example: `$ nomad-api ${kind} list`,
    maxArgs: 0,
    async run(ctx) {
      const answer = await ctx.client().request('GET', base);
      const mounts = payload(answer) as Record<string, any>;
      const rows = Object.keys(mounts)
        .filter((path) => mounts[path] && typeof mounts[path] === 'object')
        .sort()
        .map((path) => [shown(path).replace(/^auth\//, kind === 'auth' ? '' : 'auth/'), cell(mounts[path].type), cell(mounts[path].accessor ?? ''), cell(mounts[path].description ?? '')]);
      ctx.print(answer, () => columns(['Path', 'Type', 'Accessor', 'Description'], rows));
    },
  });

  const tune = defineCommand({
    name: `${kind} tune`,
    synopsis: kind === 'auth' ? "Change an auth method's lease TTLs or description" : "Change a secrets engine's lease TTLs or description",
    args: 'PATH',
    description: `POSTs ${base}/<path>/tune with the lease TTLs and description given (0 resets a TTL to the server's default).`,
    example: `$ nomad-api ${kind} tune -default-lease-ttl=1h -max-lease-ttl=24h ${kind === 'auth' ? 'people' : 'secret'}`,
    flags: TTL_FLAGS,
    output: false,
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const path = mountPath(ctx.args[0]!.replace(kind === 'auth' ? /^\/*auth\// : /^$/, ''));
      const body: Record<string, unknown> = ttlConfig(ctx.flags);
      const description = flagString(ctx.flags, 'description');
      if (description !== undefined) body.description = description;
      await ctx.client().request('POST', `${base}/${path}tune`, body);
      ctx.io.stdout(`Success! Tuned the ${noun} at: ${shown(path)}\n`);
    },
  });

  return [enable, disable, list, tune];
}
