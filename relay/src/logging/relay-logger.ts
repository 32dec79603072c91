import pino from 'pino';
import { LOG_LEVELS, type LogLevel, type LogOptions } from './log-options';

/** Structured context of a log line (hostname, token id, client address…); never a secret. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** The relay's log: a message, optionally with fields the JSON format carries as keys. */
export type LogLine = (message: string, fields?: LogFields) => void;

export interface RelayLogger {
  error: LogLine;
  warn: LogLine;
  info: LogLine;
  debug: LogLine;
}

/**
 * json: pino, one object a line on stdout (time, level, msg, fields), written synchronously so
 * nothing is lost when the process exits. text (the default): the message alone, as a terminal
 * reader wants it; errors and warnings on stderr.
 */
export function createRelayLogger(options: LogOptions): RelayLogger {
  if (options.format === 'json') {
    const logger = pino(
      {
        level: options.level,
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      pino.destination({ dest: 1, sync: true }),
    );
    const at =
      (level: LogLevel): LogLine =>
      (message, fields) =>
        fields ? logger[level](fields, message) : logger[level](message);
    return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  }
  const threshold = LOG_LEVELS.indexOf(options.level);
  const at = (level: LogLevel, write: (text: string) => void): LogLine =>
    LOG_LEVELS.indexOf(level) <= threshold ? (message) => write(`${message}\n`) : () => undefined;
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  return { error: at('error', err), warn: at('warn', err), info: at('info', out), debug: at('debug', out) };
}
