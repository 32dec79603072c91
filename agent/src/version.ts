import agentPackage from '../package.json';

/** The agent's version is its package's: bundled from agent/package.json, never typed twice. */
export const AGENT_VERSION: string = agentPackage.version;
export const AGENT_NAME = `portway/${AGENT_VERSION} node/${process.versions.node}`;
