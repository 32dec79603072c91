/** How the relay logs: --log-format text|json, --log-level; parsed from the serve flag map. */
export const LOG_VALUE_FLAGS = ['log-format', 'log-level'] as const;

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_HELP = `  --log-format F      text (one line a message) or json (one object a line) [LOG_FORMAT] (default text)
  --log-level L       error, warn, info or debug                          [LOG_LEVEL] (default info)
`;

export interface LogOptions {
  format: LogFormat;
  level: LogLevel;
}

type Env = Record<string, string | undefined>;

export function parseLogOptions(flags: Map<string, string>, env: Env, makeError: (message: string) => Error): LogOptions {
  const format = flags.get('log-format') ?? (env.LOG_FORMAT || 'text');
  if (!(LOG_FORMATS as readonly string[]).includes(format)) throw makeError(`--log-format must be ${LOG_FORMATS.join(' or ')} (got "${format}")`);
  const level = flags.get('log-level') ?? (env.LOG_LEVEL || 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw makeError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);
  return { format: format as LogFormat, level: level as LogLevel };
}
