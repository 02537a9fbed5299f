import { ApiError } from '../../errors.js';
import { defineBackend, type Backend, type BackendContext } from '../../framework/backend.js';
import type { FieldData, FieldSchemas } from '../../framework/fields.js';
import type { BackendRequest, Response } from '../../core/request.js';
import { createSerialQueue } from '../../serial.js';
import { checkLoginRenewal, loginOf, showTokenParams, tokenFieldSchemas, tokenParamsFrom, EMPTY_TOKEN_PARAMS } from '../token-params.js';
import { certName, deleteRecord, listNames, readRecord, trustedCerts, writeRecord, type CertRecord } from './store.js';
import { certMetadata, parsePem, verifyClientCertificate } from './verify.js';

/**
 * TLS client certificate auth (api.md §10, `cert`): operators register CA or leaf
 * certificates with token settings; a client logs in with the certificate it presented at
 * its TLS handshake, which this backend verifies itself (the listener only requests it,
 * api.md §1). Verification is in verify.ts; this file is the paths.
 */

const certFields: FieldSchemas = {
  name: { type: 'string', description: 'Name of the registered certificate (case-insensitive).' },
  certificate: { type: 'string', description: 'One PEM certificate: a CA whose signed certificates may log in, or a leaf that may log in as itself. Required on create.' },
  allowed_common_names: { type: 'strings', description: 'Common names a logging-in certificate may have; `*` matches any run of characters. Empty allows any.' },
  allowed_dns_sans: { type: 'strings', description: 'DNS names (subjectAltName) of which a logging-in certificate must have one; globs as above, case-insensitive. Empty allows any.' },
  display_name: { type: 'string', description: "The tokens' display name; the certificate's name when empty." },
  ...tokenFieldSchemas,
};

function showRecord(record: CertRecord): Record<string, unknown> {
  return {
    certificate: record.certificate,
    display_name: record.displayName,
    allowed_common_names: record.allowedCommonNames,
    allowed_dns_sans: record.allowedDnsSans,
    ...showTokenParams(record.token),
  };
}

function patternsOf(fields: FieldData, name: string, stored: string[]): string[] {
  if (!fields.has(name)) return stored;
  return fields.get<string[]>(name).filter((pattern) => pattern !== '');
}

export function createCertBackend(ctx: BackendContext): Backend {
  // Updates read, change and write back a record: one at a time, so none is lost.
  const writes = createSerialQueue();

  const write = (req: BackendRequest, fields: FieldData): Promise<Response | null> =>
    writes(async () => {
      const name = certName(fields.get<string>('name'));
      const stored = await readRecord(req.storage, name);
      let certificate = stored?.certificate;
      if (fields.has('certificate')) {
        certificate = fields.get<string>('certificate');
        parsePem(certificate, 'certificate');
      }
      if (certificate === undefined) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'certificate'");
      // Everything is validated before anything is written: a bad field leaves the record as it was.
      const record: CertRecord = {
        certificate,
        displayName: fields.has('display_name') ? fields.get<string>('display_name') : (stored?.displayName ?? ''),
        allowedCommonNames: patternsOf(fields, 'allowed_common_names', stored?.allowedCommonNames ?? []),
        allowedDnsSans: patternsOf(fields, 'allowed_dns_sans', stored?.allowedDnsSans ?? []),
        token: tokenParamsFrom(fields, stored?.token ?? EMPTY_TOKEN_PARAMS),
      };
      await writeRecord(req.storage, name, record);
      return null;
    });

  const login = async (req: BackendRequest, fields: FieldData): Promise<Response> => {
    if (req.tls === undefined) throw new ApiError('ERR_INVALID_REQUEST', 'cert login needs a TLS connection');
    const leaf = req.tls.peerCertificate;
    if (leaf === undefined) throw new ApiError('ERR_INVALID_REQUEST', 'no client certificate was presented at the TLS handshake');
    const only = fields.has('name') && fields.get<string>('name') !== '' ? certName(fields.get<string>('name')) : undefined;
    const candidates = await trustedCerts(req.storage, only);
    const { match, leaf: parsed } = verifyClientCertificate(
      { leaf, chain: req.tls.peerChain ?? [], resumed: req.tls.sessionResumed },
      candidates.map((c) => c.entry),
      ctx.system.now(),
    );
    const record = candidates.find((c) => c.entry === match)!.record;
    return {
      data: null,
      login: loginOf(record.token, { displayName: record.displayName || match.name, metadata: certMetadata(parsed, match.name) }),
    };
  };

  return defineBackend({
    type: 'cert',
    help: `The cert auth method logs clients in with the TLS client certificate they presented
at the handshake. Register CA certificates (whose signed certificates may log in) or leaf
certificates (which log in as themselves) under certs/<name>, with the token settings a
login through them gets; then POST login over TLS with the client certificate.`,
    unauthenticated: ['login'],
    // The registration the login matched must still exist and grant the same policies.
    renewLogin: async (login, storage) => {
      const record = login.metadata.cert_name ? await readRecord(storage, login.metadata.cert_name) : null;
      checkLoginRenewal(record?.token ?? null, login, 'certificate');
    },
    paths: [
      {
        pattern: 'certs/:name',
        fields: certFields,
        operations: {
          read: async (req, fields) => {
            const record = await readRecord(req.storage, certName(fields.get<string>('name')));
            return record === null ? null : { data: showRecord(record) };
          },
          create: write,
          update: write,
          delete: async (req, fields) => {
            const name = certName(fields.get<string>('name'));
            await writes(() => deleteRecord(req.storage, name));
            return null;
          },
        },
        existenceCheck: async (req, fields) => (await readRecord(req.storage, certName(fields.get<string>('name')))) !== null,
        synopsis: 'Register, read, update or delete a trusted certificate.',
        description: `A write registers a CA or leaf certificate (PEM, required when creating) with the
token settings of logins through it and optional name constraints (allowed_common_names,
allowed_dns_sans, globs with "*"); fields left out of an update keep their value. A read
shows the certificate and its settings; a delete removes it (204 even when missing).`,
      },
      {
        pattern: 'certs',
        operations: {
          list: async (req) => {
            const keys = await listNames(req.storage);
            return keys.length === 0 ? null : { data: { keys } };
          },
        },
        synopsis: 'List the registered certificates.',
        description: 'Answers {"keys": [...]} with the names of the registered certificates; 404 when there are none.',
      },
      {
        pattern: 'login',
        fields: { name: { type: 'string', description: 'Only try the registered certificate of this name.' } },
        operations: { update: login },
        synopsis: 'Log in with the TLS client certificate.',
        description: `Needs a TLS connection on which the client presented a certificate. The certificate
must be within its validity dates, usable for client authentication (extended key usage
clientAuth and key usage digitalSignature, when it has those extensions), and either be a
registered certificate itself or be signed by a registered CA, directly or through
intermediates the client presented; then it must meet that registration's name
constraints. The token gets the registration's settings; its metadata names the
certificate (cert_name, common_name, serial_number, subject_key_id, authority_key_id).`,
      },
    ],
  });
}
