import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request } from '../../lib/core/request.js';
import { ApiError, type ErrorCode } from '../../lib/errors.js';
import { parseJsonObject } from '../../lib/http/body.js';
import type { JsonLimits } from '../../lib/http/json-limits.js';
import { startCore, type TestCore } from '../helpers/core.js';

/**
 * Every 400 has a code of its own (lib/errors.ts): one representative failure of each,
 * through the core's pipeline (no HTTP), with its status and its unchanged message.
 */

const LIMITS: JsonLimits = { maxDepth: 4, maxStringLength: 8, maxObjectEntries: 3, maxArrayElements: 3 };

interface Refusal {
  code: ErrorCode;
  status: number;
  message: string;
}

async function refusal(attempt: Promise<unknown> | (() => unknown)): Promise<Refusal> {
  try {
    await (typeof attempt === 'function' ? attempt() : attempt);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const { code, status, message } = err as ApiError;
    return { code, status, message };
  }
  throw new Error('expected a refusal');
}

describe('the code of each kind of 400', () => {
  let t: TestCore;
  const root = (): string => t.rootToken;
  const send = (operation: Request['operation'], path: string, data: Record<string, unknown> = {}, query: Record<string, string> = {}) =>
    t.core.handleRequest({ id: 'codes', operation, path, data, query, clientToken: root(), remoteAddress: '127.0.0.1' });

  beforeAll(async () => {
    t = await startCore();
  });
  afterAll(async () => {
    await t.core.seal();
  });

  it('ERR_MISSING_FIELD: a required field is absent', async () => {
    expect(await refusal(send('update', 'sys/policy/p'))).toEqual({
      code: 'ERR_MISSING_FIELD', status: 400, message: "missing required field 'policy' (or 'rules')",
    });
    expect(await refusal(send('update', 'secret/empty'))).toEqual({ code: 'ERR_MISSING_FIELD', status: 400, message: 'missing data fields' });
    expect(await refusal(send('update', 'sys/rekey/init', { secret_shares: 1 }))).toEqual({
      code: 'ERR_MISSING_FIELD', status: 400, message: "missing required field 'secret_threshold'",
    });
  });

  it('ERR_INVALID_FIELD: a field of the wrong type or format', async () => {
    expect(await refusal(send('update', 'auth/token/create', { num_uses: 'many' }))).toEqual({
      code: 'ERR_INVALID_FIELD', status: 400, message: "field 'num_uses' must be an integer",
    });
    expect(await refusal(send('update', 'auth/token/create', { ttl: 'soon' }))).toMatchObject({ code: 'ERR_INVALID_FIELD', status: 400 });
  });

  it('ERR_INVALID_JSON: a body that is not a JSON object', async () => {
    expect(await refusal(() => parseJsonObject(Buffer.from('{"a":'), LIMITS))).toMatchObject({ code: 'ERR_INVALID_JSON', status: 400 });
    expect(await refusal(() => parseJsonObject(Buffer.from('[1]'), LIMITS))).toEqual({
      code: 'ERR_INVALID_JSON', status: 400, message: 'the request body must be a JSON object',
    });
    expect(await refusal(() => parseJsonObject(Buffer.from('{"a":"123456789"}'), LIMITS))).toMatchObject({ code: 'ERR_INVALID_JSON', status: 400 });
  });

  it('ERR_INVALID_PATH: a secret path ending in "/", a key storage refuses', async () => {
    expect(await refusal(send('update', 'secret/folder/', { v: 1 }))).toEqual({
      code: 'ERR_INVALID_PATH', status: 400, message: 'a secret path must not end in "/"',
    });
    expect(await refusal(send('read', `secret/${'x'.repeat(8192)}`))).toMatchObject({ code: 'ERR_INVALID_PATH', status: 400 });
  });

  it('ERR_INVALID_QUERY: a query parameter the route does not accept', async () => {
    expect(await refusal(send('read', 'sys/health', {}, { activecode: '42' }))).toEqual({
      code: 'ERR_INVALID_QUERY', status: 400, message: 'activecode must be an HTTP status code between 200 and 599',
    });
  });

  it('ERR_INVALID_MOUNT: the mount table refuses', async () => {
    expect(await refusal(send('update', 'sys/mounts/secret/inner', { type: 'kv' }))).toEqual({
      code: 'ERR_INVALID_MOUNT', status: 400, message: "cannot mount at 'secret/inner/': it overlaps the existing mount 'secret/'",
    });
    expect(await refusal(send('update', 'sys/mounts/other', { type: 'no-such-engine' }))).toMatchObject({ code: 'ERR_INVALID_MOUNT', status: 400 });
  });

  it('ERR_INVALID_POLICY: a policy that does not parse, or the root policy', async () => {
    expect(await refusal(send('update', 'sys/policy/p', { policy: 'path "a" {' }))).toMatchObject({ code: 'ERR_INVALID_POLICY', status: 400 });
    expect(await refusal(send('update', 'sys/policy/root', { policy: 'path "a" { capabilities = ["read"] }' }))).toEqual({
      code: 'ERR_INVALID_POLICY', status: 400, message: 'cannot update the root policy',
    });
  });

  it('ERR_INVALID_TOKEN_PARAMS: a token that cannot be created as asked', async () => {
    expect(await refusal(send('update', 'auth/token/create', { type: 'batch' }))).toEqual({
      code: 'ERR_INVALID_TOKEN_PARAMS', status: 400, message: "token type 'batch' is not supported: only service tokens exist",
    });
    expect(await refusal(send('update', 'auth/token/create', { num_uses: -1 }))).toEqual({
      code: 'ERR_INVALID_TOKEN_PARAMS', status: 400, message: 'num_uses cannot be negative',
    });
  });

  it('ERR_NOT_RENEWABLE: renewing what does not renew', async () => {
    expect(await refusal(send('update', 'auth/token/renew-self'))).toEqual({
      code: 'ERR_NOT_RENEWABLE', status: 400, message: 'the token is not renewable',
    });
  });

  it('ERR_REKEY: a rekey step that does not fit the rekey state', async () => {
    expect(await refusal(send('update', 'sys/rekey/update', { key: t.unsealKey, nonce: 'n' }))).toEqual({
      code: 'ERR_REKEY', status: 400, message: 'no rekey is in progress',
    });
  });

  it('ERR_INVALID_CREDENTIALS: a login whose credentials prove nothing', async () => {
    await send('update', 'sys/auth/approle-codes', { type: 'approle' });
    expect(await refusal(send('update', 'auth/approle-codes/login', { role_id: 'no-such-role', secret_id: 'x' }))).toEqual({
      code: 'ERR_INVALID_CREDENTIALS', status: 400, message: 'invalid role_id or secret_id',
    });
  });

  it('ERR_ALREADY_UNSEALED: resetting the unseal progress of an unsealed nomad', async () => {
    expect(await refusal(send('update', 'sys/unseal', { reset: true }))).toEqual({
      code: 'ERR_ALREADY_UNSEALED', status: 400, message: 'nomad is already unsealed',
    });
  });

  it('ERR_INVALID_CREDENTIALS: a login with a wrong password, or for an unknown user', async () => {
    await send('update', 'sys/auth/userpass', { type: 'userpass' });
    await send('update', 'auth/userpass/users/ann', { password: 'right' });
    const wrong = await refusal(send('update', 'auth/userpass/login/ann', { password: 'wrong' }));
    expect(wrong).toEqual({ code: 'ERR_INVALID_CREDENTIALS', status: 400, message: 'invalid username or password' });
    expect(await refusal(send('update', 'auth/userpass/login/nobody', { password: 'wrong' }))).toEqual(wrong);
  });
});
