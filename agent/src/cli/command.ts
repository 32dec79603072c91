import type { FlagSpec, ParsedFlags } from './args';

export interface CommandContext {
  /** The config file this invocation uses (after --config / defaults). */
  configPath: string;
  /** Whether --config (or PORTWAY_CONFIG) chose it explicitly. */
  configExplicit: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface Command {
  /** Words that select it, e.g. ['route', 'http', 'add']. */
  path: string[];
  summary: string;
  flags: FlagSpec[];
  /** The flag a bare argument fills, e.g. 'domain' for `portway domain add example.com`. */
  positional?: string;
  /** Extra help text after the flags (examples). */
  details?: string;
  run(flags: ParsedFlags, ctx: CommandContext): Promise<number | void>;
}
