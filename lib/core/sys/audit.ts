import type { AuditEntry } from '../../audit/table.js';
import { normalizeAuditPath } from '../../audit/table.js';
import { ApiError } from '../../errors.js';
import type { PathSpec } from '../../framework/backend.js';
import type { CoreServices } from '../services.js';
import { sysData } from './respond.js';

/**
 * Audit devices (api.md §13): `sys/audit` (list), `sys/audit/<path>` (enable, disable),
 * `sys/audit-hash/<path>` (what a value looks like in that device's log), and
 * `sys/audit-chain/<path>` (the device's chain key and last line, for `nomad-api audit
 * verify`). All but audit-hash need root or sudo (sys backend's root paths).
 */

function describe(entry: AuditEntry): Record<string, unknown> {
  const { write_timeout, ...options } = entry.options;
  return {
    type: entry.type,
    description: entry.description,
    options: { ...options, write_timeout },
    path: entry.path,
    local: false,
  };
}

const pathField = { path: { type: 'string', description: 'The audit device path, e.g. "file" (a trailing / is added).' } } as const;

export function auditPaths(core: CoreServices): PathSpec[] {
  const existing = (raw: string): AuditEntry => {
    const path = normalizeAuditPath(raw);
    const entry = core.audit.entry(path);
    if (entry === undefined) throw new ApiError('ERR_INVALID_PATH', `no audit device is enabled at '${path}'`);
    return entry;
  };
  return [
    {
      pattern: 'audit',
      operations: {
        read: async () => {
          const out: Record<string, unknown> = {};
          for (const entry of core.audit.entries()) out[entry.path] = describe(entry);
          return sysData(out);
        },
      },
      synopsis: 'List the enabled audit devices.',
      description: `Answers each device by its path ("file/"): type, description, options (file_path, log_raw,
hmac_accessor, mode, write_timeout) and path. Salts and keys are never listed. Needs root or sudo.`,
    },
    {
      pattern: 'audit/*path',
      fields: {
        ...pathField,
        type: { type: 'string', description: 'The device type: only "file".' },
        description: { type: 'string', description: 'Free text shown in the listing.' },
        options: {
          type: 'any',
          description: `The file device's options: file_path (a file path, or "stdout"; required), log_raw (default
false: write values unhashed), hmac_accessor (default true: hash token accessors too), mode (octal
permission bits, default "0600"; "0" leaves them), write_timeout (default "5s": a write that takes
longer fails, and with it the request when no other device recorded it).`,
        },
        local: { type: 'bool', description: 'Accepted for Vault compatibility.' },
      },
      operations: {
        update: async (_req, fields) => {
          await core.audit.enable(fields.get<string>('path'), {
            type: fields.get('type'),
            description: fields.get('description'),
            options: fields.get('options'),
          });
          return null;
        },
        delete: async (_req, fields) => {
          await core.audit.disable(fields.get<string>('path'));
          return null;
        },
      },
      synopsis: 'Enable (POST/PUT) or disable (DELETE) an audit device.',
      description: `POST {"type":"file","description","options":{"file_path", …}} enables a device: the file is opened
(and created, mode 0600) at once, and a file that cannot be opened is a 400 with nothing enabled.
From then on every request is written before it runs and its response after; a request no device
can record is refused with 500 and not run. DELETE disables the device. Needs root or sudo.`,
    },
    {
      pattern: 'audit-hash/*path',
      fields: {
        ...pathField,
        input: { type: 'string', description: 'The value to hash as the device would.', required: true },
      },
      operations: {
        update: async (_req, fields) => {
          const entry = existing(fields.get<string>('path'));
          const device = core.audit.broker.get(entry.path)!;
          return sysData({ hash: device.hash(fields.get<string>('input')) });
        },
      },
      synopsis: "Hash a value with an audit device's salt.",
      description: `POST {"input":"…"} answers {"hash":"hmac-sha256:<hex>"}, the form the value takes in that device's
log: a way to find a known value (a token, a secret) in the log without the log ever holding it.`,
    },
    {
      pattern: 'audit-chain/*path',
      fields: pathField,
      operations: {
        read: async (_req, fields) => {
          const entry = existing(fields.get<string>('path'));
          const head = core.audit.broker.get(entry.path)!.head();
          return sysData({ key: entry.chainKey, seq: head.seq, chain: head.chain });
        },
      },
      synopsis: "Read an audit device's chain key and last line, for offline verification.",
      description: `Answers key (hex: the HMAC key of the line chain; not the salt of the hashed values), and seq
and chain of the last line the device wrote. "nomad-api audit verify -key=<key> FILE…" checks a log
with it; with the last seq and chain it also tells when lines were removed from the end.
Needs root or sudo.`,
    },
  ];
}
