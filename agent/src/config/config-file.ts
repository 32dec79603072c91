import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JsonFileError, readJsonFile, writeJsonFileAtomic } from '../../../common/json-file';
import { ConfigError, validateConfig, type AgentConfig } from './schema';

export const USER_CONFIG = () => path.join(os.homedir(), '.portway', 'config.json');
export const SYSTEM_CONFIG = '/etc/portway/config.json';

/** A config that could not be used; always names the file. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/**
 * pktriot's rules: an explicit --config (or PORTWAY_CONFIG) wins; otherwise the user's
 * ~/.portway/config.json if it exists, else /etc/portway/config.json if it exists,
 * else the user's (where `configure` creates it).
 */
export function locateConfig(explicit?: string): string {
  const chosen = explicit ?? process.env.PORTWAY_CONFIG;
  if (chosen) return path.resolve(chosen);
  const user = USER_CONFIG();
  if (fs.existsSync(user)) return user;
  if (fs.existsSync(SYSTEM_CONFIG)) return SYSTEM_CONFIG;
  return user;
}

/** Loads and validates; undefined when the file does not exist. */
export function loadConfigIfPresent(file: string): AgentConfig | undefined {
  let raw: unknown;
  try {
    raw = readJsonFile(file);
  } catch (err) {
    if (err instanceof JsonFileError) throw new ConfigFileError(file, err.message);
    throw err;
  }
  if (raw === undefined) return undefined;
  try {
    return validateConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigFileError(file, `${file}: ${err.message}; fix it or run \`portway configure\` again`);
    throw err;
  }
}

export function loadConfig(file: string): AgentConfig {
  const config = loadConfigIfPresent(file);
  if (!config) throw new ConfigFileError(file, `${file} does not exist; run \`portway configure --relay URL\` first`);
  return config;
}

/** Atomic write (temp file + rename), mode 0600: the file holds the agent's secret. */
export function saveConfig(file: string, config: AgentConfig): void {
  writeJsonFileAtomic(file, config, 0o600);
}

/** Load, change, save: the single path every CLI edit takes. */
export function updateConfig(file: string, change: (config: AgentConfig) => void): AgentConfig {
  const config = loadConfig(file);
  change(config);
  saveConfig(file, config);
  return config;
}
