#!/usr/bin/env node
// Thin launcher: the relay is bundled by esbuild into ../dist/relay.js.
const path = require('node:path');
const bundle = path.join(__dirname, '..', 'dist', 'relay.js');
try {
  require.resolve(bundle);
} catch {
  console.error('portway-relay: not built yet. Run `npm run build` in the repository root.');
  process.exit(1);
}
require(bundle);
