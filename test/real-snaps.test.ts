import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { runBundle } from './helpers/run-action.js';

let server: Awaited<ReturnType<typeof serveRequirements>>;
beforeAll(async () => {
  server = await serveRequirements();
});
afterAll(async () => server?.stop());

/**
 * The python plugin's keys that snapcraft's schema for a base accepts: core20's v2 plugin
 * (snapcraft_legacy/plugins/v2/python.py, additionalProperties: false) and craft-parts' plugin
 * (core22 and later). Each value is a list of strings.
 */
const SCHEMA: Record<string, { allowed: string[]; constraints: string; prefix: string }> = {
  core20: {
    allowed: ['requirements', 'constraints', 'python-packages'],
    constraints: 'constraints',
    prefix: '$SNAPCRAFT_PROJECT_DIR',
  },
  core22: {
    allowed: ['python-requirements', 'python-constraints', 'python-packages'],
    constraints: 'python-constraints',
    prefix: '$CRAFT_PROJECT_DIR',
  },
  core24: {
    allowed: ['python-requirements', 'python-constraints', 'python-packages'],
    constraints: 'python-constraints',
    prefix: '$CRAFT_PROJECT_DIR',
  },
};
const PLUGIN_KEYS = /^(python-.*|requirements|constraints)$/;

function copy(name: string): string {
  const dir = tempDir(`osa-${name}-`);
  cpSync(join(ROOT, 'test/snaps', name), dir, { recursive: true });
  return dir;
}

/** Every python part (merges resolved) has only keys its base's schema accepts, as lists. */
function expectSchemaKeys(file: string, base: string): Record<string, Record<string, unknown>> {
  const data = parseDocument(readFileSync(file, 'utf8'), { merge: true }).toJS() as {
    parts: Record<string, Record<string, unknown>>;
  };
  const schema = SCHEMA[base]!;
  const python = Object.entries(data.parts).filter(([, p]) => p.plugin === 'python');
  expect(python.length).toBeGreaterThan(0);
  for (const [, part] of python) {
    const keys = Object.keys(part).filter((k) => PLUGIN_KEYS.test(k));
    for (const key of keys) {
      expect(schema.allowed).toContain(key);
      expect(Array.isArray(part[key])).toBe(true);
      for (const item of part[key] as unknown[]) expect(typeof item).toBe('string');
    }
    expect((part[schema.constraints] as string[])[0]).toBe(
      `${schema.prefix}/snap/local/upper-constraints.txt`,
    );
  }
  return data.parts;
}

describe('snaps modelled on real ones, through the constraints and matrix bundles', () => {
  it('core20 (openstack clients): constraints as a list, projects from archives, VCS URLs and setup.cfg dropped, zed pin named', async () => {
    const project = copy('core20-openstackclients');
    const run = await runBundle('constraints', {
      project,
      ref: 'unmaintained/2023.1',
      'requirements-repo': server.url,
    });
    expect(run.stdout).not.toMatch(/::error::/);
    expect(run.status).toBe(0);
    expect(run.outputs['constraints-ref']).toBe('unmaintained/2023.1');
    expect(run.outputs.excluded!.split(' ').sort()).toEqual([
      'osc-placement',
      'python-openstackclient',
    ]);
    const manifest = JSON.parse(run.outputs.manifest!) as {
      constraints: { excluded: { name: string; from: string }[] };
    };
    expect(manifest.constraints.excluded.map((e) => e.name)).toEqual([
      'python-openstackclient',
      'osc-placement',
      'openstack-toolkit',
    ]);
    const parts = expectSchemaKeys(join(project, 'snap/snapcraft.yaml'), 'core20');
    expect(parts.toolkit!.requirements).toEqual(['requirements.txt']);
    // The |+ block that ends the toolkit part keeps its trailing blank lines.
    expect(parts.toolkit!['override-build']).toBe('snapcraftctl build\n\n\n');
    expect(run.stdout).toMatch(
      /::warning::part 'openstackclients' was pinned to zed constraints \(zed\); this build applies unmaintained\/2023\.1 \(2023\.1, antelope\)/,
    );
    expect(run.summary).toContain('was pinned to zed constraints');

    const matrix = await runBundle('matrix', { project });
    expect(matrix.status).toBe(0);
    expect(JSON.parse(matrix.outputs.matrix!).include.map((e: { arch: string }) => e.arch)).toEqual(
      ['amd64', 'arm64'],
    );
    expect(JSON.parse(matrix.outputs.skipped!)).toEqual([
      { arch: 'ppc64el', reason: 'snapcraft.yaml builds only for amd64, arm64' },
    ]);
  });

  it('core22 (keystone): python-constraints, the other branch pin replaced and named, local pins kept', async () => {
    const project = copy('core22-keystone');
    const run = await runBundle('constraints', {
      project,
      ref: 'unmaintained/2024.1',
      'requirements-repo': server.url,
    });
    expect(run.status).toBe(0);
    expect(run.outputs.excluded).toBe('keystonemiddleware');
    const parts = expectSchemaKeys(join(project, 'snap/snapcraft.yaml'), 'core22');
    expect(parts.keystone!['python-constraints']).toEqual([
      '$CRAFT_PROJECT_DIR/snap/local/upper-constraints.txt',
      'local-pins.txt',
    ]);
    expect(run.stdout).toMatch(
      /::warning::part 'keystone' was pinned to stable\/2023\.2 constraints/,
    );
    const matrix = await runBundle('matrix', { project, arches: 'amd64 arm64 ppc64el' });
    expect(matrix.outputs.arches).toBe('amd64 arm64');
  });

  it('core24 (glance): merged python parts, a local pyproject project, CRLF kept, the unknown download warned, s390x reported', async () => {
    const project = copy('core24-glance');
    const before = readFileSync(join(project, 'snap/snapcraft.yaml'), 'utf8');
    const run = await runBundle('constraints', {
      project,
      ref: 'stable/2025.1',
      'requirements-repo': server.url,
    });
    expect(run.stdout).not.toMatch(/::error::/);
    expect(run.status).toBe(0);
    expect(run.outputs.excluded).toBe('osc-lib');
    const manifest = JSON.parse(run.outputs.manifest!) as {
      constraints: { excluded: { name: string }[] };
    };
    expect(manifest.constraints.excluded.map((e) => e.name)).toEqual([
      'glance',
      'glance-snap-hooks',
      'osc-lib',
    ]);
    expect(run.stdout).toMatch(
      /::warning::part 'store-drivers': cannot tell which Python project its source 'https:\/\/downloads\.example\.org\/get\?file=drivers' installs/,
    );
    const after = readFileSync(join(project, 'snap/snapcraft.yaml'), 'utf8');
    expect(after).not.toMatch(/[^\r]\n/);
    expect(after.length).toBeGreaterThan(before.length);
    expectSchemaKeys(join(project, 'snap/snapcraft.yaml'), 'core24');

    const matrix = await runBundle('matrix', { project });
    expect(JSON.parse(matrix.outputs.skipped!)).toEqual([
      { arch: 'ppc64el', reason: 'snapcraft.yaml builds only for amd64, arm64, s390x' },
      {
        arch: 's390x',
        reason: "declared in snapcraft.yaml but not requested (add it to 'arches')",
      },
    ]);
    expect(matrix.stdout).toContain(
      "::warning::Not building s390x: declared in snapcraft.yaml but not requested (add it to 'arches')",
    );
  });

  it('refuses python-constraints on core20 at its line, naming the key snapcraft takes', async () => {
    const project = copy('core20-openstackclients');
    const file = join(project, 'snap/snapcraft.yaml');
    const text = readFileSync(file, 'utf8').replace(
      '    constraints:\n',
      '    python-constraints:\n',
    );
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex((l) => l.includes('python-constraints:')) + 1;
    const run = await runBundle('constraints', {
      project,
      ref: 'unmaintained/2023.1',
      'requirements-repo': server.url,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      `::error::${file}:${line}:5: part 'openstackclients' uses 'python-constraints', which snapcraft's core20 python plugin`,
    );
    expect(run.stdout).toContain("rename it to 'constraints'");
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('builds a feature branch as the series the series input names', async () => {
    const project = copy('core22-keystone');
    const run = await runBundle('constraints', {
      project,
      ref: 'feature/uwsgi-tuning',
      series: 'caracal',
      'requirements-repo': server.url,
    });
    expect(run.stdout).not.toMatch(/::error::/);
    expect(run.outputs).toMatchObject({
      series: '2024.1',
      'constraints-ref': 'unmaintained/2024.1',
    });
  });
});
