import { ConfigurationError } from '../platform/index.js';
import { pythonGeneration, type PythonPluginGeneration } from './generations.js';

/**
 * What building a base takes: the one table. Which snapcraft builds it and how it is asked to,
 * the Ubuntu release it is built on (destructive mode needs the host to match), and that
 * release's python3 (what environment markers in requirements are evaluated against).
 */
export interface BaseFacts {
  /** `null`: no `base` key. */
  readonly base: string | null;
  readonly generation: PythonPluginGeneration;
  /** The Ubuntu release; undefined for a base newer than this table. */
  readonly series: string | undefined;
  /** `major.minor` of the release's python3. */
  readonly python3: string | undefined;
  /** The snapcraft snap channel that builds it. */
  readonly snapcraftChannel: string;
  /** snapcraft's arguments on a runner, building in an LXD instance snapcraft makes itself. */
  readonly build: readonly string[];
  /** snapcraft's arguments inside a container of the base's release (emulated builds). */
  readonly destructive: readonly string[];
  /** What snapcraft's environment needs for `build` (beside the runner's). */
  readonly buildEnv: Readonly<Record<string, string>>;
}

// Sources, per column:
// - channel: snapcraft's docs (howto/bases: core -> 4.x, core18 -> 7.x), snapcraft 5.0 dropping
//   base-less and core projects (snapd PR 10579 moved to 4.x for that), snapcraft 8 dropping
//   core18, snapcraft 9.0 dropping core20 (snapcraft PR 6019).
// - build arguments: a project with no base runs snapcraft 4.x's bundled 2.43 (cli/_command.py
//   run_legacy_snapcraft), whose CLI has cleanbuild (LXD, ubuntu:xenial) and no --use-lxd, and
//   builds on the host it runs on when run bare (cli/lifecycle.py, legacy branch); 4.x's `pack`
//   packs a directory, so its build is `snap` (cli/lifecycle.py); 7.x/8.x `pack` without a
//   directory builds (snapcraft_legacy/cli/lifecycle.py), as craft-application's does.
const PACK = {
  build: ['pack', '--use-lxd'],
  destructive: ['pack', '--destructive-mode'],
  buildEnv: {},
};
const ROWS: readonly Omit<BaseFacts, 'generation'>[] = [
  {
    base: null,
    series: 'xenial',
    python3: '3.5',
    snapcraftChannel: '4.x/stable',
    build: ['cleanbuild'],
    destructive: [],
    // cleanbuild installs snapcraft into its ubuntu:xenial container from the store, from
    // latest/stable unless told (legacy lxd/_containerbuild.py _inject_snapcraft with
    // inject_from_host=False; build_providers/_snap.py _get_snap_channel): latest refuses a
    // project without a base.
    buildEnv: { SNAPCRAFT_BUILD_ENVIRONMENT_CHANNEL_SNAPCRAFT: '4.x/stable' },
  },
  {
    base: 'core',
    series: 'xenial',
    python3: '3.5',
    snapcraftChannel: '4.x/stable',
    build: ['snap', '--use-lxd'],
    destructive: ['snap', '--destructive-mode'],
    buildEnv: {},
  },
  { base: 'core18', series: 'bionic', python3: '3.6', snapcraftChannel: '7.x/stable', ...PACK },
  { base: 'core20', series: 'focal', python3: '3.8', snapcraftChannel: '8.x/stable', ...PACK },
  { base: 'core22', series: 'jammy', python3: '3.10', snapcraftChannel: 'latest/stable', ...PACK },
  { base: 'core24', series: 'noble', python3: '3.12', snapcraftChannel: 'latest/stable', ...PACK },
  {
    base: 'core26',
    series: 'resolute',
    python3: '3.14',
    snapcraftChannel: 'latest/stable',
    ...PACK,
  },
];

/** What building `base` takes; a base newer than the table builds like core22+ on its own release. */
export function baseFacts(base: string | null, file: string): BaseFacts {
  const generation = pythonGeneration(base, file);
  const row = ROWS.find((r) => r.base === base);
  if (row) return { ...row, generation };
  return {
    base,
    generation,
    series: undefined,
    python3: undefined,
    snapcraftChannel: 'latest/stable',
    ...PACK,
  };
}

/**
 * Whether snapcraft `major` builds `base`, where that is certain from its releases: 5.0 dropped
 * base-less and core projects, 8.0 core18, 9.0 core20; core22 came with 7.0 and core24 with 8.0.
 * Undefined where the table cannot say (a base newer than it, an older major for core26).
 */
export function snapcraftBuilds(base: string | null, major: number): boolean | undefined {
  if (base === null || base === 'core') return major <= 4;
  if (base === 'core18') return major <= 7;
  if (base === 'core20') return major >= 4 && major <= 8;
  if (base === 'core22') return major >= 7;
  if (base === 'core24') return major >= 8;
  return undefined;
}

/** The Ubuntu release each known base is built on. */
export const BASE_SERIES: Readonly<Record<string, string>> = Object.fromEntries(
  ROWS.filter((r) => r.base !== null).map((r) => [r.base!, r.series!]),
);

/** The snapcraft channel that builds a base. */
export function snapcraftChannelFor(base: string | null, file: string): string {
  return baseFacts(base, file).snapcraftChannel;
}

/**
 * The snapcraft to upload and release with: the one for the snap's base where it reads
 * SNAPCRAFT_STORE_CREDENTIALS (7.x on; 4.x only logs in from a file), else the current stable.
 */
export function storeSnapcraftChannel(base: string | null): string {
  try {
    const channel = snapcraftChannelFor(base, 'the snap');
    return channel.startsWith('4.x/') ? 'latest/stable' : channel;
  } catch (error) {
    if (error instanceof ConfigurationError) return 'latest/stable';
    throw error;
  }
}
