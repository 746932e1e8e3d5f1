// STAND-IN for what each snapcraft generation does with a project's python and uv parts before and
// while it builds them, so a test that passes against the stand-in would pass against the real one.
// Written from the sources, independently of the toolkit's own table (src/snapcraft/generations.ts):
// a mistake in one is caught by the other. Each rule names the file it comes from.
//
// - snapcraft 2.43 (no base; also what snapcraft 3.x/4.x run for one, cli/_command.py
//   run_legacy_snapcraft): plugins/python.py schema() (requirements, constraints: string),
//   _baseplugin.py (additionalProperties: false), pluginhandler/_plugin_loader.py ("Failed to load
//   plugin: properties failed to load for ..."), project_loader/_env.py + _config.py _expand_env
//   (no SNAPCRAFT_PROJECT_DIR), lifecycle/_runner.py _replace_in_part (the part's dirs),
//   python.py _find_file (build dir, then source dir + source-subdir: "Failed to find the referred
//   constraints file at the given path") and _get_file_contents (the manifest reads
//   join(sourcedir, path) again in the build step).
// - snapcraft v1 plugin (core with 4.x, core18 with 7.x): plugins/v1/python.py, lists with
//   uniqueItems, SNAPCRAFT_PROJECT_DIR replaced (pluginhandler/_part_environment.py).
// - core20 (4.x-8.x): plugins/v2/python.py, additionalProperties false, pip -c '<entry>' in the
//   part's build directory (single-quoted: the shell replaces nothing).
// - craft-parts (core22+): plugins/python_plugin.py, plugins/properties.py and parts.py PartSpec
//   (extra="forbid"), executor/environment.py expand_environment plus snapcraft's SNAPCRAFT_*
//   (snapcraft/parts/lifecycle.py _set_global_environment); plugins/uv_plugin.py (uv sync with
//   UV_FROZEN=true: uv.lock must be there; uv itself from a build-snap or a uv-deps part).
// - pip: a pin (==) that a constraint (===) disagrees with stops the resolver (ResolutionImpossible);
//   a file it cannot open stops it ("Could not open requirements file").
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { parseDocument } from 'yaml';

/** The snapcraft a channel installs, and what it builds. */
export function snapcraftOfChannel(channel) {
  const track = (channel || 'latest/stable').split('/')[0];
  const byTrack = {
    '4.x': { version: '4.8.3', major: 4, bases: [null, 'core', 'core18', 'core20'] },
    '7.x': { version: '7.5.8', major: 7, bases: ['core18', 'core20', 'core22'] },
    '8.x': { version: '8.14.2', major: 8, bases: ['core20', 'core22', 'core24'] },
    latest: { version: '9.0.0', major: 9, bases: ['core22', 'core24', 'core26'] },
  };
  return byTrack[track] ?? byTrack.latest;
}

export class SnapcraftError extends Error {}
const fail = (message) => {
  throw new SnapcraftError(message);
};

/** The generation's name for a base: which plugin code reads a python part. */
export function generationOfBase(base) {
  if (base === null) return '2.43';
  if (base === 'core' || base === 'core18') return 'v1';
  if (base === 'core20') return 'v2';
  return 'craft-parts';
}

/**
 * Refuses the command line the real snapcraft of `snapcraft` refuses for this base (click's
 * messages), else returns how it builds: 'lxd', 'host' or 'destructive'.
 */
export function checkCommandLine(snapcraft, base, args) {
  if (!snapcraft.bases.includes(base)) {
    fail(
      base === null
        ? `snapcraft ${snapcraft.version} cannot build a snap without a base (snapcraft 5.0 dropped them): use the 4.x track`
        : `base '${base}' is not supported by snapcraft ${snapcraft.version}`,
    );
  }
  const [command, ...rest] = args;
  if (base === null) {
    // snapcraft 2.43's own CLI (cli/lifecycle.py, cli/_options.py): cleanbuild, snap, or bare.
    for (const option of rest.filter((a) => a.startsWith('-')))
      fail(`Error: no such option: ${option.split('=')[0]}`);
    if (command === 'cleanbuild') return 'lxd';
    if (command === undefined || command === 'snap') return 'host';
    if (command === 'pack') fail('Error: Missing argument "DIRECTORY".');
    if (command?.startsWith('-')) fail(`Error: no such option: ${command.split('=')[0]}`);
    fail(`Error: No such command "${command}".`);
  }
  if (command === 'cleanbuild')
    fail(
      snapcraft.major === 4
        ? 'The cleanbuild command is no longer supported when using the base keyword.'
        : `Error: No such command 'cleanbuild'.`,
    );
  // 4.x: `pack` packs a DIRECTORY (cli/lifecycle.py); 7+ `pack` builds the project.
  if (snapcraft.major === 4 && command === 'pack' && !rest.some((a) => !a.startsWith('-')))
    fail('Error: Missing argument "DIRECTORY".');
  if (snapcraft.major >= 8 && command === 'snap')
    fail(`Error: No such command 'snap'. Did you mean 'pack'?`);
  const mode = rest.includes('--destructive-mode') ? 'destructive' : 'lxd';
  if (rest.includes('--use-lxd') && mode === 'destructive')
    fail('--use-lxd and --destructive-mode cannot be used together');
  return mode;
}

/**
 * 2.43's cleanbuild installs snapcraft into its ubuntu:xenial container from the store, from
 * SNAPCRAFT_BUILD_ENVIRONMENT_CHANNEL_SNAPCRAFT or latest/stable (legacy lxd/_containerbuild.py
 * _inject_snapcraft, inject_from_host=False; build_providers/_snap.py _get_snap_channel); that
 * snapcraft then builds the project, and must be one that builds it.
 */
export function checkCleanbuildContainer(env) {
  const channel = env.SNAPCRAFT_BUILD_ENVIRONMENT_CHANNEL_SNAPCRAFT || 'latest/stable';
  const inner = snapcraftOfChannel(channel);
  try {
    checkCommandLine(inner, null, ['snap']);
  } catch (error) {
    fail(
      `(in the cleanbuild container, snapcraft ${inner.version} from ${channel}) ${error.message}`,
    );
  }
}

// Part keys that are not the plugin's (schema/snapcraft.yaml in 2.43 and 4.x, craft-parts
// parts.py PartSpec with its aliases): the union, which the python plugin keys are checked against.
const COMMON_PART_KEYS = new Set(
  (
    'plugin source source-type source-checksum source-branch source-commit source-depth ' +
    'source-subdir source-tag source-submodules source-channel after build-attributes ' +
    'build-environment build-packages build-snaps disable-parallel filesets organize ' +
    'override-build override-prime override-pull override-stage override-overlay overlay ' +
    'overlay-packages overlay-script parse-info prime stage stage-packages stage-snaps ' +
    'permissions build install prepare snap'
  ).split(' '),
);
const PLUGIN_KEYS = {
  2.43: {
    string: ['requirements', 'constraints'],
    list: ['python-packages'],
    other: ['process-dependency-links', 'python-version'],
  },
  v1: {
    string: [],
    list: ['requirements', 'constraints', 'python-packages'],
    other: ['process-dependency-links', 'python-version'],
  },
  v2: { string: [], list: ['requirements', 'constraints', 'python-packages'], other: [] },
  'craft-parts': {
    string: [],
    list: ['python-requirements', 'python-constraints', 'python-packages'],
    other: [],
  },
};
const FILE_KEYS = {
  2.43: ['constraints', 'requirements'],
  v1: ['constraints', 'requirements'],
  v2: ['constraints', 'requirements'],
  'craft-parts': ['python-constraints', 'python-requirements'],
};

/** The variables each generation replaces in part properties, with their values. */
function replacements(generation, dirs) {
  const legacy243 = {
    SNAPCRAFT_ARCH_TRIPLET: 'x86_64-linux-gnu',
    SNAPCRAFT_PARALLEL_BUILD_COUNT: '2',
    SNAPCRAFT_PROJECT_NAME: dirs.name,
    SNAPCRAFT_PROJECT_VERSION: dirs.version,
    SNAPCRAFT_PROJECT_GRADE: 'devel',
    SNAPCRAFT_STAGE: join(dirs.project, 'stage'),
    SNAPCRAFT_PRIME: join(dirs.project, 'prime'),
    SNAPCRAFT_TEMPLATES_DIR: '/snap/snapcraft/current/share/snapcraft/templates',
    SNAPCRAFT_PART_SRC: dirs.src,
    SNAPCRAFT_PART_BUILD: dirs.build,
    SNAPCRAFT_PART_INSTALL: dirs.install,
  };
  if (generation === '2.43') return legacy243;
  const legacy = {
    ...legacy243,
    SNAPCRAFT_PROJECT_DIR: dirs.project,
    SNAPCRAFT_TARGET_ARCH: 'amd64',
  };
  if (generation !== 'craft-parts') return legacy;
  return {
    ...Object.fromEntries(
      [
        'SNAPCRAFT_ARCH_TRIPLET',
        'SNAPCRAFT_PARALLEL_BUILD_COUNT',
        'SNAPCRAFT_PROJECT_NAME',
        'SNAPCRAFT_PROJECT_VERSION',
        'SNAPCRAFT_PROJECT_GRADE',
        'SNAPCRAFT_PROJECT_DIR',
        'SNAPCRAFT_STAGE',
        'SNAPCRAFT_PRIME',
        'SNAPCRAFT_TARGET_ARCH',
      ].map((k) => [k, legacy[k]]),
    ),
    CRAFT_PROJECT_DIR: dirs.project,
    CRAFT_PROJECT_NAME: dirs.name,
    CRAFT_STAGE: join(dirs.project, 'stage'),
    CRAFT_PRIME: join(dirs.project, 'prime'),
    CRAFT_ARCH_TRIPLET: 'x86_64-linux-gnu',
    CRAFT_ARCH_BUILD_FOR: 'amd64',
    CRAFT_ARCH_BUILD_ON: 'amd64',
  };
}

/** Replaces `$VAR` and `${VAR}` textually, as replace_attr does (craft-parts: longest first). */
export function expand(value, table) {
  const pairs = Object.entries(table).flatMap(([k, v]) => [
    [`$${k}`, v],
    [`\${${k}}`, v],
  ]);
  pairs.sort((a, b) => b[0].length - a[0].length);
  let out = value;
  for (const [k, v] of pairs) out = out.split(k).join(v);
  return out;
}

const isUrl = (value) => /^[a-z][a-z0-9+.-]*:\/\//i.test(value);

/**
 * snapcraft 2.43's (and the v1 plugin's) _find_file, on the part's directories as the build lays
 * them out: `<project>/parts/<part>/{src,build}` hold the part's source (build is a copy of it);
 * `<project>/stage` exists from the pull step on. Returns the real file, or null.
 */
export function findLegacyFile({ project, part, sourceDir, sourceSubdir = '' }, filename) {
  const partDir = join(project, 'parts', part);
  const candidates = [
    pyJoin(partDir, 'build', sourceSubdir, filename),
    pyJoin(partDir, 'src', sourceSubdir, filename),
  ];
  for (const candidate of candidates) {
    const real = onDisk({ project, partDir, sourceDir }, candidate);
    if (real && existsSync(real)) return real;
  }
  return null;
}

/** The manifest's read in 2.43's build step: open(join(sourcedir, path)), no source-subdir. */
export function readLegacyManifestFile({ project, part, sourceDir }, path) {
  const opened = pyJoin(project, 'parts', part, 'src', path);
  const real = onDisk({ project, partDir: join(project, 'parts', part), sourceDir }, opened);
  if (!real || !existsSync(real))
    fail(`FileNotFoundError: [Errno 2] No such file or directory: '${opened}'`);
  return real;
}

// Python's os.path.join: an absolute component starts the path afresh (Node's join does not).
function pyJoin(...parts) {
  const from = parts.findLastIndex((p) => isAbsolute(p));
  return join(...parts.slice(Math.max(0, from)));
}

// A path in the build's layout, as the file it is on this machine: normalised as the kernel walks
// `..` through directories that exist, then the part's src/build mapped to its source.
function onDisk({ partDir, sourceDir }, path) {
  const abs = normalize(path);
  for (const dir of ['src', 'build']) {
    const prefix = join(partDir, dir);
    if (abs === prefix || abs.startsWith(prefix + sep)) {
      if (!sourceDir) return null;
      return join(sourceDir, relative(prefix, abs));
    }
  }
  return abs;
}

/** The snapcraft.yaml of a project directory, where snapcraft looks for it. */
export function projectFile(dir) {
  for (const candidate of [
    'snap/snapcraft.yaml',
    'snapcraft.yaml',
    '.snapcraft.yaml',
    'build-aux/snap/snapcraft.yaml',
  ]) {
    if (existsSync(join(dir, candidate))) return join(dir, candidate);
  }
  fail(`Could not find snap/snapcraft.yaml. Are you sure you are in the right directory?`);
}

/** Reads the project as snapcraft would: data with merges applied. */
export function loadProject(dir) {
  const file = projectFile(dir);
  const document = parseDocument(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: false });
  if (document.errors.length)
    fail(`Issues while validating snapcraft.yaml: ${document.errors[0].message}`);
  return { file, data: document.toJS({ maxAliasCount: 1000 }) };
}

const PINNED =
  /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*((?:===|==|!=|<=|>=|~=|<|>)[^;\\#]*?)\s*(?:;(.*))?$/;
const norm = (name) => name.toLowerCase().replace(/[-_.]+/g, '-');
// The python3 of each base's Ubuntu release (no base: python-version picks 2.7 or 3.5).
const PYTHON = {
  null: '3.5',
  core: '3.5',
  core18: '3.6',
  core20: '3.8',
  core22: '3.10',
  core24: '3.12',
  core26: '3.14',
};

/** A requirement line's name, version and whether its marker holds (pip's packaging.markers). */
function pinOf(line, python) {
  const match = PINNED.exec(line.replace(/\s--hash[=\s]\S+/g, ''));
  if (!match) return null;
  const spec = match[2].replace(/\s+/g, '');
  return {
    name: match[1],
    spec,
    version: spec.replace(/^===?/, ''),
    applies: markerHolds(match[3], python),
  };
}

// Whether pip's candidate `version` meets `spec`, clause by clause, comparing numeric releases
// (1.0 is 1.0.0); `===` is string equality, as in packaging's specifiers.
function meets(version, spec) {
  const release = (v) =>
    v
      .replace(/[^0-9.].*$/, '')
      .split('.')
      .map(Number);
  const cmp = (a, b) => {
    const [pa, pb] = [release(a), release(b)];
    for (let i = 0; i < Math.max(pa.length, pb.length); i++)
      if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  };
  return spec.split(',').every((clause) => {
    const [, op, v] = /^(===|==|!=|<=|>=|~=|<|>)(.*)$/.exec(clause) ?? [];
    if (op === '===') return version === v;
    if (v?.endsWith('.*')) {
      const same =
        release(version)
          .slice(0, v.split('.').length - 1)
          .join('.') === v.slice(0, -2);
      return op === '==' ? same : !same;
    }
    const d = cmp(version, v ?? '');
    if (op === '~=') {
      const parts = v.split('.');
      return (
        d >= 0 &&
        cmp(
          version,
          `${parts
            .slice(0, -2)
            .concat(Number(parts.at(-2)) + 1)
            .join('.')}`,
        ) < 0
      );
    }
    return (
      { '==': d === 0, '!=': d !== 0, '<': d < 0, '<=': d <= 0, '>': d > 0, '>=': d >= 0 }[op] ??
      true
    );
  });
}

// python_version / python_full_version comparisons joined by and/or; what else a marker says is
// taken as holding (the stand-in knows no machine).
function markerHolds(marker, python) {
  if (!marker || !marker.trim()) return true;
  const cmp = (a, b) => {
    const pa = a.split('.').map(Number);
    const pb = b.split('.').map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++)
      if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
    return 0;
  };
  const ops = {
    '==': (d) => d === 0,
    '!=': (d) => d !== 0,
    '>=': (d) => d >= 0,
    '<=': (d) => d <= 0,
    '>': (d) => d > 0,
    '<': (d) => d < 0,
  };
  return marker.split(/\bor\b/).some((alt) =>
    alt.split(/\band\b/).every((term) => {
      const m = /(python_(?:full_)?version)\s*(==|!=|>=|<=|>|<)\s*["']([^"']+)["']/.exec(term);
      return m ? ops[m[2]](cmp(python, m[3])) : true;
    }),
  );
}

function fileLines(path) {
  const lines = [];
  const raw = readFileSync(path, 'utf8').split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i];
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + ' ' + raw[++i];
    lines.push(line.replace(/(^|\s)#.*$/, '').trim());
  }
  return lines;
}

/**
 * Checks a project's python and uv parts as `base`'s snapcraft (and pip) would, then returns the
 * lines it would print. Throws SnapcraftError with the real one's message where it would stop.
 */
export function checkParts(dir, base) {
  const generation = generationOfBase(base);
  const { data } = loadProject(dir);
  const printed = [];
  for (const [name, raw] of Object.entries(data.parts ?? {})) {
    const part = raw ?? {};
    const plugin = part.plugin;
    const source = typeof part.source === 'string' ? part.source : undefined;
    const local = source !== undefined && !isUrl(source) && !/^[\w.-]+@[\w.-]+:|^lp:/.test(source);
    const sourceDir =
      local && existsSync(resolve(dir, source)) && statSync(resolve(dir, source)).isDirectory()
        ? resolve(dir, source)
        : null;
    const sourceSubdir = part['source-subdir'] ?? '';
    const dirs = {
      project: dir,
      name: data.name,
      version: String(data.version ?? ''),
      src: join(dir, 'parts', name, 'src'),
      build: join(dir, 'parts', name, 'build', sourceSubdir),
      install: join(dir, 'parts', name, 'install'),
    };
    if (plugin === 'uv') {
      if (generation !== 'craft-parts')
        fail(`Issues while validating snapcraft.yaml: unknown plugin 'uv'`);
      checkUvPart(name, part, sourceDir, sourceSubdir, printed);
      continue;
    }
    if (!['python', 'python2', 'python3'].includes(plugin)) continue;
    // python2 and python3 are 2.43's own plugins (plugins/python2.py); v1 (4.x plugins/v1/) and
    // later have only python.
    if (plugin !== 'python' && generation !== '2.43')
      fail(
        generation === 'craft-parts'
          ? `Bad snapcraft.yaml content:\n- plugin not registered: '${plugin}' (in field 'parts.${name}')`
          : `Failed to load plugin: unknown plugin: '${plugin}'`,
      );
    const keys = PLUGIN_KEYS[generation];
    const pluginKeys = new Set([...keys.string, ...keys.list, ...keys.other]);
    for (const key of Object.keys(part)) {
      if (pluginKeys.has(key) || COMMON_PART_KEYS.has(key)) continue;
      if (generation === 'craft-parts')
        fail(
          `Bad snapcraft.yaml content:\n- extra field '${key}' not permitted in 'parts.${name}' configuration`,
        );
      fail(
        `Failed to load plugin: properties failed to load for ${name}: Additional properties are not allowed ('${key}' was unexpected)`,
      );
    }
    for (const key of keys.string) {
      if (key in part && typeof part[key] !== 'string')
        fail(
          `Failed to load plugin: properties failed to load for ${name}: The '${key}' property does not match the required schema: ${JSON.stringify(part[key])} is not of type 'string'`,
        );
    }
    for (const key of keys.list) {
      if (!(key in part)) continue;
      const value = part[key];
      if (!Array.isArray(value))
        fail(
          generation === 'craft-parts'
            ? `Bad snapcraft.yaml content:\n- input should be a valid list (in field 'parts.${name}.${key}')`
            : `Failed to load plugin: properties failed to load for ${name}: The '${key}' property does not match the required schema: ${JSON.stringify(value)} is not of type 'array'`,
        );
      if (generation !== 'craft-parts' && new Set(value).size !== value.length)
        fail(
          `Failed to load plugin: properties failed to load for ${name}: The '${key}' property does not match the required schema: ${JSON.stringify(value)} has non-unique elements`,
        );
    }
    const table = replacements(generation, dirs);
    const python =
      part['python-version'] === 'python2' || plugin === 'python2'
        ? '2.7'
        : (PYTHON[base] ?? '3.12');
    const pins = [];
    const constraints = [];
    for (const key of FILE_KEYS[generation]) {
      const entries = key in part ? [part[key]].flat() : [];
      for (const written of entries) {
        const entry = expand(written, table);
        if (isUrl(entry)) {
          printed.push(`(stand-in: ${entry} not fetched)`);
          continue;
        }
        let file;
        if (generation === '2.43' || generation === 'v1') {
          file = findLegacyFile({ project: dir, part: name, sourceDir, sourceSubdir }, entry);
          if (!file && !local && !isAbsolute(entry)) {
            printed.push(`(stand-in: ${entry} is in a remote source, not looked into)`);
            continue;
          }
          if (!file)
            fail(
              `Failed to find the referred ${key} file at the given path: '${entry}'.\nCheck the property and ensure the file exists.`,
            );
          if (generation === '2.43')
            readLegacyManifestFile({ project: dir, part: name, sourceDir }, entry);
        } else {
          // pip -c '<entry>' / -r '<entry>' in the part's build directory.
          if (!isAbsolute(entry) && !sourceDir && !entry.includes('$')) {
            printed.push(`(stand-in: ${entry} is in a remote source, not looked into)`);
            continue;
          }
          file = isAbsolute(entry)
            ? entry
            : sourceDir
              ? join(sourceDir, sourceSubdir, entry)
              : entry;
          if (!existsSync(file))
            fail(
              `ERROR: Could not open requirements file: [Errno 2] No such file or directory: '${entry}'`,
            );
        }
        for (const line of fileLines(file)) {
          const pin = pinOf(line, python);
          if (pin?.applies)
            (key.includes('constraints') ? constraints : pins).push({ ...pin, from: written });
        }
      }
    }
    for (const pkg of [part[keys.list.find((k) => k.endsWith('packages'))] ?? []].flat()) {
      const pin = pinOf(pkg, python);
      if (pin?.applies) pins.push({ ...pin, from: 'python-packages' });
    }
    for (const pin of pins) {
      // The constraint's version is the one candidate left: it must meet what the snap asks.
      const against = constraints.find(
        (c) => norm(c.name) === norm(pin.name) && !meets(c.version, pin.spec),
      );
      if (against)
        fail(
          `ERROR: Cannot install ${pin.name}${pin.spec} because these package versions have conflicting dependencies.\n` +
            `The conflict is caused by:\n    The user requested ${pin.name}${pin.spec}\n    The user requested (constraint) ${against.name}===${against.version}\n` +
            `ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts\n` +
            `Failed to run the build script for part '${name}'.`,
        );
    }
    printed.push(
      `Building ${name} (stand-in ${generation} python plugin: ${constraints.length} constraints, ${pins.length} pins)`,
    );
  }
  return printed;
}

function checkUvPart(name, part, sourceDir, sourceSubdir, printed) {
  for (const key of Object.keys(part)) {
    if (COMMON_PART_KEYS.has(key) || key === 'uv-extras' || key === 'uv-groups') continue;
    fail(
      `Bad snapcraft.yaml content:\n- extra field '${key}' not permitted in 'parts.${name}' configuration`,
    );
  }
  const hasUv =
    [part['build-snaps'] ?? []].flat().some((s) => String(s).startsWith('astral-uv')) ||
    [part.after ?? []].flat().includes('uv-deps');
  if (!hasUv)
    fail(
      `'uv' not found: part '${name}' (plugin: uv) needs the astral-uv build-snap or a uv-deps part in its 'after'`,
    );
  if (sourceDir && !existsSync(join(sourceDir, sourceSubdir, 'uv.lock')))
    fail(
      `error: Unable to find lockfile at \`uv.lock\`, but \`--frozen\` was provided. To create a lockfile, run \`uv lock\` or \`uv sync\` without the flag.\nFailed to run the build script for part '${name}'.`,
    );
  printed.push(`Building ${name} (stand-in uv plugin: uv sync --frozen)`);
}
