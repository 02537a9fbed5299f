import type { Command } from '../command.js';
import { defineCommand, type CommandContext } from '../client-command.js';
import { flagBool, flagString, UsageError } from '../flags.js';
import { authRows, keyValueTable } from '../output.js';
import { parseData } from '../secret-args.js';
import { promptHidden } from '../terminal.js';
import { tokenHelperPath, writeTokenHelper } from '../token-helper.js';

/**
 * `login`: authenticate with an auth method and keep the token in ~/.nomad-token. The table
 * does not show the token (it went to the file); -no-store shows it, since the user then
 * needs it, and -format=json / -field=token print it as asked.
 */

const METHODS = ['token', 'userpass', 'approle', 'cert'] as const;
type Method = (typeof METHODS)[number];

async function loginBody(ctx: CommandContext, method: Method, path: string): Promise<{ route: string; body: Record<string, unknown> }> {
  const data = await parseData(ctx.args.filter((a) => a.includes('=') || a === '-'));
  switch (method) {
    case 'userpass': {
      const username = data.username;
      if (typeof username !== 'string' || username === '') throw new UsageError('userpass needs username=NAME');
      delete data.username;
      if (data.password === undefined) data.password = await promptHidden('Password (will be hidden): ', 'password=... is required');
      return { route: `auth/${path}/login/${encodeURIComponent(username)}`, body: data };
    }
    case 'approle':
      if (data.role_id === undefined) throw new UsageError('approle needs role_id=ID');
      if (data.secret_id === undefined) data.secret_id = await promptHidden('Secret ID (will be hidden): ', 'secret_id=... is required');
      return { route: `auth/${path}/login`, body: data };
    case 'cert':
      // The TLS client certificate (-client-cert/-client-key) is the credential; name= picks a role.
      return { route: `auth/${path}/login`, body: data };
    case 'token':
      throw new Error('unreachable');
  }
}

export const commands: Command[] = [
  defineCommand({
    name: 'login',
    synopsis: 'Authenticate and store the token in ~/.nomad-token',
    args: '[TOKEN | KEY=VALUE ...]',
    description: `Logs in with an auth method and writes the token to ~/.nomad-token (mode 0600), which
later commands use when NOMAD_TOKEN is unset.
  -method=token     TOKEN as the argument, or typed without echo; checked with lookup-self.
  -method=userpass  username=NAME password=SECRET (the password is prompted for, without
                    echo, when omitted and stdin is a terminal).
  -method=approle   role_id=ID secret_id=SECRET.
  -method=cert      the TLS client certificate given by -client-cert and -client-key.
The table shows the accessor, TTL and policies but not the token (it is in the file);
-no-store prints it instead of storing it.`,
    example: '$ nomad-api login -method=userpass username=alice\nPassword (will be hidden):',
    flags: {
      method: { type: 'string', description: `The auth method: ${METHODS.join(', ')}.`, default: 'token' },
      path: { type: 'string', description: "The method's mount path under auth/ (default: the method's name)." },
      'no-store': { type: 'bool', description: 'Do not write ~/.nomad-token; print the token instead.', default: 'false' },
    },
    async run(ctx) {
      const method = (flagString(ctx.flags, 'method') ?? 'token') as Method;
      if (!METHODS.includes(method)) throw new UsageError(`-method must be one of ${METHODS.join(', ')}`);
      const path = (flagString(ctx.flags, 'path') ?? method).replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');
      const client = ctx.client();
      let answer: any;
      let token: string;
      if (method === 'token') {
        if (ctx.args.length > 1) throw new UsageError('-method=token takes one TOKEN argument');
        token = ctx.args[0] ?? (await promptHidden('Token (will be hidden): ', 'a token is required'));
        const lookup: any = await client.request('GET', 'auth/token/lookup-self', undefined, { token });
        const data = lookup?.data ?? {};
        answer = { ...lookup, data: { ...data, id: '' }, auth: { client_token: token, accessor: data.accessor, lease_duration: data.ttl, renewable: data.renewable, policies: data.policies, metadata: data.meta ?? {} } };
      } else {
        if (ctx.args.some((a) => !a.includes('=') && a !== '-')) throw new UsageError(`-method=${method} takes KEY=VALUE arguments`);
        const { route, body } = await loginBody(ctx, method, path);
        answer = await client.request('POST', route, body, { token: null });
        token = answer?.auth?.client_token;
        if (typeof token !== 'string' || token === '') throw new Error('the server answered the login without a token');
      }
      const noStore = flagBool(ctx.flags, 'no-store');
      if (!noStore) writeTokenHelper(ctx.env, token);
      if (ctx.env.NOMAD_TOKEN && !noStore) ctx.io.stderr('WARNING! NOMAD_TOKEN is set: later commands use it, not the token just stored.\n');
      ctx.print(answer, () => {
        const where = noStore ? 'The token was not stored (-no-store).' : `The token is stored in ${tokenHelperPath(ctx.env)}; later commands use it.`;
        return `Success! You are now authenticated. ${where}\n\n${keyValueTable(authRows(answer.auth, noStore))}`;
      });
    },
  }),
];
