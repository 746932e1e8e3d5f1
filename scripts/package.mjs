#!/usr/bin/env node
// Bundles each action into dist/<name>/index.js with ncc. Runners do not `npm install`, so the
// bundles are committed; CI rebuilds them and fails when they differ (check-dist).
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// --out DIR bundles elsewhere (the check-dist test compares that with the committed dist/).
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outRoot = outIndex >= 0 ? args.splice(outIndex, 2)[1] : `${root}/dist`;
const only = args;
const actions = readdirSync(`${root}/actions`, { withFileTypes: true })
  .filter((d) => d.isDirectory() && (only.length === 0 || only.includes(d.name)))
  .map((d) => d.name)
  .sort();
for (const name of actions) {
  const out = `${outRoot}/${name}`;
  rmSync(out, { recursive: true, force: true });
  execFileSync(
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
    { cwd: root, stdio: 'inherit' },
  );
  console.log(`${out}/index.js`);
}
