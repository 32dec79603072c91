import { ConfigFileError, locateConfig } from '../config/config-file';
import { DestinationError } from '../config/destination';
import { RelayUrlError } from '../tunnel/relay-url';
import { RelayRefusedError } from '../tunnel/relay-connection';
import { UsageError } from '../config/usage-error';
import { flagHelp, parseFlags } from './args';
import type { Command, CommandContext } from './command';
import { AGENT_VERSION } from '../version';

const GLOBAL_HELP = `  --config FILE  config file (default ~/.portway/config.json, else /etc/portway/config.json)
  -h, --help     show help`;

function commandHelp(command: Command): string {
  const flags = flagHelp(command.flags);
  const bare = command.positional ? ` ${command.positional.toUpperCase()}` : '';
  return [`Usage: portway ${command.path.join(' ')}${bare} [options]`, '', command.summary, '', 'Options:', flags, GLOBAL_HELP, command.details ? `\n${command.details}` : '']
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
}

function overallHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return [
    `portway ${AGENT_VERSION}: share local ports through your own Portway relay`,
    '',
    'Usage: portway [--config FILE] <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    GLOBAL_HELP,
    '',
    'Run `portway <command> --help` for the options of a command.',
  ].join('\n');
}

/** Picks the command by its leading words and runs it; returns the exit code. */
export async function runCli(argv: string[], commands: Command[]): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const err = (line: string) => process.stderr.write(line + '\n');
  let configPath: string | undefined;
  let wantsHelp = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--config') {
      configPath = argv[++i];
      if (!configPath) return usage(err, '--config needs a file path');
    } else if (token.startsWith('--config=')) configPath = token.slice('--config='.length);
    else if (token === '--help' || token === '-h') wantsHelp = true;
    else if (token === '--version') return out(AGENT_VERSION), 0;
    else rest.push(token);
  }
  const words: string[] = [];
  for (const token of rest) {
    if (token.startsWith('-')) break;
    words.push(token);
  }
  const command = commands
    .filter((c) => c.path.every((w, i) => words[i] === w))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!command) {
    if (words.length === 0) {
      (wantsHelp ? out : err)(overallHelp(commands));
      return wantsHelp ? 0 : 2;
    }
    const partial = commands.filter((c) => words.every((w, i) => c.path[i] === w));
    if (partial.length > 0 && wantsHelp) return out(overallHelp(partial)), 0;
    return usage(err, `unknown command "${words.join(' ')}"${partial.length ? `; try: ${partial.map((c) => c.path.join(' ')).join(', ')}` : ' (see portway --help)'}`);
  }
  if (wantsHelp) return out(commandHelp(command)), 0;
  const ctx: CommandContext = {
    configPath: locateConfig(configPath),
    configExplicit: Boolean(configPath ?? process.env.PORTWAY_CONFIG),
    out,
    err,
  };
  try {
    const flags = parseFlags(rest.slice(command.path.length), command.flags, command.positional);
    return (await command.run(flags, ctx)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof DestinationError) return usage(err, `${e.message}\nSee: portway ${command.path.join(' ')} --help`);
    if (e instanceof ConfigFileError || e instanceof RelayUrlError || e instanceof RelayRefusedError) {
      err(`portway: ${e.message}`);
      return 1;
    }
    err(`portway: ${(e as Error).message ?? e}`);
    return 1;
  }
}

function usage(err: (line: string) => void, message: string): number {
  err(`portway: ${message}`);
  return 2;
}
