import { describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constrain, type ConstrainOptions } from '../src/constraints/constrain.js';
import { markerMayApply } from '../src/constraints/markers.js';
import { pinConflicts, sameVersion, snapPins, type Pin } from '../src/constraints/pins.js';
import { parseSnapcraftYaml, locateSnapcraftYaml } from '../src/snapcraft/yaml.js';
import { fixture, REQUIREMENTS, ROOT, tempDir } from './helpers/fixtures.js';
import { checkParts } from './standins/snapcraft-project.mjs';

const SNAPS = join(ROOT, 'test/snaps');

function copy(source: string): string {
  const dir = tempDir('osa-pins-');
  cpSync(source, dir, { recursive: true });
  return dir;
}

function load(dir: string) {
  const { file, projectDir } = locateSnapcraftYaml(dir);
  return parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir);
}

function options(dir: string, ref: string, uc: string, extra: Partial<ConstrainOptions> = {}) {
  return {
    project: dir,
    ref,
    requirementsRepo: '/nonexistent',
    constraintsFile: join(REQUIREMENTS, uc, 'upper-constraints.txt'),
    exclude: ['auto'],
    workDir: tempDir(),
    ...extra,
  };
}

describe('environment markers, as far as a build can tell', () => {
  it.each<[string | null, string | undefined, boolean]>([
    [null, '3.12', true],
    ["python_version=='3.9'", '3.12', false],
    ["python_version>='3.10'", '3.12', true],
    ["python_version >= '3.10' and python_version < '3.12'", '3.12', false],
    ["python_full_version < '3.10' or sys_platform == 'win32'", '3.12', false],
    ["sys_platform == 'win32'", '3.12', false],
    ["platform_machine == 'x86_64'", '3.12', true], // the machine is unknown: it may apply
    ["python_version=='3.9'", undefined, true],
    ["python_version=='2.7'", '2.7', true],
    ['(((', '3.12', true],
  ])('%s on python %s: %s', (marker, python, applies) => {
    expect(markerMayApply(marker, { python })).toBe(applies);
  });

  it('versions equal as PEP 440 has them', () => {
    expect(sameVersion('1.0', '1.0.0')).toBe(true);
    expect(sameVersion('3.1.6', '3.1.5')).toBe(false);
    expect(sameVersion('2.0.0rc1', '2.0.0')).toBe(false);
  });
});

describe("the snap's own pins, read offline", () => {
  it('from a requirements file exported from uv.lock (hashes, markers, comments) and python-packages', () => {
    const { pins, unread } = snapPins(load(join(SNAPS, 'core24-hypervisor-pins')));
    expect(unread).toEqual([]);
    expect(pins.map((p) => `${p.name}${p.spec} @ ${p.where} (python ${p.python})`)).toEqual([
      'annotated-types==0.7.0 @ requirements.txt:3 (python 3.12)',
      'jinja2==3.1.6 @ requirements.txt:6 (python 3.12)',
      'markupsafe==3.0.2 @ requirements.txt:9 (python 3.12)',
      'netaddr==1.3.0 @ requirements.txt:12 (python 3.12)',
      'networkx==3.4.2 @ requirements.txt:15 (python 3.12)',
      'networkx==3.2.1 @ requirements.txt:18 (python 3.12)',
      'oslo-config==9.8.0 @ requirements.txt:21 (python 3.12)',
      'pyyaml==6.0.2 @ requirements.txt:24 (python 3.12)',
      "uwsgi==2.0.28 @ part 'hypervisor' python-packages (python 3.12)",
    ]);
  });

  it('from uv.lock, without the project itself', () => {
    const { pins } = snapPins(load(join(SNAPS, 'core26-cinder-volume-uv')));
    expect(pins.map((p) => p.name)).not.toContain('cinder-volume-snap');
    expect(pins.find((p) => p.name === 'oslo-config')).toMatchObject({
      spec: '==9.8.0',
      where: 'uv.lock',
      installer: 'uv',
    });
  });

  it('against the constraints: names as pip compares them, markers for the base python', () => {
    const { pins } = snapPins(load(join(SNAPS, 'core24-hypervisor-pins')));
    const constraints = readFileSync(
      join(REQUIREMENTS, 'stable/2025.1/upper-constraints.txt'),
      'utf8',
    );
    expect(pinConflicts(pins, constraints)).toEqual([
      {
        name: 'jinja2',
        pinned: '3.1.6',
        exact: true,
        constrained: '3.1.5',
        where: 'requirements.txt:6',
        installer: 'pip',
      },
      {
        name: 'oslo-config',
        pinned: '9.8.0',
        exact: true,
        constrained: '9.7.2',
        where: 'requirements.txt:21',
        installer: 'pip',
      },
    ]);
  });

  it('says what it could not read (a remote source, a missing file)', () => {
    const dir = copy(join(SNAPS, 'core24-hypervisor-pins'));
    writeFileSync(
      join(dir, 'snap/snapcraft.yaml'),
      readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8').replace(
        'requirements.txt',
        'missing.txt',
      ),
    );
    expect(snapPins(load(dir)).unread).toEqual([
      "part 'hypervisor' requirements 'missing.txt' (no missing.txt)",
    ]);
  });
});

describe('constraints on a snap that pins its own versions: the user chooses, the strict stand-in agrees', () => {
  it('drop (the default): the two conflicting constraints go, listed; the stand-in pip resolves', async () => {
    const dir = copy(join(SNAPS, 'core24-hypervisor-pins'));
    const result = await constrain(options(dir, 'stable/2025.1', 'stable/2025.1'));
    expect(result).toMatchObject({
      applied: true,
      pinPolicy: 'drop',
      dropped: ['jinja2', 'oslo-config'],
    });
    // A warning each: the version the release tested is overridden, visibly.
    expect(result.warnings).toEqual([
      "jinja2: snap pins 3.1.6, 2025.1 constraints say 3.1.5 (requirements.txt:6): dropped from the constraints, the snap's pin wins.",
      "oslo-config: snap pins 9.8.0, 2025.1 constraints say 9.7.2 (requirements.txt:21): dropped from the constraints, the snap's pin wins.",
    ]);
    const written = readFileSync(result.constraintsFile!, 'utf8');
    expect(written).toMatch(
      /^# Dropped, as the snap pins another version \(pin-conflicts: drop\):$/m,
    );
    expect(written).not.toMatch(/^(Jinja2|oslo\.config)===/m);
    expect(written).toMatch(/^MarkupSafe===3\.0\.2$/m);
    // networkx==3.2.1 is for python < 3.10: pip sees eight pins on core24's 3.12.
    expect(checkParts(dir, 'core24').join()).toMatch(/ 8 pins/);
  });

  it('keep: the constraints stay, a warning each; the stand-in pip stops as the real one would', async () => {
    const dir = copy(join(SNAPS, 'core24-hypervisor-pins'));
    const result = await constrain(
      options(dir, 'stable/2025.1', 'stable/2025.1', { pinConflicts: 'keep' }),
    );
    expect(result.dropped).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^jinja2: snap pins 3.1.6, 2025.1 constraints say 3.1.5 .*kept \(pin-conflicts: keep\)/,
      ),
      expect.stringMatching(/^oslo-config: snap pins 9.8.0, 2025.1 constraints say 9.7.2/),
    ]);
    expect(() => checkParts(dir, 'core24')).toThrow(/jinja2==3.1.6.*\n[\s\S]*ResolutionImpossible/);
  });

  it('fail: one error listing every conflict, and nothing written', async () => {
    const dir = copy(join(SNAPS, 'core24-hypervisor-pins'));
    const before = readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8');
    await expect(
      constrain(options(dir, 'stable/2025.1', 'stable/2025.1', { pinConflicts: 'fail' })),
    ).rejects.toThrow(
      /2 of the snap's own pins disagree with 2025.1 \(epoxy\) constraints \(pin-conflicts: fail\); pip would stop on them with ResolutionImpossible:\n {2}jinja2: snap pins 3.1.6, 2025.1 constraints say 3.1.5 \(requirements.txt:6\)\n {2}oslo-config: .*\nChange the pins, or set 'pin-conflicts'/,
    );
    expect(readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'snap/local'))).toBe(false);
  });
});

describe('a snap whose python installs with uv', () => {
  it('is not refused: nothing written, the lock checked, and the summary says why', async () => {
    const dir = copy(join(SNAPS, 'core26-cinder-volume-uv'));
    const before = readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8');
    const result = await constrain(options(dir, 'stable/2026.1', 'stable/2026.1'));
    expect(result).toMatchObject({ applied: false, constraintsFile: null, changed: false });
    expect(result.notes).toEqual([
      expect.stringMatching(
        /^'cinder-volume-snap' installs with uv from uv.lock \(UV_FROZEN=true, craft-parts craft_parts\/plugins\/uv_plugin.py\), which takes no constraints file/,
      ),
      'No part installs with pip (plugin: python), so no constraints file was written and snap/snapcraft.yaml is unchanged.',
    ]);
    expect(result.warnings).toEqual([
      "oslo-config: snap pins 9.8.0, 2026.1 constraints say 10.3.0 (uv.lock): the uv part installs uv.lock's version; the release's constraints do not reach it.",
      "pydantic: snap pins 2.11.9, 2026.1 constraints say 2.12.5 (uv.lock): the uv part installs uv.lock's version; the release's constraints do not reach it.",
    ]);
    expect(readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'snap/local'))).toBe(false);
    expect(checkParts(dir, 'core26').join()).toMatch(/uv sync/);
  });

  it('fails on its lock only when asked to (pin-conflicts: fail)', async () => {
    const dir = copy(join(SNAPS, 'core26-cinder-volume-uv'));
    await expect(
      constrain(options(dir, 'stable/2026.1', 'stable/2026.1', { pinConflicts: 'fail' })),
    ).rejects.toThrow(
      /2 of the snap's own pins disagree with 2026.1 \(gazpacho\) constraints \(pin-conflicts: fail\):\n {2}oslo-config: snap pins 9.8.0, 2026.1 constraints say 10.3.0 \(uv.lock\)/,
    );
  });

  it('a snap with no python at all is no error either', async () => {
    const dir = tempDir('osa-go-');
    writeFileSync(
      join(dir, 'snapcraft.yaml'),
      'name: g\nbase: core24\nparts:\n  g:\n    plugin: go\n    source: .\n',
    );
    const result = await constrain(options(dir, 'master', 'master'));
    expect(result.applied).toBe(false);
    expect(result.notes).toEqual([
      'No part installs with pip (plugin: python), so no constraints file was written and snapcraft.yaml is unchanged.',
    ]);
  });
});

describe('a vendored constraints file that says it is another series', () => {
  it('is replaced with the "pinned to another series" warning a URL gets', async () => {
    const dir = copy(fixture('canonical/snap-openstack/stable/2023.1'));
    const result = await constrain(options(dir, 'stable/2024.1', 'unmaintained/2024.1'));
    expect(result.warnings).toContain(
      "part 'sunbeam-and-openstackclients' was pinned to stable/2023.1 constraints (2023.1); this build applies (2024.1, caracal) for stable/2024.1.",
    );
  });

  it('says nothing when the copy is of the series being built', async () => {
    const dir = copy(fixture('canonical/snap-openstack/stable/2023.1'));
    const result = await constrain(options(dir, 'unmaintained/2023.1', 'unmaintained/2023.1'));
    expect(result.warnings.filter((w) => /was pinned to/.test(w))).toEqual([]);
  });
});

describe('what the reader of pins decides, case by case', () => {
  const uc = (lines: string[]) => lines.join('\n') + '\n';
  const pin = (spec: string, extra: Partial<Pin> = {}): Pin => ({
    name: 'foo',
    spec,
    marker: null,
    where: 'requirements.txt:1',
    installer: 'pip',
    python: '3.12',
    ...extra,
  });

  it('a range the constraint falls outside is a conflict too (pip stops on it alike)', () => {
    expect(pinConflicts([pin('<2')], uc(['foo===2.1']))).toEqual([
      expect.objectContaining({ pinned: '<2', exact: false, constrained: '2.1' }),
    ]);
    expect(pinConflicts([pin('>=1.2,<2')], uc(['foo===1.9.4']))).toEqual([]);
    expect(pinConflicts([pin('~=1.4')], uc(['foo===2.0']))).toHaveLength(1);
    expect(pinConflicts([pin('==1.*')], uc(['foo===1.7']))).toEqual([]);
  });

  it('plugin python2 parts are read for python 2.7: its marker lines, not python 3', () => {
    const lines = uc([
      "enum34===1.1.10;python_version=='2.7'",
      "enum34===1.1.6;python_version>='3.0'",
    ]);
    expect(pinConflicts([pin('==1.1.6', { name: 'enum34', python: '2.7' })], lines)).toEqual([
      expect.objectContaining({ constrained: '1.1.10' }),
    ]);
    expect(pinConflicts([pin('==1.1.6', { name: 'enum34', python: '3.5' })], lines)).toEqual([]);
  });

  it('where the python is unknown, a line that agrees settles it: no false conflict', () => {
    const lines = uc([
      "numpy===1.24.4;python_version=='3.8'",
      "numpy===1.26.4;python_version>='3.9'",
    ]);
    expect(pinConflicts([pin('==1.26.4', { name: 'numpy', python: undefined })], lines)).toEqual(
      [],
    );
  });

  it('python_full_version is decided only where the minor version decides it', () => {
    expect(markerMayApply("python_full_version >= '3.8.5'", { python: '3.8' })).toBe(true);
    expect(markerMayApply("python_full_version < '3.8.1'", { python: '3.8' })).toBe(true);
    expect(markerMayApply("python_full_version < '3.10'", { python: '3.12' })).toBe(false);
    // ~=3.8 is >=3.8,==3.*; ~=3.8.0 is >=3.8.0,==3.8.*.
    expect(markerMayApply("python_version ~= '3.8'", { python: '3.12' })).toBe(true);
    expect(markerMayApply("python_version ~= '3.8.0'", { python: '3.12' })).toBe(false);
    expect(markerMayApply("python_version ~= '3.8.0'", { python: '3.8' })).toBe(true);
  });

  it('a plugin: python2 part of a base-less snap, end to end', () => {
    const dir = tempDir('osa-py2-');
    writeFileSync(
      join(dir, 'snapcraft.yaml'),
      'name: k\nparts:\n  k:\n    plugin: python2\n    source: .\n    requirements: requirements.txt\n',
    );
    writeFileSync(join(dir, 'requirements.txt'), 'enum34==1.1.6\n');
    expect(snapPins(load(dir)).pins).toEqual([expect.objectContaining({ python: '2.7' })]);
  });
});
