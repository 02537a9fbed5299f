import { didYouMean } from './suggest.js';

/**
 * Vault-style flags: `-name=value`, `-name value`, `--name=value`, and bare booleans
 * (`-dev`). Everything after the flags (or after `--`) is a positional argument.
 */

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  /** `string` flags take a value; `bool` flags may be given bare or as `-x=false`. */
  type: 'string' | 'bool';
  repeatable?: boolean;
  description: string;
  /** Shown in help as the default (documentation only: commands apply their defaults). */
  default?: string;
}

export interface ParsedFlags {
  values: Record<string, string[]>;
  positional: string[];
}

export function parseFlags(args: string[], specs: Record<string, FlagSpec>): ParsedFlags {
  const values: Record<string, string[]> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const spec = specs[name];
    if (!spec) throw new UsageError(`unknown flag -${name}${didYouMean(name, Object.keys(specs), '-')}`);
    let value: string;
    if (eq !== -1) value = body.slice(eq + 1);
    else if (spec.type === 'bool') value = 'true';
    else {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`flag -${name} needs a value`);
      value = next;
      i++;
    }
    if (spec.type === 'bool' && !['true', 'false', '1', '0'].includes(value)) throw new UsageError(`flag -${name} takes true or false`);
    if (values[name] && !spec.repeatable) throw new UsageError(`flag -${name} given twice`);
    (values[name] ??= []).push(value);
  }
  return { values, positional };
}

export function flagString(flags: ParsedFlags, name: string): string | undefined {
  return flags.values[name]?.at(-1);
}

export function flagBool(flags: ParsedFlags, name: string): boolean {
  const value = flagString(flags, name);
  return value === 'true' || value === '1';
}

export function describeFlags(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const shown = spec.default === undefined ? '' : ` (default: ${spec.default})`;
      return `  -${name}${spec.type === 'string' ? '=<value>' : ''}${shown}\n      ${spec.description}`;
    })
    .join('\n\n');
}
