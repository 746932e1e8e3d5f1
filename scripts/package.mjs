#!/usr/bin/env node
// Bundles each action into dist/<name>/index.js with ncc. Runners do not `npm install`, so the
// bundles are committed; CI rebuilds them and fails when they differ (check-dist).
// The bundles are independent: they build concurrently, one per core. dist/.inputs-sha256 records
// what the committed bundles were built from; when nothing changed since, the build is skipped
// (--force builds anyway, as the check-dist CI job and .ci/run do before comparing with git).
// --check builds nothing: it exits 1 when dist/ was built from other inputs than the tree's
// (test/dist.test.ts runs it, so `npm test` catches a source change without `npm run package`).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
// --out DIR bundles elsewhere (the check-dist test compares that with the committed dist/).
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outRoot = outIndex >= 0 ? args.splice(outIndex, 2)[1] : `${root}/dist`;
const force = args.includes('--force');
const check = args.includes('--check');
const only = args.filter((arg) => arg !== '--force' && arg !== '--check');
// One bundle per actions/<name>/action.yml, `snap` for the root action.yml (the one step), and
// `check` for the osa-check command (bin/osa-check.mjs).
const actions = [
  ...readdirSync(`${root}/actions`, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name),
  'snap',
  'check',
]
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

/** SHA-256 over everything a bundle is built from: the source, the lockfile, the configuration. */
function inputsDigest() {
  const hash = createHash('sha256');
  const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/package.mjs'];
  for (const entry of readdirSync(`${root}/src`, { recursive: true, withFileTypes: true }))
    if (entry.isFile())
      files.push(relative(root, join(entry.parentPath ?? entry.path, entry.name)));
  for (const file of files.sort()) hash.update(`${file}\0`).update(readFileSync(`${root}/${file}`));
  hash.update(actions.join('\0'));
  return hash.digest('hex');
}

// Only a full build into dist/ is recorded, and only it may be skipped.
const stamp = `${outRoot}/.inputs-sha256`;
const inPlace = outIndex < 0 && only.length === 0;
const digest = inPlace ? inputsDigest() : null;
if (check) {
  const recorded = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '(none)';
  const missing = actions.filter((name) => !existsSync(`${outRoot}/${name}/index.js`));
  if (recorded === digest && missing.length === 0) {
    console.log('dist/ was built from the current source');
    process.exit(0);
  }
  console.error(
    missing.length
      ? `dist/ has no bundle for ${missing.join(', ')}: run 'npm run package' and commit dist/.`
      : `dist/ was built from other source (inputs ${recorded.slice(0, 12)}, now ${digest.slice(0, 12)}): run 'npm run package' and commit dist/.`,
  );
  process.exit(1);
}
if (
  inPlace &&
  !force &&
  existsSync(stamp) &&
  readFileSync(stamp, 'utf8').trim() === digest &&
  actions.every((name) => existsSync(`${outRoot}/${name}/index.js`))
) {
  console.log(
    'dist/ is current: its inputs have not changed since it was built (--force rebuilds)',
  );
  process.exit(0);
}

const queue = [...actions];
async function worker() {
  for (let name = queue.shift(); name; name = queue.shift()) {
    const out = `${outRoot}/${name}`;
    rmSync(out, { recursive: true, force: true });
    await run(
      `${root}/node_modules/.bin/ncc`,
      [
        'build',
        `src/actions/${name}.ts`,
        '--out',
        out,
        '--license',
        'licenses.txt',
        '--quiet',
        '--target',
        'es2022',
      ],
      { cwd: root, maxBuffer: 64 * 1024 * 1024 },
    );
    console.log(`${out}/index.js`);
  }
}
await Promise.all(Array.from({ length: Math.min(availableParallelism(), actions.length) }, worker));
if (inPlace) writeFileSync(stamp, `${digest}\n`);
