import { ConfigurationError } from '../platform/index.js';

/** Which generation of snapcraft's python plugin a base uses, and so which keys it knows. */
export type PythonPluginGeneration = 'legacy' | 'core20' | 'craft-parts';

/** The python plugin's own keys in one generation, and the project directory variable it expands. */
export interface PythonPluginKeys {
  readonly constraints: string;
  readonly requirements: string;
  readonly packages: string;
  /** The other generation's spellings, which this one's schema refuses. */
  readonly foreign: readonly string[];
  /** What snapcraft replaces with the project directory in part properties. */
  readonly projectDirVariable: string;
  /** How to name the plugin in a message. */
  readonly plugin: string;
}

/**
 * The python plugin's keys per base: the one table. Sources, per row:
 * - legacy (no base, core, core18): snapcraft 2-7's v1 plugin, snapcraft_legacy/plugins/v1/python.py;
 *   `constraints` was a list (snapcraft 2.x also took a bare URL string). Part properties have
 *   `$SNAPCRAFT_PROJECT_DIR` replaced (snapcraft_legacy/internal/project_loader/_config.py _expand_env).
 * - core20: snapcraft 7/8's v2 plugin, snapcraft_legacy/plugins/v2/python.py; its schema has
 *   requirements, constraints, python-packages (lists) and additionalProperties: false, so a
 *   `python-constraints` is refused. Same `$SNAPCRAFT_PROJECT_DIR` replacement.
 * - craft-parts (core22, core24, core26): craft_parts/plugins/python_plugin.py, python-requirements,
 *   python-constraints, python-packages; craft-parts replaces `$CRAFT_PROJECT_DIR`.
 */
export const PYTHON_PLUGIN_KEYS: Readonly<Record<PythonPluginGeneration, PythonPluginKeys>> = {
  legacy: {
    constraints: 'constraints',
    requirements: 'requirements',
    packages: 'python-packages',
    foreign: ['python-constraints', 'python-requirements'],
    projectDirVariable: '$SNAPCRAFT_PROJECT_DIR',
    plugin: "snapcraft's legacy python plugin (no base, core, core18)",
  },
  core20: {
    constraints: 'constraints',
    requirements: 'requirements',
    packages: 'python-packages',
    foreign: ['python-constraints', 'python-requirements'],
    projectDirVariable: '$SNAPCRAFT_PROJECT_DIR',
    plugin:
      "snapcraft's core20 python plugin (its schema allows only requirements, constraints and python-packages)",
  },
  'craft-parts': {
    constraints: 'python-constraints',
    requirements: 'python-requirements',
    packages: 'python-packages',
    foreign: ['constraints', 'requirements'],
    projectDirVariable: '$CRAFT_PROJECT_DIR',
    plugin: "craft-parts' python plugin (core22 and later)",
  },
};

/** Classifies a base; an unknown base is the user's to fix, not ours to guess. */
export function pythonGeneration(base: string | null, file: string): PythonPluginGeneration {
  if (base === null || base === 'core' || base === 'core18') return 'legacy';
  if (base === 'core20') return 'core20';
  const match = /^core(\d\d)$/.exec(base);
  if (match && Number(match[1]) >= 22) return 'craft-parts';
  throw new ConfigurationError(
    `${file}: base '${base}' is not one this toolkit knows (core, core18, core20, core22, core24, core26 ...); fix the 'base' key.`,
  );
}

/** The reference a part's constraints key should hold for a file at `relPath` in the project. */
export function constraintsReference(generation: PythonPluginGeneration, relPath: string): string {
  // Snapcraft expands its project variable in part properties, so the reference works whether
  // the part's source is local or a remote tarball, and inside the LXD build instance.
  return `${PYTHON_PLUGIN_KEYS[generation].projectDirVariable}/${relPath}`;
}
