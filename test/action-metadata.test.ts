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
    expect(meta.runs).toEqual({ using: 'node24', main: `../../dist/${name}/index.js` });
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

describe('the root action.yml', () => {
  it('chains constraints, build and (optionally) publish of this toolkit, and wires every output', () => {
    const meta = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as {
      runs: { using: string; steps: { id: string; uses: string; if?: string }[] };
      outputs: Record<string, { value: string }>;
    };
    expect(meta.runs.using).toBe('composite');
    expect(meta.runs.steps.map((s) => s.uses)).toEqual(
      ['constraints', 'build', 'publish'].map(
        (a) => `openstack-snap-actions/openstack-snap-actions/actions/${a}@v0`,
      ),
    );
    expect(meta.runs.steps[2]!.if).toBe("inputs.publish == 'true'");
    for (const output of Object.values(meta.outputs))
      expect(output.value).toMatch(
        /^\$\{\{ steps\.(constraints|build|publish)\.outputs\.[\w-]+ \}\}$/,
      );
  });
});
