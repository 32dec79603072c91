#!/usr/bin/env node
// Thin launcher: the CLI is bundled by esbuild into ../../dist/portway.js.
const path = require('node:path');
const bundle = path.join(__dirname, '..', '..', 'dist', 'portway.js');
try {
  require.resolve(bundle);
} catch {
  console.error('portway: not built yet. Run `npm install` (or `npm run build`) in the repository root.');
  process.exit(1);
}
require(bundle);
