#!/usr/bin/env node
// Thin launcher for the esbuild bundle: in a repository checkout (src/ beside bin/) the one the
// root build makes for the extension too, ../../dist/portway.js; in the npm package (no src/) its
// own ../dist/portway.js, made by prepack.
const fs = require('node:fs');
const path = require('node:path');
const inCheckout = fs.existsSync(path.join(__dirname, '..', 'src'));
const bundle = inCheckout ? path.join(__dirname, '..', '..', 'dist', 'portway.js') : path.join(__dirname, '..', 'dist', 'portway.js');
if (!fs.existsSync(bundle)) {
  console.error('portway: not built yet. Run `npm install` (or `npm run build`) in the repository root.');
  process.exit(1);
}
require(bundle);
