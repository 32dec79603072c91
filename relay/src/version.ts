import relayPackage from '../package.json';

/** The relay's version is its package's: bundled from relay/package.json, never typed twice. */
export const RELAY_VERSION: string = relayPackage.version;
