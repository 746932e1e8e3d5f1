import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import * as constants from '../src/actions/constants.js';
import { ROOT } from './helpers/fixtures.js';

interface ActionYaml {
  name: string;
  description: string;
  inputs?: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs?: Record<string, { description: string }>;
  runs: { using: string; main?: string };
}

const actions = readdirSync(join(ROOT, 'actions'));

describe('action.yml files', () => {
  it.each(actions)('%s runs its own bundle on node24', (name) => {
    const meta = parse(
      readFileSync(join(ROOT, 'actions', name, 'action.yml'), 'utf8'),
    ) as ActionYaml;
    // build's post step, the same bundle, cleans up after a remote build that was killed.
    const post =
      name === 'build' ? { post: `../../dist/${name}/index.js`, 'post-if': 'always()' } : {};
    expect(meta.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js`, ...post });
    expect(existsSync(join(ROOT, 'dist', name, 'index.js'))).toBe(true);
    expect(existsSync(join(ROOT, 'src/actions', `${name}.ts`))).toBe(true);
    for (const input of Object.values(meta.inputs ?? {}))
      expect(input.description.length).toBeGreaterThan(10);
  });

  it('declare exactly the inputs and outputs the code reads and sets', () => {
    const pairs: [string, Record<string, string>, Record<string, string>][] = [
      ['constraints', constants.ConstraintsInputs, constants.ConstraintsOutputs],
      ['mirror', constants.MirrorInputs, constants.MirrorOutputs],
      ['publish', constants.PublishInputs, constants.PublishOutputs],
      ['matrix', constants.MatrixInputs, constants.MatrixOutputs],
      ['build', constants.BuildInputs, constants.BuildOutputs],
      ['plan', constants.PlanInputs, constants.PlanOutputs],
      ['smoke-test', constants.SmokeInputs, constants.SmokeOutputs],
      ['dispatch', constants.DispatchInputs, constants.DispatchOutputs],
      ['fleet', constants.FleetInputs, constants.FleetOutputs],
    ];
    for (const [name, inputs, outputs] of pairs) {
      const meta = parse(
        readFileSync(join(ROOT, 'actions', name, 'action.yml'), 'utf8'),
      ) as ActionYaml;
      expect(Object.keys(meta.inputs ?? {}).sort()).toEqual(Object.values(inputs).sort());
      expect(Object.keys(meta.outputs ?? {}).sort()).toEqual(Object.values(outputs).sort());
    }
  });
});

describe('action entries', () => {
  it('are imported by no other module: importing one would run its action too', () => {
    const entries = readdirSync(join(ROOT, 'src/actions')).filter((f) =>
      readFileSync(join(ROOT, 'src/actions', f), 'utf8').includes(
        'await runAsEntry(import.meta.url, run);',
      ),
    );
    expect(entries.sort()).toEqual([...actions, 'snap'].map((a) => `${a}.ts`).sort());
    for (const file of readdirSync(join(ROOT, 'src'), { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(join(ROOT, 'src', file), 'utf8');
      const prefix = file.startsWith('actions/') ? './' : '../actions/';
      const imported = entries.filter((e) =>
        text.includes(`from '${prefix}${e.replace(/\.ts$/, '.js')}'`),
      );
      expect({ file, imported }).toEqual({ file, imported: [] });
    }
  });
});

describe('the root action.yml', () => {
  it('runs its own bundle, so constraints, build and publish come from the commit the caller pinned', () => {
    const meta = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as ActionYaml;
    expect(meta.runs).toEqual({ using: 'node24', main: 'dist/snap/index.js' });
    expect(existsSync(join(ROOT, 'dist/snap/index.js'))).toBe(true);
    expect(Object.keys(meta.inputs ?? {}).sort()).toEqual(
      Object.values(constants.SnapInputs).sort(),
    );
    expect(Object.keys(meta.outputs ?? {}).sort()).toEqual(
      Object.values(constants.SnapOutputs).sort(),
    );
    // Nothing in it floats on a moving tag.
    expect(readFileSync(join(ROOT, 'action.yml'), 'utf8')).not.toMatch(/@v\d/);
  });
});
