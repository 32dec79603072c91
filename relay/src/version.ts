/** Kept equal to relay/package.json's version (test/e2e/packaging.test.ts checks). */
export const RELAY_VERSION = '0.1.0';
