import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentConfig } from '../config/schema';
import { LETS_ENCRYPT_DIRECTORY } from '../../../common/acme/acme-issuer';
import { UsageError } from '../config/usage-error';
import type { FlagSpec, ParsedFlags } from './args';

/** `configure` flags for where --letsencrypt routes get their certificates. */
export const ACME_FLAGS: FlagSpec[] = [
  { name: 'acme-directory', type: 'string', placeholder: 'URL', description: `ACME directory of --letsencrypt routes ("letsencrypt" = the default, ${LETS_ENCRYPT_DIRECTORY})` },
  { name: 'acme-ca-bundle', type: 'string', placeholder: 'FILE', description: 'PEM CA certificate to trust for the ACME directory\'s HTTPS (a private CA); "none" to forget it' },
];

type AcmeSettings = Pick<AgentConfig, 'acmeDirectory' | 'acmeCaBundle'>;

export function hasAcmeFlags(flags: ParsedFlags): boolean {
  return flags['acme-directory'] !== undefined || flags['acme-ca-bundle'] !== undefined;
}

/** The ACME settings after applying the flags to what the config had; flags are validated first. */
export function acmeSettings(flags: ParsedFlags, existing: AcmeSettings | undefined): AcmeSettings {
  let acmeDirectory = existing?.acmeDirectory;
  let acmeCaBundle = existing?.acmeCaBundle;
  const directory = flags['acme-directory'] as string | undefined;
  if (directory !== undefined) {
    if (directory === 'letsencrypt') {
      acmeDirectory = undefined;
    } else {
      let url: URL;
      try {
        url = new URL(directory);
      } catch {
        throw new UsageError(`--acme-directory ${directory} is not a URL`);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--acme-directory must be an https:// URL');
      acmeDirectory = url.toString();
    }
  }
  const bundle = flags['acme-ca-bundle'] as string | undefined;
  if (bundle !== undefined) {
    if (bundle === 'none') {
      acmeCaBundle = undefined;
    } else {
      const file = path.resolve(bundle);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --acme-ca-bundle ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--acme-ca-bundle ${file} holds no PEM certificate`);
      acmeCaBundle = file;
    }
  }
  return { acmeDirectory, acmeCaBundle };
}
