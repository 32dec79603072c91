import { ControlRequestError } from '../../../../mux/control-channel';
import { DomainMethod, parseDomainAnswer, type DomainChallenge } from '../../../../protocol/control-domains';
import { loadConfig, updateConfig } from '../../config/config-file';
import type { FlagSpec } from '../args';
import type { Command, CommandContext } from '../command';
import { withControlSession } from '../../tunnel/control-session';
import { normalizeDomain } from '../../config/domain-rules';
import { renderTable } from '../table';

const DOMAIN: FlagSpec = { name: 'domain', type: 'string', placeholder: 'DOMAIN', description: 'the custom domain, e.g. example.com', required: true };
/** Answers that mean "the record is not (yet) there", not a failure of `domain add`. */
const NOT_YET = new Set(['nxdomain', 'no-record', 'mismatch']);

function remember(configPath: string, domain: string, verified: boolean): void {
  updateConfig(configPath, (config) => {
    const others = (config.domains ?? []).filter((d) => d !== domain);
    config.domains = verified ? [...others, domain].sort() : others;
  });
}

function showChallenge(ctx: CommandContext, challenge: DomainChallenge): void {
  ctx.out(`To prove you control ${challenge.domain}, publish this DNS record:`);
  ctx.out(`  Name:  ${challenge.recordName}`);
  ctx.out(`  Type:  TXT`);
  ctx.out(`  Value: ${challenge.recordValue}`);
}

export const domainAddCommand: Command = {
  path: ['domain', 'add'],
  positional: 'domain',
  summary: 'Claim a custom domain: print the DNS TXT record that proves it, and verify it if it is already there',
  flags: [DOMAIN],
  details: 'After publishing the record, run `portway domain verify DOMAIN`. Verified domains and their subdomains can be used by routes.',
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    const config = loadConfig(ctx.configPath);
    return withControlSession(config, async (control) => {
      const challenge = parseDomainAnswer.challenge(await control.request(DomainMethod.Challenge, { domain }));
      showChallenge(ctx, challenge);
      try {
        const verified = parseDomainAnswer.verified(await control.request(DomainMethod.Verify, { domain }));
        remember(ctx.configPath, verified.domain, true);
        ctx.out(`Verified: ${verified.domain} (and its subdomains) can now be used by routes`);
      } catch (err) {
        if (!(err instanceof ControlRequestError) || !NOT_YET.has(err.code)) throw err;
        ctx.out(`Not verified yet (${err.message}).`);
        ctx.out(`Once the record is published, run: portway domain verify ${domain}`);
      }
      return 0;
    });
  },
};

export const domainVerifyCommand: Command = {
  path: ['domain', 'verify'],
  positional: 'domain',
  summary: 'Ask the relay to check the TXT record of a custom domain and bind it to this agent',
  flags: [DOMAIN],
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    const config = loadConfig(ctx.configPath);
    return withControlSession(config, async (control) => {
      try {
        const verified = parseDomainAnswer.verified(await control.request(DomainMethod.Verify, { domain }));
        remember(ctx.configPath, verified.domain, true);
        ctx.out(`Verified: ${verified.domain} (and its subdomains) can now be used by routes`);
        return 0;
      } catch (err) {
        if (!(err instanceof ControlRequestError) || !NOT_YET.has(err.code)) throw err;
        ctx.err(`portway: ${domain} is not verified: ${err.message}`);
        showChallenge(ctx, parseDomainAnswer.challenge(await control.request(DomainMethod.Challenge, { domain })));
        return 1;
      }
    });
  },
};

export const domainListCommand: Command = {
  path: ['domain', 'ls'],
  summary: 'List the custom domains the relay verified for this agent',
  flags: [{ name: 'json', type: 'boolean', description: 'print JSON' }],
  async run(flags, ctx) {
    const config = loadConfig(ctx.configPath);
    const { domains } = await withControlSession(config, async (control) => parseDomainAnswer.list(await control.request(DomainMethod.List, null)));
    // The relay is the authority; the config's copy (used to check route domains) follows it.
    updateConfig(ctx.configPath, (c) => {
      c.domains = domains.map((d) => d.domain).sort();
    });
    if (flags.json) return void ctx.out(JSON.stringify(domains, null, 2));
    ctx.out(domains.length === 0 ? 'No verified domains (add one with `portway domain add example.com`)' : renderTable(['Domain', 'Verified'], domains.map((d) => [d.domain, d.verifiedAt])));
  },
};

export const domainRemoveCommand: Command = {
  path: ['domain', 'rm'],
  positional: 'domain',
  summary: 'Give up a verified custom domain (routes on it stop being served)',
  flags: [DOMAIN],
  async run(flags, ctx) {
    const domain = normalizeDomain(flags.domain as string);
    const config = loadConfig(ctx.configPath);
    await withControlSession(config, async (control) => parseDomainAnswer.verified(await control.request(DomainMethod.Remove, { domain })));
    remember(ctx.configPath, domain, false);
    const stale = config.http.filter((r) => r.domain === domain || r.domain.endsWith(`.${domain}`)).map((r) => r.domain);
    ctx.out(`Removed ${domain}`);
    if (stale.length > 0) ctx.out(`These routes are no longer served: ${stale.join(', ')} (remove them with \`portway route http rm\`)`);
  },
};
