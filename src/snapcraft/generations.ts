import { ConfigurationError } from '../platform/index.js';

/**
 * Which python plugin reads a part, and so which keys, types and variables it takes. Each row is
 * read from the source of the snapcraft (or craft-parts) that builds the base; the file is named
 * on the row.
 */
export type PythonPluginGeneration =
  'snapcraft-2.43' | 'snapcraft-v1' | 'core20-v2' | 'craft-parts';

/** One generation of snapcraft's python plugin, as its source has it. */
export interface PythonPluginRules {
  readonly generation: PythonPluginGeneration;
  /** How to name the plugin in a message. */
  readonly plugin: string;
  readonly constraints: string;
  readonly requirements: string;
  readonly packages: string;
  /** `string`: one path or URL (jsonschema `type: string`); `list`: a list of them. */
  readonly fileValue: 'string' | 'list';
  /** Keys the schema refuses that other generations use for the same thing. */
  readonly foreign: readonly string[];
  /**
   * The variables replaced in part properties before the plugin reads them; anything else that
   * looks like `$VAR` reaches the plugin (and pip) as those very characters.
   */
  readonly expands: readonly string[];
  /** The reference to a file `<rel>` of the project that this generation resolves to that file. */
  readonly projectFile: (rel: string) => string;
  /** How a relative path in constraints or requirements is resolved. */
  readonly pathBase: string;
  /** Where each rule above comes from. */
  readonly source: string;
}

// 2.43's replacement table: snapcraft/internal/project_loader/_env.py snapcraft_global_environment
// (the legacy branch that snapcraft 3.x/4.x bundle swaps TEMPLATES_DIR for EXTENSIONS_DIR), plus
// the part's own directories replaced in plugin options by lifecycle/_runner.py _replace_in_part.
const LEGACY_243_VARIABLES = [
  'SNAPCRAFT_ARCH_TRIPLET',
  'SNAPCRAFT_PARALLEL_BUILD_COUNT',
  'SNAPCRAFT_PROJECT_NAME',
  'SNAPCRAFT_PROJECT_VERSION',
  'SNAPCRAFT_PROJECT_GRADE',
  'SNAPCRAFT_STAGE',
  'SNAPCRAFT_PRIME',
  'SNAPCRAFT_TEMPLATES_DIR',
  'SNAPCRAFT_EXTENSIONS_DIR',
  'SNAPCRAFT_PART_SRC',
  'SNAPCRAFT_PART_BUILD',
  'SNAPCRAFT_PART_INSTALL',
] as const;

// From 3.5 on (and in snapcraft 7/8's snapcraft_legacy): pluginhandler/_part_environment.py
// get_snapcraft_global_environment, with the project directory, and the part's directories.
const LEGACY_VARIABLES = [
  'SNAPCRAFT_ARCH_TRIPLET',
  'SNAPCRAFT_EXTENSIONS_DIR',
  'SNAPCRAFT_PARALLEL_BUILD_COUNT',
  'SNAPCRAFT_PRIME',
  'SNAPCRAFT_PROJECT_NAME',
  'SNAPCRAFT_PROJECT_VERSION',
  'SNAPCRAFT_PROJECT_DIR',
  'SNAPCRAFT_PROJECT_GRADE',
  'SNAPCRAFT_STAGE',
  'SNAPCRAFT_TARGET_ARCH',
  'SNAPCRAFT_PART_SRC',
  'SNAPCRAFT_PART_SRC_WORK',
  'SNAPCRAFT_PART_BUILD',
  'SNAPCRAFT_PART_BUILD_WORK',
  'SNAPCRAFT_PART_INSTALL',
] as const;

// craft-parts' own (executor/environment.py _get_global_environment) and what snapcraft 7+ adds
// to them (snapcraft/parts/lifecycle.py _set_global_environment).
const CRAFT_PARTS_VARIABLES = [
  'CRAFT_ARCH_TRIPLET',
  'CRAFT_TARGET_ARCH',
  'CRAFT_ARCH_BUILD_ON',
  'CRAFT_ARCH_BUILD_FOR',
  'CRAFT_ARCH_TRIPLET_BUILD_ON',
  'CRAFT_ARCH_TRIPLET_BUILD_FOR',
  'CRAFT_PARALLEL_BUILD_COUNT',
  'CRAFT_PROJECT_DIR',
  'CRAFT_PROJECT_NAME',
  'CRAFT_PROJECT_VERSION',
  'CRAFT_STAGE',
  'CRAFT_PRIME',
  'SNAPCRAFT_ARCH_TRIPLET',
  'SNAPCRAFT_TARGET_ARCH',
  'SNAPCRAFT_PARALLEL_BUILD_COUNT',
  'SNAPCRAFT_PROJECT_VERSION',
  'SNAPCRAFT_PROJECT_GRADE',
  'SNAPCRAFT_PROJECT_DIR',
  'SNAPCRAFT_PROJECT_NAME',
  'SNAPCRAFT_STAGE',
  'SNAPCRAFT_PRIME',
] as const;

/** The table: one row per generation, from the sources each names. */
export const PYTHON_PLUGINS: Readonly<Record<PythonPluginGeneration, PythonPluginRules>> = {
  'snapcraft-2.43': {
    generation: 'snapcraft-2.43',
    plugin: "snapcraft 2.43's python plugin (no base)",
    constraints: 'constraints',
    requirements: 'requirements',
    packages: 'python-packages',
    fileValue: 'string',
    foreign: ['python-constraints', 'python-requirements'],
    expands: LEGACY_243_VARIABLES,
    // 2.43 has no SNAPCRAFT_PROJECT_DIR; SNAPCRAFT_STAGE is <project>/stage (project/_project_
    // options.py stage_dir), made before the pull step (pluginhandler makedirs). An absolute path
    // is found by all three reads: _find_file's two joins and the build manifest's
    // os.path.join(sourcedir, path), which a path relative to the part would miss under a
    // source-subdir.
    projectFile: (rel) => `$SNAPCRAFT_STAGE/../${rel}`,
    pathBase:
      "a URL, else the part's build directory (with source-subdir), then its source directory plus " +
      'source-subdir; the build manifest reads it again from the source directory alone',
    source:
      'snapcraft 2.43 snapcraft/plugins/python.py (schema(): requirements and constraints are ' +
      '{"type": "string"}; _find_file, _get_file_contents), snapcraft/_baseplugin.py ' +
      '(additionalProperties: false), snapcraft/internal/project_loader/_env.py and ' +
      '_config.py _expand_env (no SNAPCRAFT_PROJECT_DIR); the same in the legacy branch that ' +
      'snapcraft 3.x/4.x run for a project without a base (snapcraft/cli/_command.py ' +
      'run_legacy_snapcraft)',
  },
  'snapcraft-v1': {
    generation: 'snapcraft-v1',
    plugin: "snapcraft's v1 python plugin (base core or core18)",
    constraints: 'constraints',
    requirements: 'requirements',
    packages: 'python-packages',
    fileValue: 'list',
    foreign: ['python-constraints', 'python-requirements'],
    expands: LEGACY_VARIABLES,
    projectFile: (rel) => `$SNAPCRAFT_PROJECT_DIR/${rel}`,
    pathBase:
      "a URL, else the part's build directory (with source-subdir), then its source directory plus source-subdir",
    source:
      'snapcraft 3.0-4.x snapcraft/plugins/python.py and 4.x snapcraft/plugins/v1/python.py ' +
      '(requirements and constraints {"type": "array", "uniqueItems": true}; ' +
      '_get_normalized_property_set, _find_file); snapcraft 7 snapcraft_legacy/plugins/v1/python.py ' +
      'for core18; SNAPCRAFT_PROJECT_DIR in project_loader/_env.py from 3.5',
  },
  'core20-v2': {
    generation: 'core20-v2',
    plugin:
      "snapcraft's core20 python plugin (its schema allows only requirements, constraints and python-packages)",
    constraints: 'constraints',
    requirements: 'requirements',
    packages: 'python-packages',
    fileValue: 'list',
    foreign: ['python-constraints', 'python-requirements', 'python-version'],
    expands: LEGACY_VARIABLES,
    projectFile: (rel) => `$SNAPCRAFT_PROJECT_DIR/${rel}`,
    pathBase:
      "pip's own: each entry goes to pip as -c '<entry>' (single-quoted: no shell expansion) in the part's build directory",
    source:
      'snapcraft 4.x snapcraft/plugins/v2/python.py and 7/8 snapcraft_legacy/plugins/v2/python.py ' +
      '(get_schema: additionalProperties false, three arrays; get_build_commands: -c {c!r})',
  },
  'craft-parts': {
    generation: 'craft-parts',
    plugin: "craft-parts' python plugin (core22 and later)",
    constraints: 'python-constraints',
    requirements: 'python-requirements',
    packages: 'python-packages',
    fileValue: 'list',
    foreign: ['constraints', 'requirements', 'python-version'],
    expands: CRAFT_PARTS_VARIABLES,
    projectFile: (rel) => `$CRAFT_PROJECT_DIR/${rel}`,
    pathBase:
      "pip's own: each entry goes to pip as -c '<entry>' (single-quoted) in the part's build directory",
    source:
      'craft-parts craft_parts/plugins/python_plugin.py (PythonPluginProperties: three list[str]; ' +
      '_get_package_install_commands: -c {c!r}), plugins/properties.py (extra="forbid" for ' +
      '<plugin>-* keys), parts.py PartSpec (extra="forbid" for the rest), ' +
      'executor/environment.py expand_environment (CRAFT_PROJECT_DIR); snapcraft 7+ ' +
      'snapcraft/parts/lifecycle.py _set_global_environment (the SNAPCRAFT_* it also replaces)',
  },
};

/**
 * craft-parts' uv plugin: `uv sync --no-dev --no-editable --reinstall` with UV_FROZEN=true, so
 * every version comes from the project's uv.lock and nothing resolves at build time; `uv sync`
 * takes no constraints file (UV_CONSTRAINT is read by `uv pip` and by locking, neither of which
 * the plugin runs). Its only keys are uv-extras and uv-groups.
 * Source: craft-parts craft_parts/plugins/uv_plugin.py (UvPluginProperties,
 * _get_package_install_commands, get_build_environment).
 */
export const UV_PLUGIN = {
  plugin: 'uv',
  keys: ['uv-extras', 'uv-groups'],
  lockFile: 'uv.lock',
  source: 'craft-parts craft_parts/plugins/uv_plugin.py',
} as const;

/** Classifies a base; an unknown base is the user's to fix, not ours to guess. */
export function pythonGeneration(base: string | null, file: string): PythonPluginGeneration {
  if (base === null) return 'snapcraft-2.43';
  if (base === 'core' || base === 'core18') return 'snapcraft-v1';
  if (base === 'core20') return 'core20-v2';
  const match = /^core(\d\d)$/.exec(base);
  if (match && Number(match[1]) >= 22) return 'craft-parts';
  throw new ConfigurationError(
    `${file}: base '${base}' is not one this toolkit knows (core, core18, core20, core22, core24, core26 ...); fix the 'base' key.`,
  );
}

/** The reference a part's constraints key should hold for a file at `relPath` in the project. */
export function constraintsReference(generation: PythonPluginGeneration, relPath: string): string {
  return PYTHON_PLUGINS[generation].projectFile(relPath);
}
