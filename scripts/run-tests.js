// Runs every compiled test file (out/test/**/*.test.js) with node's built-in runner.
// Usage: node scripts/run-tests.js [substring-filter ...]
// The closing lines are node --test's own summary, which CI reads.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

function testFilesBelow(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFilesBelow(full);
    return entry.name.endsWith('.test.js') ? [full] : [];
  });
}

const filters = process.argv.slice(2);
const files = testFilesBelow(path.join(__dirname, '..', 'out', 'test'))
  .filter((f) => filters.length === 0 || filters.some((word) => f.includes(word)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
