import type { IdentityStore } from './identity-store';

/** How often idle identities are looked for; reclaiming is measured in days, so hourly is plenty. */
const RECLAIM_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reclaims the hostnames of identities unused for `idleDays` (0: never), now and then hourly.
 * `keep` names identities that must stay (online, or holding custom domains or TCP ports).
 * Returns the stop function.
 */
export function reclaimIdleIdentities(identities: IdentityStore, idleDays: number, keep: (identityId: string) => boolean, log: (line: string) => void): () => void {
  if (idleDays === 0) return () => undefined;
  const sweep = () => {
    const reclaimed = identities.reclaimIdle(idleDays * DAY_MS, keep);
    if (reclaimed.length > 0) log(`reclaimed ${reclaimed.length} hostname(s) of agent identities unused for ${idleDays} days: ${reclaimed.slice(0, 10).join(', ')}${reclaimed.length > 10 ? ', …' : ''}`);
  };
  sweep();
  const timer = setInterval(sweep, RECLAIM_EVERY_MS).unref();
  return () => clearInterval(timer);
}
