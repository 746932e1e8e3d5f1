#!/usr/bin/env node
// Writes the parts of the documentation that are copies of something else, so they cannot drift:
// each action's input and output tables (actions/<name>/README.md, from its action.yml), the
// reusable workflow's and the root action's tables (docs/workflow.md, from snap.yml and
// action.yml), and the example excerpts (README.md, docs/*.md, from examples/). Each generated part
// sits between `<!-- generated:<what> -->` and `<!-- /generated:<what> -->`; everything else is
// written by hand. `--check` writes nothing and exits 1 naming the files that are stale
// (test/docs.test.ts runs it).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');

const read = (path) => readFileSync(join(root, path), 'utf8');
const cell = (text) =>
  String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\|/g, '\\|');
const code = (text) => (text === '' ? "`''`" : `\`${String(text).replace(/`/g, "'")}\``);

/** An action.yml's inputs and outputs as two markdown tables. */
function actionTables(path) {
  const meta = parse(read(path));
  const inputs = Object.entries(meta.inputs ?? {});
  const outputs = Object.entries(meta.outputs ?? {});
  const lines = ['| Input | Default | What it is |', '| --- | --- | --- |'];
  for (const [name, input] of inputs)
    lines.push(
      `| \`${name}\` | ${input.required && input.default === undefined ? '**required**' : code(input.default ?? '')} | ${cell(input.description)} |`,
    );
  if (outputs.length) {
    lines.push('', '| Output | What it is |', '| --- | --- |');
    for (const [name, output] of outputs)
      lines.push(`| \`${name}\` | ${cell(output.description)} |`);
  }
  return lines.join('\n');
}

/** snap.yml's workflow_call inputs, secrets and outputs as tables. */
function workflowTables(path) {
  const call = parse(read(path)).on.workflow_call;
  const lines = ['| Input | Type | Default | What it is |', '| --- | --- | --- | --- |'];
  for (const [name, input] of Object.entries(call.inputs ?? {}))
    lines.push(
      `| \`${name}\` | ${input.type} | ${input.required ? '**required**' : code(input.default ?? '')} | ${cell(input.description)} |`,
    );
  lines.push('', '| Secret | What it is |', '| --- | --- |');
  for (const [name, secret] of Object.entries(call.secrets ?? {}))
    lines.push(`| \`${name}\` | ${cell(secret.description)} |`);
  lines.push('', '| Output | What it is |', '| --- | --- |');
  for (const [name, output] of Object.entries(call.outputs ?? {}))
    lines.push(`| \`${name}\` | ${cell(output.description)} |`);
  return lines.join('\n');
}

/** A file of examples/, whole or from a line on, as a fenced block. */
function excerpt(path, from) {
  const text = read(path);
  const start = from ? text.indexOf(`\n${from}`) + 1 : 0;
  if (from && start === 0) throw new Error(`${path} has no line '${from}'`);
  const language = path.endsWith('.yml') ? 'yaml' : '';
  return `\`\`\`${language}\n${text.slice(start).replace(/\n+$/, '')}\n\`\`\``;
}

/** What each generated part of each document is. */
const documents = {
  'README.md': {
    'snap-repo': () => excerpt('examples/workflows/snap-repo.yml', 'jobs:'),
  },
  'docs/workflow.md': {
    'snap-repo': () => excerpt('examples/workflows/snap-repo.yml'),
    workflow: () => workflowTables('.github/workflows/snap.yml'),
    'root-action': () => actionTables('action.yml'),
  },
  'docs/build-repository.md': {
    'fleet-yml': () => excerpt('examples/build-repository/fleet.yml'),
  },
};
for (const name of readdirSync(join(root, 'actions')).sort())
  documents[`actions/${name}/README.md`] = {
    tables: () => actionTables(`actions/${name}/action.yml`),
  };

const stale = [];
for (const [file, parts] of Object.entries(documents)) {
  const before = read(file);
  let text = before;
  for (const [part, make] of Object.entries(parts)) {
    const open = `<!-- generated:${part} -->`;
    const close = `<!-- /generated:${part} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) throw new Error(`${file} has no ${open} ... ${close}`);
    text = `${text.slice(0, start + open.length)}\n\n${make()}\n\n${text.slice(end)}`;
  }
  // As the lint's prettier --check will see it: tables aligned, and so on.
  const options = (await prettier.resolveConfig(join(root, file))) ?? {};
  text = await prettier.format(text, { ...options, filepath: join(root, file) });
  if (text === before) continue;
  stale.push(file);
  if (!check) writeFileSync(join(root, file), text);
}
if (check && stale.length) {
  console.log(`Stale generated documentation (run \`npm run docs\`): ${stale.join(', ')}`);
  process.exit(1);
}
console.log(
  stale.length ? `docs: wrote ${stale.join(', ')}` : 'docs: every generated part is current',
);
