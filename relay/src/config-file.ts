import * as fs from 'node:fs';

/**
 * `portway-relay --config FILE`: the relay's settings as NAME=value lines, the names of the
 * environment variables (DOMAIN=…, AUTH_KEY=…, TRUSTED_PROXIES=…), # comments, optional quotes.
 * The same file serves as a systemd EnvironmentFile. Throws (via makeError) on a line that is not
 * NAME=value or a name the relay does not know, with the line number.
 */
export function readConfigFile(file: string, knownNames: ReadonlySet<string>, makeError: (message: string) => Error): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw makeError(`cannot read the config file ${file}: ${(err as Error).message}`);
  }
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw makeError(`${file}:${index + 1}: expected NAME=value, got "${line}"`);
    const [, name, rawValue] = match;
    if (!knownNames.has(name)) throw makeError(`${file}:${index + 1}: unknown setting ${name} (see portway-relay --help for the names)`);
    values[name] = /^(["']).*\1$/.test(rawValue) ? rawValue.slice(1, -1) : rawValue;
  });
  return values;
}
