import { describe, expect, it } from '@jest/globals';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../scripts/lib/git-fixtures.mjs';
import { singleTargetYaml, snapArchitectures } from '../src/snapcraft/architectures.js';
import { ConfigurationError } from '../src/platform/errors.js';
import {
  buildMatrix,
  DEFAULT_ARCHES,
  type MatrixEntry,
  parseSelfHosted,
} from '../src/build/matrix.js';
import { matrixFor } from '../src/build/matrix-branches.js';
import { parseSnapcraftYaml } from '../src/snapcraft/yaml.js';
import { findFiles, fixture, ROOT, tempDir } from './helpers/fixtures.js';
import { runBundle } from './helpers/run-action.js';

const load = (file: string) => parseSnapcraftYaml(readFileSync(fixture(file), 'utf8'), file);
const snaps = findFiles('snapcraft.yaml').filter((f) => !f.includes('{{'));
const options = { arches: DEFAULT_ARCHES, emulate: true };
const summary = (file: string) =>
  buildMatrix(load(file), options).include.map(
    (e) =>
      `${e.arch}@${Array.isArray(e.runner) ? e.runner.join('+') : e.runner}${e.emulate ? '~emulated' : ''}`,
  );

/** What each real snapcraft.yaml may be built for. */
const expected: Record<string, string[]> = {
  'canonical/snap-openstack/main/snap/snapcraft.yaml': ['amd64@ubuntu-24.04'],
  'canonical/snap-openstack/stable/2023.1/snap/snapcraft.yaml': ['amd64@ubuntu-24.04'],
  'canonical/snap-openstack/stable/2023.2/snap/snapcraft.yaml': ['amd64@ubuntu-24.04'],
  'canonical/snap-openstack/stable/2024.1/snap/snapcraft.yaml': ['amd64@ubuntu-24.04'],
  'canonical/snap-openstack/stable/2025.1/snap/snapcraft.yaml': ['amd64@ubuntu-24.04'],
};
const everywhere = [
  'amd64@ubuntu-24.04',
  'arm64@ubuntu-24.04-arm',
  'ppc64el@ubuntu-24.04~emulated',
];

describe('matrix over every real snapcraft.yaml', () => {
  it.each(snaps)('%s', (file) => {
    expect(summary(file)).toEqual(expected[file] ?? everywhere);
    const { skipped } = buildMatrix(load(file), options);
    if (expected[file]) {
      // snap-openstack main also declares s390x, which the default arches do not ask for.
      const s390x = file.includes('/main/') ? ['s390x'] : [];
      expect(skipped.map((s) => s.arch)).toEqual(['arm64', 'ppc64el', ...s390x]);
      expect(skipped[0]!.reason).toMatch(/^snapcraft\.yaml builds only for amd64/);
      if (s390x.length)
        expect(skipped[2]!.reason).toBe(
          "declared in snapcraft.yaml but not requested (add it to 'arches')",
        );
    } else {
      expect(skipped).toEqual([]);
    }
  });

  it('reads core24 platforms with a second, emulated-only arch (snap-openstack main: amd64, s390x)', () => {
    const matrix = buildMatrix(load('canonical/snap-openstack/main/snap/snapcraft.yaml'), {
      arches: ['amd64', 's390x'],
      emulate: true,
    });
    expect(matrix.include).toEqual([
      {
        arch: 'amd64',
        platform: 'amd64',
        'build-on': 'amd64',
        runner: 'ubuntu-24.04',
        emulate: false,
        mode: 'native',
      },
      {
        arch: 's390x',
        platform: 's390x',
        'build-on': 's390x',
        runner: 'ubuntu-24.04',
        emulate: true,
        mode: 'emulated',
      },
    ]);
  });

  it('uses a self-hosted runner before emulation, and skips with a reason when neither is allowed', () => {
    const project = load('openstack-archive/snap-keystone/master/snapcraft.yaml');
    const selfHosted = parseSelfHosted('ppc64el=self-hosted, power9\n');
    expect(buildMatrix(project, { ...options, selfHosted }).include[2]).toMatchObject({
      arch: 'ppc64el',
      runner: ['self-hosted', 'power9'],
      emulate: false,
    });
    const { skipped } = buildMatrix(project, { ...options, emulate: false });
    expect(skipped).toEqual([
      { arch: 'ppc64el', reason: expect.stringMatching(/no runner.*emulation is off/) },
    ]);
  });
});

describe('architectures in every form', () => {
  const project = (yaml: string) =>
    parseSnapcraftYaml(`name: x\nparts: {}\n${yaml}`, 'snapcraft.yaml');
  it.each([
    [
      'legacy strings',
      'architectures: [amd64, arm64]\n',
      [
        ['amd64', 'amd64'],
        ['arm64', 'arm64'],
      ],
    ],
    [
      'core20 build-on/run-on',
      'base: core20\narchitectures:\n  - build-on: [amd64]\n    run-on: [amd64]\n  - build-on: ppc64el\n',
      [
        ['amd64', 'amd64'],
        ['ppc64el', 'ppc64el'],
      ],
    ],
    [
      'core22 cross build',
      'base: core22\narchitectures:\n  - build-on: [amd64]\n    build-for: [arm64]\n',
      [['amd64', 'arm64']],
    ],
    [
      'core24 platforms with names',
      'base: core24\nplatforms:\n  pi:\n    build-on: [amd64, arm64]\n    build-for: [arm64]\n  amd64:\n',
      [
        ['amd64,arm64', 'arm64'],
        ['amd64', 'amd64'],
      ],
    ],
  ])('%s', (_name, yaml, targets) => {
    expect(
      snapArchitectures(project(yaml)).targets.map((t) => [t.buildOn.join(','), t.buildFor]),
    ).toEqual(targets);
  });

  it('builds a cross target on its native build-on runner', () => {
    const p = project(
      'base: core22\narchitectures:\n  - build-on: [amd64]\n    build-for: [arm64]\n',
    );
    expect(buildMatrix(p, { arches: ['arm64'], emulate: true }).include).toEqual([
      {
        arch: 'arm64',
        platform: 'arm64',
        'build-on': 'amd64',
        runner: 'ubuntu-24.04',
        emulate: false,
        mode: 'native',
      },
    ]);
  });

  it.each([
    [
      'architectures: [ppc64le]\n',
      /'ppc64le' is not an architecture snapcraft knows.*note ppc64el, not ppc64le/,
    ],
    [
      'base: core24\nplatforms:\n  desktop:\n',
      /platform 'desktop' has no build-on\/build-for, so its name must be an architecture/,
    ],
    [
      'base: core24\nplatforms:\n  x:\n    build-on: [amd64]\n    build-for: [amd64, arm64]\n',
      /must build for exactly one architecture/,
    ],
  ])('refuses %j', (yaml, message) => {
    expect(() => snapArchitectures(project(yaml))).toThrow(ConfigurationError);
    expect(() => snapArchitectures(project(yaml))).toThrow(message);
  });

  it('refuses an unknown requested arch', () => {
    expect(() => buildMatrix(project(''), { arches: ['x86_64'], emulate: true })).toThrow(
      /'x86_64' is not an architecture/,
    );
  });
});

describe('release rebuilds: branch x arch from each branch of a real git repo', () => {
  function repo(): string {
    const dir = tempDir('osa-matrix-repo-');
    git(dir, ['init', '--quiet', '--initial-branch=master']);
    cpSync(fixture('canonical/snap-openstack/stable/2025.1/snap'), join(dir, 'snap'), {
      recursive: true,
    });
    git(dir, ['add', '.']);
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'core24']);
    git(dir, ['branch', 'stable/2025.1']);
    git(dir, ['checkout', '--quiet', '-b', 'stable/2023.1']);
    writeFileSync(
      join(dir, 'snap/snapcraft.yaml'),
      readFileSync(fixture('canonical/snap-openstack/stable/2023.1/snap/snapcraft.yaml')),
    );
    git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-am', 'core22']);
    git(dir, ['checkout', '--quiet', 'master']);
    return dir;
  }

  it('reads each branch from git and names the branch in every entry', async () => {
    const matrix = await matrixFor(repo(), { arches: ['amd64', 'arm64'], emulate: true }, [
      'stable/2025.1',
      'stable/2023.1',
    ]);
    expect(matrix.include.map((e) => [e.branch, e.arch])).toEqual([
      ['stable/2025.1', 'amd64'],
      ['stable/2023.1', 'amd64'],
    ]);
    expect(matrix.skipped.map((s) => [s.branch, s.arch])).toEqual([
      ['stable/2025.1', 'arm64'],
      ['stable/2023.1', 'arm64'],
    ]);
  });

  it('says how to fix a branch that is not there', async () => {
    await expect(matrixFor(repo(), options, ['stable/2024.2'])).rejects.toThrow(
      /Cannot read snap\/snapcraft\.yaml on 'stable\/2024\.2'.*fetch-depth: 0/,
    );
  });

  it('runs from its bundle and outputs JSON for strategy.matrix, each leg with its time', async () => {
    // A snap that builds in 2 minutes: 48 minutes emulated fits the emulated leg's 350.
    const run = await runBundle('matrix', {
      project: fixture('openstack-archive/snap-nova/master'),
      'native-build-minutes': '2',
    });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.outputs.matrix!)).toEqual({
      include: [
        {
          arch: 'amd64',
          platform: 'amd64',
          'build-on': 'amd64',
          runner: 'ubuntu-24.04',
          emulate: false,
          mode: 'native',
          'job-minutes': 120,
        },
        {
          arch: 'arm64',
          platform: 'arm64',
          'build-on': 'arm64',
          runner: 'ubuntu-24.04-arm',
          emulate: false,
          mode: 'native',
          'job-minutes': 120,
        },
        {
          arch: 'ppc64el',
          platform: 'ppc64el',
          'build-on': 'ppc64el',
          runner: 'ubuntu-24.04',
          emulate: true,
          mode: 'emulated',
          'job-minutes': 350,
          'build-minutes': 335,
        },
      ],
    });
    expect(run.outputs).toMatchObject({
      arches: 'amd64 arm64 ppc64el',
      'has-builds': 'true',
      skipped: '[]',
    });
    expect(run.summary).toContain('emulated ppc64el (qemu-user)');
  });

  it('refuses, before anything builds, a run that publishes an arch emulation cannot finish in time', async () => {
    // A service snap's 20 minutes native are 8 hours under qemu: past a hosted job's limit.
    const run = await runBundle('matrix', {
      project: fixture('openstack-archive/snap-nova/master'),
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /::error::ppc64el under qemu-user would take about 8\.3 hours \(native-build-minutes 20 × 24, the low end measured for a service snap\), past the 350 minutes an emulated leg may run .*, and this run would publish without ppc64el: build it on Launchpad \(remote-arches: ppc64el, with LAUNCHPAD_CREDENTIALS\), give a self-hosted ppc64el runner \(self-hosted\), or leave ppc64el out of 'arches'\./,
    );
  });

  it('on a pull request, skips that arch with a notice and caps every leg at the change limit', async () => {
    const run = await runBundle(
      'matrix',
      { project: fixture('openstack-archive/snap-nova/master'), publish: 'false' },
      { GITHUB_EVENT_NAME: 'pull_request' },
    );
    expect(run.status).toBe(0);
    const { include } = JSON.parse(run.outputs.matrix!) as {
      include: { arch: string; 'job-minutes': number }[];
    };
    expect(include.map((e) => [e.arch, e['job-minutes']])).toEqual([
      ['amd64', 55],
      ['arm64', 55],
    ]);
    expect(run.stdout).toMatch(
      /::notice::Not building ppc64el: ppc64el under qemu-user would take about 8\.3 hours .*past the 55 minutes a pull request or merge queue gives its checks .*: not built here \(a release run would refuse it too: build it on Launchpad/,
    );
  });

  it('warns about each arch it will not build', async () => {
    const run = await runBundle('matrix', {
      project: fixture('canonical/snap-openstack/stable/2024.1'),
    });
    expect(run.stdout).toContain(
      '::warning::Not building arm64: snapcraft.yaml builds only for amd64',
    );
    expect(JSON.parse(run.outputs.skipped!)).toHaveLength(2);
  });
});

describe('remote builds on Launchpad (remote-arches)', () => {
  const heavy = () =>
    parseSnapcraftYaml(
      readFileSync(join(ROOT, 'test/snaps/core22-keystone/snap/snapcraft.yaml'), 'utf8').replace(
        '    build-for: [arm64]\n',
        '    build-for: [arm64]\n  - build-on: [ppc64el]\n    build-for: [ppc64el]\n',
      ),
      'snapcraft.yaml',
    );
  const remote = {
    arches: ['ppc64el'],
    credentials: true,
    acceptPublicUpload: true,
    trusted: true,
    fallback: 'emulate' as 'emulate' | 'skip',
    timeoutMinutes: 330,
    privateRepository: false,
    publishes: true,
  };
  const ppc = (over: Partial<typeof remote> = {}, emulate = true) => {
    const m = buildMatrix(heavy(), { ...options, emulate, remote: { ...remote, ...over } });
    return {
      entry: m.include.find((e) => e.arch === 'ppc64el'),
      skipped: m.skipped.find((s) => s.arch === 'ppc64el'),
    };
  };

  it('builds a release push remotely, driven from the amd64 runner, waiting all but 20 minutes of the job', () => {
    expect(ppc().entry).toEqual({
      arch: 'ppc64el',
      platform: 'ppc64el',
      'build-on': 'ppc64el',
      runner: 'ubuntu-24.04',
      emulate: false,
      mode: 'remote',
      'launchpad-timeout': 310 * 60,
      reason: "Launchpad's builders",
    });
  });

  it.each([
    [
      { trusted: false },
      /pull requests and merge queues get no Launchpad credentials: emulated instead/,
    ],
    [{ credentials: false }, /no LAUNCHPAD_CREDENTIALS reached this run .*: emulated instead/],
  ])('falls back to emulation for %j, saying why', (over, reason) => {
    const { entry } = ppc(over);
    expect(entry).toMatchObject({ mode: 'emulated', emulate: true });
    expect(entry!.reason).toMatch(reason);
    expect(entry).not.toHaveProperty('launchpad-timeout');
  });

  it('skips a pull request’s remote arch with a notice when asked, and refuses to let a release build skip one', () => {
    expect(ppc({ trusted: false, publishes: false, fallback: 'skip' })).toEqual({
      entry: undefined,
      skipped: {
        arch: 'ppc64el',
        notice: true,
        reason: expect.stringMatching(
          /no Launchpad credentials: not built \(remote-fallback: skip\)/,
        ),
      },
    });
    expect(ppc({ trusted: false, publishes: false }, false).skipped!.reason).toMatch(
      /not built \(emulation is off\)/,
    );
    // Without credentials a release build would publish without ppc64el: that is refused.
    expect(() => ppc({ credentials: false, fallback: 'skip' })).toThrow(
      /no LAUNCHPAD_CREDENTIALS reached this run \(keep it in a deployment environment named by remote-environment.*this run would publish without ppc64el: fix that, or set 'remote-fallback: emulate'/,
    );
    expect(() => ppc({ credentials: false }, false)).toThrow(/and 'emulate: true'/);
    // A run that does not publish (a fork's push, a dispatch with publish: false) may skip it,
    // with a warning.
    expect(ppc({ credentials: false, fallback: 'skip', publishes: false }).skipped).toEqual({
      arch: 'ppc64el',
      reason: expect.stringMatching(/not built \(remote-fallback: skip\)/),
    });
  });

  it('never sends a private repository to Launchpad, whose builds are public', () => {
    const { entry } = ppc({ privateRepository: true });
    expect(entry).toMatchObject({ mode: 'emulated' });
    expect(entry!.reason).toMatch(/this repository is private and what Launchpad builds is public/);
  });

  it('builds a snap whose base the remote builder does not take emulated, saying so', () => {
    const legacy = buildMatrix(load('openstack-archive/snap-nova/master/snapcraft.yaml'), {
      ...options,
      remote,
    }).include[2]!;
    expect(legacy).toMatchObject({ arch: 'ppc64el', mode: 'emulated' });
    expect(legacy.reason).toMatch(
      /its base is none and Launchpad builds core22, core24, core26 only/,
    );
  });

  it('refuses a release run of a base-less service snap, naming why neither Launchpad nor qemu can build ppc64el', () => {
    expect(() =>
      buildMatrix(load('openstack-archive/snap-nova/master/snapcraft.yaml'), {
        ...options,
        remote,
        timing: {
          nativeMinutes: 20,
          nativeJobMinutes: 120,
          emulatedJobMinutes: 350,
          changeMinutes: 55,
          change: false,
          publishes: true,
        },
      }),
    ).toThrow(
      /ppc64el under qemu-user would take about 8\.3 hours .*: Launchpad cannot build it either \(its base is none and Launchpad builds core22, core24, core26 only .*\): give a self-hosted ppc64el runner \(self-hosted\), or leave ppc64el out of 'arches'\./,
    );
  });

  it('builds natively what has a runner, whatever remote-arches says', () => {
    const m = buildMatrix(heavy(), {
      ...options,
      remote: { ...remote, arches: ['arm64', 'ppc64el'] },
    });
    expect(m.include[1]).toMatchObject({
      arch: 'arm64',
      mode: 'native',
      runner: 'ubuntu-24.04-arm',
    });
    expect(m.include[1]!.reason).toMatch(/has a runner/);
  });

  it.each([
    [{ arches: ['s390x'] }, /'remote-arches' names s390x, which 'arches' does not ask for/],
    [{ arches: ['ppc64le'] }, /'ppc64le' is not an architecture/],
    [{ acceptPublicUpload: false }, /set 'launchpad-accept-public-upload: true'/],
    [{ fallback: 'later' }, /'remote-fallback' must be emulate or skip, not 'later'/],
    [{ timeoutMinutes: 20 }, /'remote-timeout-minutes' must be a whole number from 30 to 360/],
    [{ timeoutMinutes: 400 }, /from 30 to 360/],
    [{ timeoutMinutes: Number.NaN }, /not 'NaN'/],
  ])('refuses %j, saying what to change', (over, message) => {
    expect(() =>
      buildMatrix(heavy(), {
        ...options,
        remote: { ...remote, ...(over as Partial<typeof remote>) },
      }),
    ).toThrow(message);
  });

  it('runs from its bundle: the entry says remote, the smoke matrix leaves it out, the summary says where', async () => {
    const dir = tempDir('osa-matrix-remote-');
    cpSync(join(ROOT, 'test/snaps/core22-keystone'), dir, { recursive: true });
    writeFileSync(join(dir, 'snap/snapcraft.yaml'), heavy().document.toString());
    const inputs = {
      project: dir,
      'remote-arches': 'ppc64el',
      'remote-credentials': 'true',
      'launchpad-accept-public-upload': 'true',
    };
    const push = await runBundle('matrix', inputs, { GITHUB_EVENT_NAME: 'push' });
    expect(push.status).toBe(0);
    const include = (JSON.parse(push.outputs.matrix!) as { include: MatrixEntry[] }).include;
    expect(include.map((e) => `${e.arch}:${e.mode}`)).toEqual([
      'amd64:native',
      'arm64:native',
      'ppc64el:remote',
    ]);
    expect(include[2]!['launchpad-timeout']).toBe(310 * 60);
    const smoke = (JSON.parse(push.outputs['native-matrix']!) as { include: MatrixEntry[] })
      .include;
    expect(smoke.map((e) => e.arch)).toEqual(['amd64', 'arm64']);
    expect(push.summary).toContain('remote on Launchpad (snapcraft remote-build, waits 310 min)');

    const pr = await runBundle(
      'matrix',
      { ...inputs, 'remote-credentials': 'false', 'remote-fallback': 'skip' },
      { GITHUB_EVENT_NAME: 'pull_request' },
    );
    expect(pr.status).toBe(0);
    expect(pr.stdout).toMatch(/::notice::Not building ppc64el: remote-arches asks Launchpad/);
    expect(pr.stdout).not.toContain('::warning::');
    expect(pr.outputs.arches).toBe('amd64 arm64');
  });
});

describe('snapcraft.yaml cut to one target for Launchpad (singleTargetYaml)', () => {
  it.each([
    ['an indentless sequence (PyYAML’s dump)', 'architectures:\n- amd64\n- arm64\n', 'arm64'],
    [
      'core22 build-on/build-for lists',
      'architectures:\n  - build-on: [amd64, arm64]\n    build-for: [arm64]\n  - build-on: [ppc64el]\n    build-for: [ppc64el]\n',
      'ppc64el',
    ],
    [
      'block platforms, a comment after',
      'platforms: # all of them\n  amd64:\n  s390x:\n\n# keep me\n',
      's390x',
    ],
    ['flow platforms', 'platforms: {amd64: , s390x: }\n', 's390x'],
    [
      'a platform named as YAML 1.1 reads a boolean',
      'platforms:\n  "on":\n    build-on: [s390x]\n    build-for: [s390x]\n',
      's390x',
    ],
    ['CRLF', 'platforms:\r\n  amd64:\r\n  s390x:\r\n', 's390x'],
  ])('%s', (_, block, arch) => {
    const eol = block.includes('\r\n') ? '\r\n' : '\n';
    const text = `name: x${eol}base: core24${eol}${block}parts: {}${eol}`;
    const project = parseSnapcraftYaml(text, 'snapcraft.yaml');
    const target = snapArchitectures(project).targets.find((t) => t.buildFor === arch)!;
    const cut = singleTargetYaml(project, target);
    const again = parseSnapcraftYaml(cut, 'snapcraft.yaml');
    expect(snapArchitectures(again).targets).toEqual([{ ...target, platform: target.platform }]);
    // Everything else is as it was: the keys before and after, and comments after the value.
    expect(cut.startsWith(`name: x${eol}base: core24${eol}`)).toBe(true);
    expect(cut.endsWith(`parts: {}${eol}`)).toBe(true);
    if (block.includes('# keep me')) expect(cut).toContain('# keep me');
    // Platform names are quoted, so PyYAML reads "on" as a name, not True.
    if (block.startsWith('platforms')) expect(cut).toContain(`"${target.platform}":`);
  });
});
