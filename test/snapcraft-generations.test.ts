import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { constrain } from '../src/constraints/constrain.js';
import { ConfigurationError } from '../src/platform/errors.js';
import { baseFacts } from '../src/snapcraft/bases.js';
import { constraintsReference, PYTHON_PLUGINS } from '../src/snapcraft/generations.js';
import { locateSnapcraftYaml, parseSnapcraftYaml } from '../src/snapcraft/yaml.js';
import { findFiles, fixture, REQUIREMENTS, ROOT, tempDir } from './helpers/fixtures.js';
// The stand-in is plain JavaScript, written from snapcraft's and craft-parts' sources on its own.
import {
  checkCleanbuildContainer,
  checkCommandLine,
  checkParts,
  expand,
  findLegacyFile,
  readLegacyManifestFile,
  snapcraftOfChannel,
} from './standins/snapcraft-project.mjs';

const REL = 'snap/local/upper-constraints.txt';

/** A project of `base` with one python part whose constraints key holds `value` (YAML text). */
function project(base: string | null, part: string, files: Record<string, string> = {}): string {
  const dir = tempDir('osa-generation-');
  const yaml = [
    'name: osa-generation',
    "version: '1.0'",
    'summary: s',
    'description: d',
    ...(base ? [`base: ${base}`] : []),
    'grade: devel',
    'confinement: strict',
    'parts:',
    '  app:',
    part.replace(/^/gm, '    '),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'snapcraft.yaml'), yaml);
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  mkdirSync(join(dir, 'snap/local'), { recursive: true });
  writeFileSync(join(dir, REL), 'pbr===7.0.0\n');
  return dir;
}

const cases: {
  base: string | null;
  key: string;
  rightValue: string;
  wrong: [string, string, RegExp][];
}[] = [
  {
    base: null,
    key: 'constraints',
    rightValue: `$SNAPCRAFT_STAGE/../${REL}`,
    wrong: [
      [
        'a list',
        `constraints: [$SNAPCRAFT_STAGE/../${REL}]`,
        /properties failed to load for app: The 'constraints' property does not match the required schema: .* is not of type 'string'/,
      ],
      [
        'a variable 2.43 does not replace',
        `constraints: $SNAPCRAFT_PROJECT_DIR/${REL}`,
        /Failed to find the referred constraints file at the given path: '\$SNAPCRAFT_PROJECT_DIR\/snap\/local\/upper-constraints.txt'/,
      ],
      [
        "craft-parts' key",
        `python-constraints: [$SNAPCRAFT_STAGE/../${REL}]`,
        /Additional properties are not allowed \('python-constraints' was unexpected\)/,
      ],
    ],
  },
  {
    base: 'core18',
    key: 'constraints',
    rightValue: `[$SNAPCRAFT_PROJECT_DIR/${REL}]`,
    wrong: [
      ['a string', `constraints: $SNAPCRAFT_PROJECT_DIR/${REL}`, /is not of type 'array'/],
      [
        "craft-parts' variable",
        `constraints: [$CRAFT_PROJECT_DIR/${REL}]`,
        /Failed to find the referred constraints file at the given path: '\$CRAFT_PROJECT_DIR/,
      ],
      [
        'an entry twice',
        `constraints: [$SNAPCRAFT_PROJECT_DIR/${REL}, $SNAPCRAFT_PROJECT_DIR/${REL}]`,
        /has non-unique elements/,
      ],
    ],
  },
  {
    base: 'core20',
    key: 'constraints',
    rightValue: `[$SNAPCRAFT_PROJECT_DIR/${REL}]`,
    wrong: [
      ['a string', `constraints: $SNAPCRAFT_PROJECT_DIR/${REL}`, /is not of type 'array'/],
      [
        "craft-parts' variable",
        `constraints: [$CRAFT_PROJECT_DIR/${REL}]`,
        /Could not open requirements file: \[Errno 2\] No such file or directory: '\$CRAFT_PROJECT_DIR/,
      ],
      [
        'python-version, which v2 does not have',
        `constraints: [$SNAPCRAFT_PROJECT_DIR/${REL}]\npython-version: python3`,
        /Additional properties are not allowed \('python-version' was unexpected\)/,
      ],
    ],
  },
  {
    base: 'core26',
    key: 'python-constraints',
    rightValue: `[$CRAFT_PROJECT_DIR/${REL}]`,
    wrong: [
      ['a string', `python-constraints: $CRAFT_PROJECT_DIR/${REL}`, /input should be a valid list/],
      [
        'a part directory variable it does not replace',
        `python-constraints: [$SNAPCRAFT_PART_SRC/../../../${REL}]`,
        /Could not open requirements file: .*'\$SNAPCRAFT_PART_SRC/,
      ],
      [
        'the legacy key',
        `constraints: [$CRAFT_PROJECT_DIR/${REL}]`,
        /extra field 'constraints' not permitted in 'parts.app'/,
      ],
    ],
  },
];

describe('each generation, as the stand-in snapcraft reads it (from the real sources)', () => {
  describe.each(cases)('base $base', ({ base, key, rightValue, wrong }) => {
    const generation =
      PYTHON_PLUGINS[
        parseSnapcraftYaml(
          readFileSync(join(project(base, 'plugin: nil'), 'snapcraft.yaml'), 'utf8'),
          'snapcraft.yaml',
        ).generation
      ];

    it(`the toolkit's reference is ${rightValue}, and the stand-in finds the written file with it`, () => {
      const reference = constraintsReference(generation.generation, REL);
      expect(generation.constraints).toBe(key);
      expect(generation.fileValue === 'string' ? reference : `[${reference}]`).toBe(rightValue);
      const dir = project(base, `plugin: python\nsource: src\n${key}: ${rightValue}`);
      expect(checkParts(dir, base).join('\n')).toMatch(/1 constraints/);
    });

    it.each(wrong)('the stand-in refuses %s, as the real one does', (_what, part, message) => {
      const dir = project(base, `plugin: python\nsource: src\n${part}`);
      expect(() => checkParts(dir, base)).toThrow(message);
    });
  });

  it('uv parts: no constraints key, a uv.lock, and uv itself (craft-parts uv_plugin.py)', () => {
    const uv = (part: string, files = {}) =>
      project('core26', `plugin: uv\nsource: src\n${part}`, files);
    const lock = { 'src/uv.lock': 'version = 1\n' };
    expect(checkParts(uv('build-snaps: [astral-uv]', lock), 'core26').join()).toMatch(/uv sync/);
    expect(() =>
      checkParts(
        uv(`build-snaps: [astral-uv]\npython-constraints: [$CRAFT_PROJECT_DIR/${REL}]`, lock),
        'core26',
      ),
    ).toThrow(/extra field 'python-constraints' not permitted/);
    expect(() => checkParts(uv('build-snaps: [astral-uv]'), 'core26')).toThrow(
      /Unable to find lockfile at `uv.lock`/,
    );
    expect(() => checkParts(uv('', lock), 'core26')).toThrow(/'uv' not found/);
  });

  it('pip stops on a pin the constraints disagree with; a marker that does not hold is no pin', () => {
    const files = {
      'src/requirements.txt':
        "jinja2==3.1.6 \\\n    --hash=sha256:00\nnetworkx==3.2.1 ; python_full_version < '3.10'\n",
    };
    const dir = project(
      'core24',
      `plugin: python\nsource: src\npython-requirements: [requirements.txt]\npython-constraints: [$CRAFT_PROJECT_DIR/${REL}]`,
      files,
    );
    writeFileSync(join(dir, REL), 'Jinja2===3.1.5\nnetworkx===3.4.2\n');
    expect(() => checkParts(dir, 'core24')).toThrow(/ResolutionImpossible/);
    writeFileSync(join(dir, REL), 'Jinja2===3.1.6\nnetworkx===3.4.2\n');
    expect(checkParts(dir, 'core24').join()).toMatch(/2 constraints, 1 pins/);
  });
});

describe("snapcraft 2.43's file resolution (python.py _find_file and the build manifest)", () => {
  const dir = project(null, 'plugin: nil', { 'tools/setup.cfg': '[metadata]\nname = t\n' });
  const where = { project: dir, part: 'tools', sourceDir: dir, sourceSubdir: 'tools' };
  const target = join(dir, REL);

  it('a path relative to the part finds the file at pull and build, but the manifest misses it under a source-subdir', () => {
    const relativePath = `../../../../${REL}`;
    expect(findLegacyFile(where, relativePath)).toBe(target);
    expect(() => readLegacyManifestFile(where, relativePath)).toThrow(/No such file or directory/);
  });

  it("the toolkit's $SNAPCRAFT_STAGE/.. path, once 2.43 replaces the variable, is found by all three", () => {
    const table = { SNAPCRAFT_STAGE: join(dir, 'stage') };
    const value = expand(constraintsReference('snapcraft-2.43', REL), table);
    expect(value).toBe(`${dir}/stage/../${REL}`);
    expect(findLegacyFile(where, value)).toBe(target);
    expect(readLegacyManifestFile(where, value)).toBe(target);
    expect(findLegacyFile({ ...where, sourceSubdir: '' }, value)).toBe(target);
  });

  it('$SNAPCRAFT_PROJECT_DIR, which 2.43 leaves as it is, finds nothing', () => {
    expect(findLegacyFile(where, expand(`$SNAPCRAFT_PROJECT_DIR/${REL}`, {}))).toBeNull();
  });
});

describe('every base-less snap, constrained by the toolkit, gets past the stand-in 2.43', () => {
  const baseless = [
    ...findFiles('snapcraft.yaml')
      .filter((f) => !f.includes('{{') && !/^base:/m.test(readFileSync(fixture(f), 'utf8')))
      .map((f) => fixture(dirname(f))),
    join(ROOT, 'test/snaps/nobase-nova-subdir'),
    join(ROOT, 'examples/snap-keystone'),
  ];

  it('there are many of them, the seed snaps included', () => {
    expect(baseless.length).toBeGreaterThanOrEqual(17);
  });

  it.each(baseless)('%s', async (source) => {
    const dir = tempDir('osa-nobase-');
    cpSync(source, dir, { recursive: true });
    const result = await constrain({
      project: dir,
      ref: 'stable/ocata',
      requirementsRepo: '/nonexistent',
      constraintsFile: join(REQUIREMENTS, 'ocata-eol/upper-constraints.txt'),
      exclude: ['auto'],
      workDir: tempDir(),
    });
    expect(result.applied).toBe(true);
    for (const part of result.parts) expect(part.after).toEqual([`$SNAPCRAFT_STAGE/../${REL}`]);
    const printed = checkParts(dir, null);
    expect(
      printed.filter((l) => / constraints, /.test(l)).every((l) => !/ 0 constraints/.test(l)),
    ).toBe(true);
    // What the toolkit wrote before (a list on $SNAPCRAFT_PROJECT_DIR) is refused by 2.43.
    const { file } = locateSnapcraftYaml(dir);
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text.replaceAll(
        `constraints: $SNAPCRAFT_STAGE/../${REL}`,
        `constraints:\n      - $SNAPCRAFT_PROJECT_DIR/${REL}`,
      ),
    );
    expect(() => checkParts(dir, null)).toThrow(/is not of type 'string'/);
  });
});

describe('which snapcraft builds a base, and how it is asked to', () => {
  it.each([null, 'core', 'core18', 'core20', 'core22', 'core24', 'core26'])(
    'base %s: the snapcraft of its channel accepts its build command',
    (base) => {
      const facts = baseFacts(base, 'snapcraft.yaml');
      const snapcraft = snapcraftOfChannel(facts.snapcraftChannel);
      expect(checkCommandLine(snapcraft, base, [...facts.build])).toBe('lxd');
      expect(checkCommandLine(snapcraft, base, [...facts.destructive])).toBe(
        base === null ? 'host' : 'destructive',
      );
    },
  );

  it('refuses what the real ones refuse', () => {
    const v4 = snapcraftOfChannel('4.x/stable');
    const latest = snapcraftOfChannel('latest/stable');
    // click refuses the unknown option before it looks for the missing argument.
    expect(() => checkCommandLine(v4, null, ['pack', '--use-lxd'])).toThrow(
      /no such option: --use-lxd/,
    );
    expect(() => checkCommandLine(v4, null, ['pack'])).toThrow(/Missing argument "DIRECTORY"/);
    expect(() => checkCommandLine(v4, null, ['--use-lxd'])).toThrow(/no such option: --use-lxd/);
    expect(() => checkCommandLine(v4, 'core', ['pack', '--use-lxd'])).toThrow(
      /Missing argument "DIRECTORY"/,
    );
    expect(() => checkCommandLine(v4, 'core18', ['cleanbuild'])).toThrow(
      /no longer supported when using the base keyword/,
    );
    expect(() => checkCommandLine(latest, null, ['pack'])).toThrow(
      /cannot build a snap without a base/,
    );
    expect(() => checkCommandLine(latest, 'core20', ['pack'])).toThrow(/'core20' is not supported/);
  });

  it("2.43's cleanbuild builds with the snapcraft its container installs: the action names 4.x for it", () => {
    expect(() => checkCleanbuildContainer({})).toThrow(
      /in the cleanbuild container, snapcraft 9\.0\.0 from latest\/stable\) snapcraft 9\.0\.0 cannot build a snap without a base/,
    );
    const env = { ...baseFacts(null, 'f').buildEnv };
    expect(env).toEqual({ SNAPCRAFT_BUILD_ENVIRONMENT_CHANNEL_SNAPCRAFT: '4.x/stable' });
    expect(() => checkCleanbuildContainer(env)).not.toThrow();
  });

  it('knows every base from none to core26, and refuses one it does not', () => {
    expect(baseFacts('core26', 'f')).toMatchObject({
      series: 'resolute',
      snapcraftChannel: 'latest/stable',
    });
    expect(baseFacts(null, 'f')).toMatchObject({
      series: 'xenial',
      snapcraftChannel: '4.x/stable',
      build: ['cleanbuild'],
    });
    expect(() => baseFacts('bare', 'snapcraft.yaml')).toThrow(ConfigurationError);
  });
});
