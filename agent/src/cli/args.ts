/** A small declarative flag parser: every command lists its flags once, and help comes from them. */
import { UsageError } from '../config/usage-error';

export interface FlagSpec {
  name: string;
  type: 'string' | 'port' | 'boolean';
  description: string;
  placeholder?: string;
  required?: boolean;
}

export type ParsedFlags = Record<string, string | number | boolean | undefined>;


/** `positional`: the flag a bare argument fills (`portway domain add example.com`, `portway http 3000`). */
export function parseFlags(tokens: string[], specs: FlagSpec[], positional?: string): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags: ParsedFlags = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token.startsWith('--') && positional !== undefined && flags[positional] === undefined) {
      const spec = byName.get(positional);
      flags[positional] = spec ? flagValue(spec, token, positional.toUpperCase()) : token;
      continue;
    }
    if (!token.startsWith('--')) throw new UsageError(`unexpected argument "${token}"`);
    const eq = token.indexOf('=');
    const name = eq > 0 ? token.slice(2, eq) : token.slice(2);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = eq > 0 ? token.slice(eq + 1) : tokens[++i];
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    flags[name] = flagValue(spec, value, `--${name}`);
  }
  for (const spec of specs) {
    if (spec.required && flags[spec.name] === undefined) throw new UsageError(`${spec.name === positional ? spec.name.toUpperCase() : `--${spec.name}`} is required`);
  }
  return flags;
}

/** A string or port flag's value, checked; `label` names it in errors (--http, or PORT when bare). */
function flagValue(spec: FlagSpec, value: string, label: string): string | number {
  if (spec.type !== 'port') return value;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`${label} must be a port number from 1 to 65535 (got "${value}")`);
  return port;
}

export function flagHelp(specs: FlagSpec[]): string {
  const rows = specs.map((s) => [`--${s.name}${s.type === 'boolean' ? '' : ` ${s.placeholder ?? s.name.toUpperCase()}`}`, s.description + (s.required ? ' (required)' : '')]);
  const width = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join('\n');
}
