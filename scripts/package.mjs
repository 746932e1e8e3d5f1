#!/usr/bin/env node
// Bundles each action into dist/<name>/index.js with ncc. Runners do not `npm install`, so the
// bundles are committed; CI rebuilds them and fails when they differ (check-dist).
// The bundles are independent: they build concurrently, one per core.
import { execFile } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
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
