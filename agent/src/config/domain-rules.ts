import { canonicalDomain, DomainNameError } from '../../../common/domain-name';
import type { AgentConfig } from '../config/schema';
import { UsageError } from './usage-error';

/** The canonical form of common/domain-name.ts; refuses anything that is not a plausible DNS name. */
export function normalizeDomain(text: string): string {
  try {
    return canonicalDomain(text);
  } catch (err) {
    if (!(err instanceof DomainNameError)) throw err;
    throw new UsageError(`"${text}" is not a valid domain name`);
  }
}

/** A route's domain must be the assigned hostname, a verified custom domain, or a subdomain of either. */
export function assertDomainAllowed(config: AgentConfig, domain: string): void {
  const hostname = config.hostname;
  if (!hostname) throw new UsageError('this agent has no hostname yet; run `portway configure` first');
  const covers = (parent: string) => domain === parent || domain.endsWith(`.${parent}`);
  if (covers(hostname) || (config.domains ?? []).some(covers)) return;
  throw new UsageError(
    `${domain} is not ${hostname}, a verified custom domain, or a subdomain of one; use e.g. --domain app.${hostname}, or verify the domain first with \`portway domain add\``,
  );
}
