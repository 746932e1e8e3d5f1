import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from './helpers/fixtures.js';

/** Every document a reader is sent to. */
const documents = [
  'README.md',
  'CONTRIBUTING.md',
  'CHANGELOG.md',
  ...readdirSync(join(ROOT, 'docs')).map((f) => `docs/${f}`),
  ...readdirSync(join(ROOT, 'actions')).map((a) => `actions/${a}/README.md`),
].filter((f) => f.endsWith('.md'));

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (heading)
      found.add(
        heading[1]!
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replace(/ /g, '-'),
      );
  }
  return found;
}

/** What each toolkit action and the reusable workflow take. */
function inputsOf(uses: string): { inputs: string[]; secrets?: string[] } | null {
  const action =
    /^openstack-snap-actions\/openstack-snap-actions\/actions\/([\w-]+)@/.exec(uses) ??
    /^\$\/actions\/([\w-]+)$/.exec(uses);
  if (action) {
    const meta = parse(read(`actions/${action[1]}/action.yml`)) as { inputs?: object };
    return { inputs: Object.keys(meta.inputs ?? {}) };
  }
  if (/\/\.github\/workflows\/snap\.yml@/.test(uses)) {
    const call = (
      parse(read('.github/workflows/snap.yml')) as {
        on: { workflow_call: { inputs: object; secrets: object } };
      }
    ).on.workflow_call;
    return { inputs: Object.keys(call.inputs), secrets: Object.keys(call.secrets) };
  }
  if (/^openstack-snap-actions\/openstack-snap-actions@/.test(uses)) {
    const meta = parse(read('action.yml')) as { inputs?: object };
    return { inputs: Object.keys(meta.inputs ?? {}) };
  }
  return null;
}

/** Every mapping with a `uses:` in a parsed YAML value. */
function usesOf(value: unknown, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) usesOf(item, found);
  else if (value && typeof value === 'object') {
    const map = value as Record<string, unknown>;
    if (typeof map.uses === 'string') found.push(map);
    for (const item of Object.values(map)) usesOf(item, found);
  }
  return found;
}

describe('the documentation', () => {
  it('has its generated parts current: input tables from action.yml and snap.yml, excerpts from the examples', () => {
    const check = spawnSync(process.execPath, [join(ROOT, 'scripts/docs.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(check.stdout + check.stderr).toContain('every generated part is current');
    expect(check.status).toBe(0);
  });

  it('documents every input and output of every action, and of the workflow', () => {
    for (const name of readdirSync(join(ROOT, 'actions'))) {
      const doc = read(`actions/${name}/README.md`);
      const meta = parse(read(`actions/${name}/action.yml`)) as {
        inputs?: object;
        outputs?: object;
      };
      for (const key of [...Object.keys(meta.inputs ?? {}), ...Object.keys(meta.outputs ?? {})])
        expect({ name, key, documented: doc.includes(`| \`${key}\``) }).toEqual({
          name,
          key,
          documented: true,
        });
    }
    const workflow = read('docs/workflow.md');
    for (const key of inputsOf('x/.github/workflows/snap.yml@v0')!.inputs)
      expect({ key, documented: workflow.includes(`| \`${key}\``) }).toEqual({
        key,
        documented: true,
      });
  });

  it.each(documents)('%s: every relative link and anchor resolves', (file) => {
    const text = read(file);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target!)) continue;
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const resolved = path ? join(dirname(join(ROOT, file)), path) : join(ROOT, file);
      expect({ file, target, exists: existsSync(resolved) }).toEqual({
        file,
        target,
        exists: true,
      });
      if (anchor && resolved.endsWith('.md'))
        expect({
          file,
          target,
          anchor: anchors(readFileSync(resolved, 'utf8')).has(anchor),
        }).toEqual({ file, target, anchor: true });
    }
  });

  it.each(documents)('%s: every snippet passes only inputs and secrets that exist', (file) => {
    for (const [, block] of read(file).matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      for (const document of parseAllDocuments(block!)) {
        for (const step of usesOf(document.toJS())) {
          const known = inputsOf(step.uses as string);
          if (!known) continue;
          for (const key of Object.keys((step.with as object | undefined) ?? {}))
            expect({ file, uses: step.uses, key, known: known.inputs.includes(key) }).toEqual({
              file,
              uses: step.uses,
              key,
              known: true,
            });
          if (known.secrets && step.secrets && typeof step.secrets === 'object')
            for (const key of Object.keys(step.secrets))
              expect({ file, key, known: known.secrets.includes(key) }).toEqual({
                file,
                key,
                known: true,
              });
        }
      }
    }
  });

  it('keeps the README to a few screens', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(220);
    expect(relative(ROOT, join(ROOT, 'CONTRIBUTING.md'))).toBe('CONTRIBUTING.md');
  });
});
