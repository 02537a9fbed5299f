import { ApiError } from '../errors.js';
import { defineBackend, type Backend, type BackendContext } from '../framework/backend.js';
import { FieldData, type FieldSchemas } from '../framework/fields.js';
import type { BackendRequest, Response } from '../core/request.js';
import { createSerialQueue } from '../serial.js';
import { hashPassword, MalformedPasswordHashError, verifyAgainstDummy, verifyPassword } from '../crypto/password-hash.js';
import { checkLoginRenewal, EMPTY_TOKEN_PARAMS, loginOf, showTokenParams, tokenFieldSchemas, tokenParamsFrom, type TokenParams } from './token-params.js';
import { deleteUser, listUsers, loginNameOf, readUser, userExists, usernameOf, writeUser, type UserRecord } from './userpass-users.js';

/**
 * Username and password logins (api.md §10): users are created by an operator with a
 * password and token settings; `login/<username>` with the right password answers who
 * logged in, and the pipeline makes the token (core/login.ts). Passwords are kept only as
 * scrypt hashes. An unknown user and a wrong password get the same status, the same body
 * and the same scrypt work, so neither the answer nor its timing tells which usernames exist.
 */

const INVALID_LOGIN = 'invalid username or password';

const usernameField: FieldSchemas = { username: { type: 'string', description: 'The username (case-insensitive: stored lower-cased).' } };
const passwordField: FieldSchemas = { password: { type: 'string', description: 'The password (a non-empty string); stored only as an scrypt hash.' } };
const policyFields: FieldSchemas = { token_policies: tokenFieldSchemas.token_policies!, policies: tokenFieldSchemas.policies! };

/**
 * The password as sent: a non-empty string. Checked on the raw body, because the declared
 * string field would turn a number or a boolean into one.
 */
function passwordOf(req: BackendRequest, fields: FieldData, required: boolean): string | undefined {
  if (!fields.has('password')) {
    if (required) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'password'");
    return undefined;
  }
  const password = req.data.password;
  if (typeof password !== 'string') throw new ApiError('ERR_INVALID_FIELD', "field 'password' must be a string");
  if (password === '') throw new ApiError('ERR_MISSING_FIELD', "field 'password' must not be empty");
  return password;
}

function usernameIn(fields: FieldData): string {
  return usernameOf(fields.get<string>('username'));
}

export function createUserpassBackend(ctx: BackendContext): Backend {
  // Read-modify-write of a user record (partial updates) must not race another write.
  const serial = createSerialQueue();

  /** Changes a stored user under the queue: `change` gets the current record (null when none) and answers the new one. */
  const changeUser = (req: BackendRequest, username: string, change: (current: UserRecord | null) => Promise<UserRecord>): Promise<null> =>
    serial(async () => {
      const next = await change(await readUser(req.storage, username));
      await writeUser(req.storage, username, next);
      return null;
    });

  const existingUser = (current: UserRecord | null, username: string): UserRecord => {
    if (current === null) throw new ApiError('ERR_NOT_FOUND', `no user named '${username}'`);
    return current;
  };

  const writeUserEntry = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const username = usernameIn(fields);
    const password = passwordOf(req, fields, false);
    // Every field is checked before the (slow) hash, so a bad request costs no scrypt work,
    // and the hash is made outside the queue, so it holds up no other write.
    tokenParamsFrom(fields);
    const newHash = password === undefined ? undefined : await hashPassword(password);
    return changeUser(req, username, async (current) => {
      if (current === null && newHash === undefined) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'password'");
      return { passwordHash: newHash ?? current!.passwordHash, token: tokenParamsFrom(fields, current?.token ?? EMPTY_TOKEN_PARAMS) };
    });
  };

  const readUserEntry = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const user = await readUser(req.storage, usernameIn(fields));
    // The token settings only: never the hash, nor anything derived from it.
    return user === null ? null : { data: showTokenParams(user.token) };
  };

  const deleteUserEntry = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const username = usernameIn(fields);
    await serial(() => deleteUser(req.storage, username));
    return null;
  };

  const list = async (req: BackendRequest): Promise<Response | null> => {
    const keys = await listUsers(req.storage);
    return keys.length === 0 ? null : { data: { keys } };
  };

  const changePassword = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const username = usernameIn(fields);
    const passwordHash = await hashPassword(passwordOf(req, fields, true)!);
    return changeUser(req, username, async (current) => ({ ...existingUser(current, username), passwordHash }));
  };

  const changePolicies = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const username = usernameIn(fields);
    if (!fields.has('token_policies') && !fields.has('policies')) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'token_policies' (or 'policies')");
    return changeUser(req, username, async (current) => {
      const user = existingUser(current, username);
      // Only the policies change: the shared parser sees the policy fields alone, so the
      // other settings are kept whatever else the body holds.
      const only = new FieldData(policyFields, { token_policies: req.data.token_policies, policies: req.data.policies });
      const token: TokenParams = { ...user.token, policies: tokenParamsFrom(only, user.token).policies };
      return { ...user, token };
    });
  };

  /** Whether the stored hash matches; a hash that cannot be read counts as a mismatch, after the same work. */
  const passwordMatches = async (username: string, password: string, user: UserRecord): Promise<boolean> => {
    try {
      return await verifyPassword(password, user.passwordHash);
    } catch (err) {
      if (!(err instanceof MalformedPasswordHashError)) throw err;
      ctx.system.logger.warn('userpass: a stored password hash is unusable; the login is refused', { mount: ctx.mountPoint, username, reason: err.message });
      return verifyAgainstDummy(password);
    }
  };

  const login = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const password = passwordOf(req, fields, true)!;
    const username = loginNameOf(fields.get<string>('username'));
    const user = username === undefined ? null : await readUser(req.storage, username);
    // No such user: the same scrypt work as a wrong password, then the same answer.
    const ok = user === null ? await verifyAgainstDummy(password) : await passwordMatches(username!, password, user);
    if (!ok) throw new ApiError('ERR_INVALID_CREDENTIALS', INVALID_LOGIN);
    return { data: null, login: loginOf(user!.token, { displayName: username!, metadata: { username: username! } }) };
  };

  return defineBackend({
    type: 'userpass',
    help: `The userpass auth method logs users in with a username and a password. An operator
creates users (users/<username>) with a password and the settings of the tokens they get;
a user logs in with POST login/<username> {"password": "..."} and no token. Passwords are
stored only as scrypt hashes; usernames are case-insensitive.`,
    unauthenticated: ['login/*'],
    renewLogin: async (login) => {
      const name = loginNameOf(login.metadata.username ?? '');
      const user = name === undefined ? null : await readUser(ctx.storage, name);
      checkLoginRenewal(user?.token ?? null, login, 'user');
    },
    paths: [
      {
        pattern: 'users',
        operations: { list },
        synopsis: 'List the users.',
        description: `LIST (or GET with ?list=true) answers {"keys": [...]} with every username, and 404
when there is none.`,
      },
      {
        pattern: 'users/:username',
        fields: { ...usernameField, ...passwordField, ...tokenFieldSchemas },
        operations: { create: writeUserEntry, update: writeUserEntry, read: readUserEntry, delete: deleteUserEntry },
        existenceCheck: async (req, fields) => {
          const username = loginNameOf(fields.get<string>('username'));
          return username !== undefined && (await userExists(req.storage, username));
        },
        synopsis: 'Create, update, read or delete a user.',
        description: `POST/PUT creates the user (password required) or updates it (every field optional;
fields not sent keep their value); answers 204. GET answers the token settings (never
the password or its hash). DELETE removes the user and answers 204 even when there was
none; tokens already issued stay valid until they expire or are revoked.`,
      },
      {
        pattern: 'users/:username/password',
        fields: { ...usernameField, password: { ...passwordField.password!, required: true } },
        operations: { update: changePassword },
        // Always a change of an existing user: the ACL asks for `update`.
        existenceCheck: async () => true,
        synopsis: "Change a user's password.",
        description: `POST/PUT {"password": "..."} replaces the password (the old one stops working at once)
and answers 204; the other settings are kept. 404 when there is no such user.`,
      },
      {
        pattern: 'users/:username/policies',
        fields: { ...usernameField, ...policyFields },
        operations: { update: changePolicies },
        existenceCheck: async () => true,
        synopsis: "Change a user's token policies.",
        description: `POST/PUT {"token_policies": [...]} (or the older "policies"; a list or a comma-separated
string) replaces the policies of the user's future tokens and answers 204; the other
settings are kept. 404 when there is no such user.`,
      },
      {
        pattern: 'login/:username',
        fields: { ...usernameField, password: { ...passwordField.password!, required: true } },
        operations: { update: login },
        synopsis: 'Log in with a username and a password.',
        description: `POST/PUT {"password": "..."} with no token. Success answers the "auth" block (the new
token, its policies, metadata {"username"}, lease_duration, renewable) and sets the
token cookie. An unknown user and a wrong password both answer 400 "${INVALID_LOGIN}".`,
      },
    ],
  });
}
