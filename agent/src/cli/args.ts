/** A small declarative flag parser: every command lists its flags once, and help comes from them. */

export interface FlagSpec {
  name: string;
  type: 'string' | 'port' | 'boolean';
  description: string;
  placeholder?: string;
  required?: boolean;
}

export type ParsedFlags = Record<string, string | number | boolean | undefined>;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `positional`: the string flag a bare argument fills (`portway domain add example.com`). */
export function parseFlags(tokens: string[], specs: FlagSpec[], positional?: string): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags: ParsedFlags = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!token.startsWith('--') && positional !== undefined && flags[positional] === undefined) {
      flags[positional] = token;
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
    if (spec.type === 'port') {
      const port = Number(value);
      if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new UsageError(`--${name} must be a port number from 1 to 65535 (got "${value}")`);
      flags[name] = port;
    } else {
      flags[name] = value;
    }
  }
  for (const spec of specs) {
    if (spec.required && flags[spec.name] === undefined) throw new UsageError(`--${spec.name} is required`);
  }
  return flags;
}

export function flagHelp(specs: FlagSpec[]): string {
  const rows = specs.map((s) => [`--${s.name}${s.type === 'boolean' ? '' : ` ${s.placeholder ?? s.name.toUpperCase()}`}`, s.description + (s.required ? ' (required)' : '')]);
  const width = Math.max(0, ...rows.map((r) => r[0].length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join('\n');
}
