export const AGENT_VERSION = '0.1.0';
export const AGENT_NAME = `portway/${AGENT_VERSION} node/${process.versions.node}`;
