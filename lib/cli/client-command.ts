import { ApiError, type Client } from '../client/index.js';
import type { Command, CommandIO } from './command.js';
import { CONNECTION_FLAGS, connect, OUTPUT_FLAGS, outputFormat, resolveToken } from './connect.js';
import { describeFlags, parseFlags, UsageError, type FlagSpec, type ParsedFlags } from './flags.js';
import { describeApiError } from './hints.js';
import { findField, json, rawField, type Output } from './output.js';
import { stdoutIsTty } from './terminal.js';

/**
 * A command that talks to the server: its flags plus the connection (and output) flags, its
 * argument count checked before any request, a usage text generated from the declaration
 * (synopsis, usage, description, flags with defaults, an example), and every client error
 * turned into a cause and a hint with exit 1.
 */

export interface CommandContext {
  args: string[];
  flags: ParsedFlags;
  io: CommandIO;
  env: NodeJS.ProcessEnv;
  /** The client, made on first use (so usage errors never read certificate files). */
  client(): Client;
  out: Output;
  /**
   * Prints a result: -field's raw value, -format=json's indented JSON, or the table `render`
   * makes. A missing -field is an error (exit 1).
   */
  print(body: unknown, render: () => string): void;
}

export interface ClientCommandSpec {
  name: string;
  synopsis: string;
  /** The argument part of the usage line, e.g. `PATH [KEY=VALUE ...]`. */
  args: string;
  description: string;
  example: string;
  flags?: Record<string, FlagSpec>;
  /** Adds -format and -field (default true). */
  output?: boolean;
  minArgs?: number;
  maxArgs?: number;
  run(ctx: CommandContext): Promise<number | void>;
}

/** Thrown by commands for an error that is not the user's typing (exit 1). */
export class CommandError extends Error {
  override name = 'CommandError';
}

function usageText(spec: ClientCommandSpec, own: Record<string, FlagSpec>, output: boolean): string {
  const sections = [`Usage: nomad-api ${spec.name} [flags] ${spec.args}`.trimEnd(), '', `  ${spec.synopsis}.`, '', indent(spec.description)];
  if (Object.keys(own).length > 0) sections.push('', 'Command flags:', '', describeFlags(own));
  if (output) sections.push('', 'Output flags:', '', describeFlags(OUTPUT_FLAGS));
  sections.push('', 'Connection flags:', '', describeFlags(CONNECTION_FLAGS), '', 'Example:', '', indent(spec.example));
  return `${sections.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');
}

function argCountError(spec: ClientCommandSpec, given: number): UsageError | undefined {
  const min = spec.minArgs ?? 0;
  const max = spec.maxArgs ?? Infinity;
  // The arguments themselves are not echoed: one of them may be a token or a key share.
  if (given < min) return new UsageError(`not enough arguments (expected ${min === max ? min : `at least ${min}`}, got ${given})`);
  if (given > max) return new UsageError(`too many arguments (expected ${min === max ? max : `at most ${max}`}, got ${given})`);
  return undefined;
}

export function defineCommand(spec: ClientCommandSpec): Command {
  const own = spec.flags ?? {};
  const output = spec.output ?? true;
  const all = { ...own, ...(output ? OUTPUT_FLAGS : {}), ...CONNECTION_FLAGS };
  return {
    name: spec.name,
    synopsis: spec.synopsis,
    usage: usageText(spec, own, output),
    async run(args, io) {
      const flags = parseFlags(args, all);
      const countError = argCountError(spec, flags.positional.length);
      if (countError) throw countError;
      const out: Output = { format: output ? outputFormat(flags, io.env) : 'table', field: output ? flags.values.field?.at(-1) : undefined, write: io.stdout };
      let client: Client | undefined;
      const ctx: CommandContext = {
        args: flags.positional,
        flags,
        io,
        env: io.env,
        client: () => (client ??= connect(flags, io.env)),
        out,
        print(body, render) {
          if (out.field !== undefined) {
            const found = findField(body, out.field);
            if (!found.found) throw new CommandError(`field "${out.field}" is not present in the answer`);
            io.stdout(rawField(found.value, stdoutIsTty()));
          } else if (out.format === 'json') {
            if (body !== undefined) io.stdout(json(body));
          } else io.stdout(render());
        },
      };
      try {
        return (await spec.run(ctx)) ?? 0;
      } catch (err) {
        if (err instanceof ApiError) {
          io.stderr(describeApiError(err, client?.address ?? '', resolveToken(io.env) !== undefined || client?.token !== undefined));
          return 1;
        }
        if (err instanceof CommandError) {
          io.stderr(`Error: ${err.message}\n`);
          return 1;
        }
        throw err;
      } finally {
        client?.close();
      }
    },
  };
}
