// Builds every bundle and transpiles the tests and benchmark.
// One esbuild context per bundle; `vscode` is external only for the extension.
// Types are checked separately with `npm run typecheck` (esbuild does not check them).
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');

const production = process.argv.includes('--production');
// `--only relay|agent`: that npm package's bundle alone (their prepack: `--production --only …`).
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const packageBundles = {
  relay: { entryPoints: ['relay/src/main.ts'], outfile: 'relay/dist/relay.js' },
  agent: { entryPoints: ['agent/src/main.ts'], outfile: 'agent/dist/portway.js' },
};
const common = {
  // Paths below are relative to the repository root (npm pack runs this from relay/ or agent/).
  absWorkingDir: __dirname,
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // Optional native speed-ups of ws; loaded when installed, skipped otherwise.
  external: ['bufferutil', 'utf-8-validate'],
};

const bundles = [
  { entryPoints: ['agent/src/main.ts'], outfile: 'dist/portway.js' },
  packageBundles.relay,
  { entryPoints: ['extension/src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'bufferutil', 'utf-8-validate'] },
];

/** Every .ts file below dir (for the unbundled test build). */
function tsFilesBelow(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFilesBelow(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

async function main() {
  if (only !== undefined) {
    if (!packageBundles[only]) throw new Error(`--only takes ${Object.keys(packageBundles).join(' or ')}, not "${only}"`);
    await esbuild.build({ ...common, ...packageBundles[only] });
    return;
  }
  const builds = bundles
    .filter((b) => fs.existsSync(b.entryPoints[0]))
    .map((b) => esbuild.build({ ...common, ...b }));
  // Tests, benchmark and the sources they import, transpiled file by file into out/.
  const sources = ['protocol', 'mux', 'common', 'agent/src', 'relay/src', 'extension/src', 'test', 'bench', 'scripts'].flatMap(tsFilesBelow);
  builds.push(
    esbuild.build({
      entryPoints: sources,
      outdir: 'out',
      outbase: '.',
      bundle: false,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      sourcemap: true,
      logLevel: 'warning',
    }),
  );
  await Promise.all(builds);
  // version.ts of agent and relay read their package.json; the bundles inline it, the unbundled build needs it beside.
  for (const pkg of ['agent', 'relay']) fs.copyFileSync(`${pkg}/package.json`, `out/${pkg}/package.json`);
}

main().catch((err) => {
  console.error(err.message || err);
  process.exit(1);
});
