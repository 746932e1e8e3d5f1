import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constrain, type ConstrainOptions } from '../src/constraints/constrain.js';
import { DirectoryCache } from '../src/platform/dir-cache.js';
import { ConfigurationError } from '../src/platform/errors.js';
import { fixtureCopy, REQUIREMENTS, ROOT, tempDir } from './helpers/fixtures.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { git } from '../scripts/lib/git-fixtures.mjs';

let server: Awaited<ReturnType<typeof serveRequirements>>;
beforeAll(async () => {
  server = await serveRequirements();
});
afterAll(async () => server?.stop());

function options(
  project: string,
  ref: string,
  extra: Partial<ConstrainOptions> = {},
): ConstrainOptions {
  return {
    project,
    ref,
    requirementsRepo: server.url,
    exclude: ['auto'],
    workDir: tempDir('osa-work-'),
    ...extra,
  };
}

describe('constrain, end to end against git daemon', () => {
  it('builds the 2017 tempest snap on stable/ocata from ocata-eol, without tempest pinned', async () => {
    const project = fixtureCopy('openstack-archive/snap-tempest/master');
    const result = await constrain(options(project, 'stable/ocata'));
    expect(result.release.series.name).toBe('ocata');
    expect(result.track).toBe('ocata');
    expect(result.constraintsRef).toMatchObject({ type: 'tag', name: 'ocata-eol' });
    expect(result.constraintsCommit).toMatch(/^[0-9a-f]{40}$/);
    expect(result.excluded).toEqual([
      { name: 'tempest', from: 'part tempest source', removed: ['tempest===14.0.0'] },
    ]);

    const written = readFileSync(join(project, 'snap/local/upper-constraints.txt'), 'utf8');
    expect(written).toContain(`tag ocata-eol at ${result.constraintsCommit}`);
    expect(written).toContain('# Removed, as built from source: tempest');
    expect(written).not.toMatch(/^tempest===/m);
    expect(written).toMatch(/^tempest-lib===1\.0\.0$/m);
    const original = readFileSync(join(REQUIREMENTS, 'ocata-eol/upper-constraints.txt'), 'utf8');
    expect(written.split('\n').filter((l) => l && !l.startsWith('#'))).toHaveLength(
      original.split('\n').filter((l) => l && !l.startsWith('#')).length - 1,
    );
    // No base: snapcraft 2.43 takes a string, and replaces no SNAPCRAFT_PROJECT_DIR.
    expect(readFileSync(join(project, 'snapcraft.yaml'), 'utf8')).toContain(
      '    constraints: $SNAPCRAFT_STAGE/../snap/local/upper-constraints.txt\n',
    );
    expect(result.changed).toBe(true);
    expect(result.diff).toContain('+    constraints:');
  });

  it('drops horizon, built from a tarball in python-packages, from microstack on rocky', async () => {
    const project = fixtureCopy('CanonicalLtd/microstack/master');
    const result = await constrain(options(project, 'stable/rocky'));
    expect(result.constraintsRef?.name).toBe('rocky-eol');
    const removed = result.excluded.filter((e) => e.removed.length > 0).map((e) => e.name);
    expect(removed).toEqual(['horizon']);
    // python-openstackclient is installed from PyPI there, so it stays pinned.
    expect(readFileSync(result.constraintsFile!, 'utf8')).toMatch(/^python-openstackclient===/m);
  });

  it('resolves snap-openstack core22 on unmaintained/2023.1 and writes python-constraints', async () => {
    const project = fixtureCopy('canonical/snap-openstack/stable/2023.1');
    const result = await constrain(options(project, 'refs/heads/unmaintained/2023.1'));
    expect(result.constraintsRef?.name).toBe('unmaintained/2023.1');
    expect(result.track).toBe('2023.1');
    expect(result.snapcraftYaml).toBe(join(project, 'snap/snapcraft.yaml'));
    expect(readFileSync(result.snapcraftYaml, 'utf8')).toContain(
      'python-constraints:\n      - $CRAFT_PROJECT_DIR/snap/local/upper-constraints.txt\n',
    );
    expect(readFileSync(join(project, 'snap/local/upper-constraints.txt'), 'utf8')).toContain(
      readFileSync(join(REQUIREMENTS, 'unmaintained/2023.1/upper-constraints.txt'), 'utf8'),
    );
  });

  it('constrains the tiny snap the toolkit CI builds on hosted runners (core24, local python source)', async () => {
    const project = tempDir('osa-tiny-');
    cpSync(join(ROOT, 'examples/tiny-snap'), project, { recursive: true });
    const result = await constrain(options(project, 'master'));
    expect(result.excluded).toEqual([{ name: 'osa-tiny', from: 'part tools source', removed: [] }]);
    expect(readFileSync(join(project, 'snap/snapcraft.yaml'), 'utf8')).toContain(
      '    plugin: python\n    python-constraints:\n      - $CRAFT_PROJECT_DIR/snap/local/upper-constraints.txt\n    source: .\n',
    );
    expect(readFileSync(result.constraintsFile!, 'utf8')).toMatch(/^pbr===/m);
  });

  it('takes master for master builds and the latest track', async () => {
    const project = fixtureCopy('openstack-archive/snap-keystone/master');
    const result = await constrain(options(project, 'master'));
    expect(result).toMatchObject({ track: 'latest', constraintsRef: { name: 'master' } });
    expect(result.release.series.name).toBe('hibiscus');
  });

  it('lets the series input override what the branch says', async () => {
    const project = fixtureCopy('openstack-archive/snap-keystone/master');
    const result = await constrain(options(project, 'master', { series: 'epoxy' }));
    expect(result).toMatchObject({ track: '2025.1', constraintsRef: { name: 'stable/2025.1' } });
  });

  it('reads the constraints at the commit the plan resolved, not the tip the leg finds', async () => {
    const project = fixtureCopy('openstack-archive/snap-keystone/master');
    const [tip, parent] = git(server.path, ['rev-list', '-2', 'refs/heads/master'])
      .trim()
      .split('\n');
    const result = await constrain(options(project, 'master', { constraintsCommit: parent }));
    expect(result.constraintsCommit).toBe(parent);
    expect(parent).not.toBe(tip);
    const atParent = git(server.path, ['show', `${parent}:upper-constraints.txt`]);
    const written = readFileSync(result.constraintsFile!, 'utf8');
    // Every pin of that commit is there (less the snap's own projects), whatever the tip says.
    const pins = (text: string) => text.split('\n').filter((l) => /^[A-Za-z0-9]/.test(l));
    for (const line of pins(written)) expect(atParent).toContain(line);
    await expect(
      constrain(
        options(fixtureCopy('openstack-archive/snap-keystone/master'), 'master', {
          constraintsCommit: 'e'.repeat(40),
        }),
      ),
    ).rejects.toThrow(/does not contain the commit e{40} \('constraints-commit'\)/);
  });

  it('restores from the cache by commit on the second run', async () => {
    const cacheRoot = tempDir('osa-cache-');
    const first = await constrain(
      options(fixtureCopy('openstack-archive/snap-glance/master'), 'stable/2025.1', {
        cache: new DirectoryCache(cacheRoot),
      }),
    );
    const second = await constrain(
      options(fixtureCopy('openstack-archive/snap-glance/master'), 'stable/2025.1', {
        cache: new DirectoryCache(cacheRoot),
      }),
    );
    expect([first.cacheHit, second.cacheHit]).toEqual([false, true]);
    expect(readdirSync(cacheRoot)).toEqual([
      `openstack-upper-constraints-${first.constraintsCommit}`,
    ]);
    expect(readFileSync(second.constraintsFile!, 'utf8')).toBe(
      readFileSync(first.constraintsFile!, 'utf8'),
    );
  });

  it('writes to an output path and leaves the original alone', async () => {
    const project = fixtureCopy('openstack-archive/snap-nova/master');
    const before = readFileSync(join(project, 'snapcraft.yaml'), 'utf8');
    const output = join(tempDir(), 'out/snapcraft.yaml');
    const result = await constrain(options(project, 'stable/ocata', { output }));
    expect(readFileSync(join(project, 'snapcraft.yaml'), 'utf8')).toBe(before);
    expect(readFileSync(output, 'utf8')).toContain(
      'constraints: $SNAPCRAFT_STAGE/../snap/local/upper-constraints.txt',
    );
    expect(result.snapcraftYaml).toBe(output);
  });

  it('takes a pre-fetched constraints file without any git', async () => {
    const project = fixtureCopy('openstack-archive/snap-tempest/master');
    const result = await constrain(
      options(project, 'stable/ocata', {
        requirementsRepo: '/nonexistent',
        constraintsFile: join(REQUIREMENTS, 'ocata-eol/upper-constraints.txt'),
      }),
    );
    expect(result).toMatchObject({ constraintsRef: null, constraintsCommit: null });
    expect(readFileSync(result.constraintsFile!, 'utf8')).toContain(
      'pre-fetched upper-constraints.txt (commit unknown)',
    );
  });

  it('writes nothing in a dry run', async () => {
    const project = fixtureCopy('openstack-archive/snap-keystone/master');
    const before = readFileSync(join(project, 'snapcraft.yaml'), 'utf8');
    const result = await constrain(options(project, 'stable/ocata', { dryRun: true }));
    expect(result.changed).toBe(true);
    expect(readFileSync(join(project, 'snapcraft.yaml'), 'utf8')).toBe(before);
    expect(existsSync(join(project, 'snap/local'))).toBe(false);
  });

  describe('bad input: one clear error, and the project untouched', () => {
    const cases: [string, (dir: string) => Partial<ConstrainOptions>, RegExp][] = [
      [
        'a branch that names no series',
        () => ({ ref: 'stable/tomato' }),
        /'stable\/tomato' names no OpenStack series.*set the 'series' input/,
      ],
      [
        'an unknown series input',
        () => ({ series: 'tomato' }),
        /Unknown OpenStack series 'tomato'/,
      ],
      [
        'a branch that maps to nothing',
        () => ({ ref: 'feature/x' }),
        /not an OpenStack release branch/,
      ],
      [
        'a branch with shell characters',
        () => ({ ref: 'stable/2025.1;reboot' }),
        /not a branch or tag name/,
      ],
      [
        'a requirements repo that does not exist',
        () => ({ requirementsRepo: `${server.url.replace(/\/[^/]*$/, '')}/no-such-requirements` }),
        /Cannot read openstack\/requirements.*Check the 'requirements-repo' input/,
      ],
      [
        'a constraints path outside the project',
        () => ({ constraintsPath: '../../etc/uc.txt' }),
        /inside the snap project/,
      ],
      [
        'duplicate keys',
        (dir) => {
          const file = join(dir, 'snapcraft.yaml');
          writeFileSync(
            file,
            readFileSync(file, 'utf8').replace('grade: devel\n', 'grade: devel\ngrade: stable\n'),
          );
          return {};
        },
        /snapcraft\.yaml:\d+:1: duplicate key 'grade'/,
      ],
    ];
    it.each(cases)('%s', async (_name, change, message) => {
      const project = fixtureCopy('openstack-archive/snap-keystone/master');
      const extra = change(project);
      const before = readFileSync(join(project, 'snapcraft.yaml'), 'utf8');
      const error = await constrain(options(project, 'stable/ocata', extra)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
      expect(readFileSync(join(project, 'snapcraft.yaml'), 'utf8')).toBe(before);
      expect(existsSync(join(project, 'snap/local'))).toBe(false);
    });
  });
});
