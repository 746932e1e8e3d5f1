import { isMap, LineCounter, parseDocument } from 'yaml';
import { DEFAULT_REQUIREMENTS_REPO } from '../constraints/index.js';
import { checkGitUrl, ConfigurationError, globMatcher } from '../platform/index.js';
import { checkArch } from '../snapcraft/index.js';

/**
 * The build repository's fleet.yml: the snaps it builds, where their sources are mirrored, and how
 * each is built. Snaps that live on opendev carry no workflow of their own: this file, in one
 * repository of the snap org, is where they are built from.
 *
 *   requirements: https://opendev.org/openstack/requirements
 *   branches: [master, 'stable/*', 'unmaintained/*']
 *   max-builds: 20
 *   snaps:
 *     keystone:
 *       repository: openstack-snaps/snap-keystone     # the GitHub mirror builds check out
 *       source: https://opendev.org/x/snap-keystone   # what it mirrors (for the mirror job)
 *       arches: amd64 arm64 ppc64el
 *       remote-arches: ppc64el
 */
export interface FleetSnap {
  /** The snap's name in the store (the key under `snaps`). */
  readonly name: string;
  readonly repository: { readonly owner: string; readonly repo: string };
  /** Where `repository` is mirrored from, if this fleet mirrors it. */
  readonly source: string | null;
  /** Glob patterns over branch names: which branches build. */
  readonly branches: readonly string[];
  readonly arches: readonly string[];
  readonly remoteArches: readonly string[];
  readonly nativeBuildMinutes: number;
  /** The project directory inside the repository. */
  readonly project: string;
  readonly smokeLevel: SmokeLevelSetting;
}

export interface FleetConfig {
  readonly file: string;
  readonly requirements: string;
  /** At most this many snap branches start building in one run; the rest wait for the next. */
  readonly maxBuilds: number;
  readonly snaps: readonly FleetSnap[];
}

export const SMOKE_LEVELS = ['none', 'deploy', 'smoke', 'upgrade'] as const;
export type SmokeLevelSetting = (typeof SMOKE_LEVELS)[number];

/** The release branches the build repository builds unless a snap says otherwise. */
export const DEFAULT_FLEET_BRANCHES = ['master', 'stable/*', 'unmaintained/*'];

/**
 * 20 snap branches a run: each is 3 build jobs and a smoke, results and publish job, so 20 is 60
 * build jobs, a Team organisation's 60 concurrent hosted jobs (Free has 20; the rest queue). A
 * constraints change on every branch of a 10-snap fleet (about 40 branches) takes two runs.
 */
export const DEFAULT_MAX_BUILDS = 20;
/** GitHub expands a matrix to at most 256 jobs. */
const MATRIX_LIMIT = 256;

const TOP_KEYS = ['requirements', 'branches', 'max-builds', 'snaps'];
const SNAP_KEYS = [
  'repository',
  'source',
  'branches',
  'arches',
  'remote-arches',
  'native-build-minutes',
  'project',
  'smoke-level',
];

/** Reads fleet.yml; everything wrong is said at once, each line naming where. */
export function parseFleetConfig(text: string, file = 'fleet.yml'): FleetConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    throw new ConfigurationError(
      document.errors
        .map((e) => {
          const pos = lineCounter.linePos(e.pos[0]);
          // A duplicate key is named: which snap was given twice.
          const key =
            e.code === 'DUPLICATE_KEY'
              ? ` ('${/^[^:\n]*/.exec(text.slice(e.pos[0]))![0].trim()}')`
              : '';
          return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}${key}`;
        })
        .join('\n'),
    );
  }
  if (!isMap(document.contents))
    throw new ConfigurationError(
      `${file}: a mapping with 'snaps' (and optionally ${TOP_KEYS.slice(0, 3).join(', ')}).`,
    );
  const data = document.toJS() as Record<string, unknown>;
  const problems: string[] = [];
  const say = (where: string, what: string): void =>
    void problems.push(`${file}: ${where}: ${what}`);
  unknownKeys(data, TOP_KEYS, 'the top level', say);

  const requirements = text_(data.requirements, 'requirements', say) ?? DEFAULT_REQUIREMENTS_REPO;
  try {
    checkGitUrl(requirements, `'requirements'`);
  } catch (error) {
    say('requirements', (error as Error).message);
  }
  const branches = patterns(data.branches, 'branches', say) ?? DEFAULT_FLEET_BRANCHES;
  const maxBuilds = whole(data['max-builds'], 'max-builds', 1, 50, say) ?? DEFAULT_MAX_BUILDS;

  const snaps: FleetSnap[] = [];
  const entries = data.snaps;
  if (!entries || typeof entries !== 'object' || Array.isArray(entries)) {
    say('snaps', 'a mapping of snap name to its settings (at least repository: owner/name)');
  } else {
    for (const [name, value] of Object.entries(entries as Record<string, unknown>)) {
      const before = problems.length;
      const snap = readSnap(name, value, branches, say);
      if (snap && problems.length === before) snaps.push(snap);
    }
    const builds = snaps.length && maxBuilds * Math.max(...snaps.map((s) => s.arches.length));
    if (builds > MATRIX_LIMIT)
      say(
        'max-builds',
        `${maxBuilds} snap branches of up to ${builds / maxBuilds} arches is ${builds} build jobs; GitHub runs at most ${MATRIX_LIMIT} from one matrix`,
      );
    const seen = new Map<string, string>();
    for (const snap of snaps) {
      const key = `${snap.repository.owner}/${snap.repository.repo}/${snap.project}`.toLowerCase();
      if (seen.has(key))
        say(
          `snaps.${snap.name}`,
          `builds the same repository and project as snaps.${seen.get(key)}`,
        );
      seen.set(key, snap.name);
    }
  }
  if (problems.length > 0) throw new ConfigurationError(problems.join('\n'));
  return { file, requirements, maxBuilds, snaps };
}

function readSnap(
  name: string,
  value: unknown,
  fleetBranches: readonly string[],
  say: (where: string, what: string) => void,
): FleetSnap | null {
  const where = `snaps.${name}`;
  const fail = (key: string, what: string): void => say(key ? `${where}.${key}` : where, what);
  // The store's rule for snap names: lower-case letters, digits and single hyphens, at most 40.
  if (!/^(?=.*[a-z])[a-z0-9](?:-?[a-z0-9])*$/.test(name) || name.length > 40)
    fail(
      '',
      `'${name}' is not a snap name (lower-case letters, digits and single hyphens, at most 40, at least one letter)`,
    );
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    fail('', 'a mapping with at least repository: owner/name');
    return null;
  }
  const data = value as Record<string, unknown>;
  unknownKeys(data, SNAP_KEYS, where, say);
  const repositoryText = text_(data.repository, `${where}.repository`, say);
  const match = repositoryText
    ? /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repositoryText)
    : null;
  if (!repositoryText)
    fail('repository', 'required: the GitHub repository (owner/name) the builds check out');
  else if (!match || /^\./.test(match[1]!) || /^\./.test(match[2]!))
    fail('repository', `'${repositoryText}' is not owner/name`);

  const source = text_(data.source, `${where}.source`, say);
  if (source) {
    try {
      checkGitUrl(source, `'source'`);
    } catch (error) {
      fail('source', (error as Error).message);
    }
  }
  const arches = words(data.arches, `${where}.arches`, say) ?? ['amd64', 'arm64', 'ppc64el'];
  const remoteArches = words(data['remote-arches'], `${where}.remote-arches`, say) ?? [];
  for (const arch of [...arches, ...remoteArches]) {
    try {
      checkArch(arch, `${where}`);
    } catch (error) {
      fail('arches', (error as Error).message.replace(`${where}: `, ''));
    }
  }
  for (const arch of remoteArches)
    if (!arches.includes(arch)) fail('remote-arches', `${arch} is not in arches`);
  const minutes =
    whole(data['native-build-minutes'], `${where}.native-build-minutes`, 1, 360, say) ?? 20;
  const project = text_(data.project, `${where}.project`, say) ?? '.';
  if (project.startsWith('/') || project.split('/').includes('..'))
    fail('project', `'${project}' must be a directory inside the repository`);
  const level = (text_(data['smoke-level'], `${where}.smoke-level`, say) ??
    'none') as SmokeLevelSetting;
  if (!SMOKE_LEVELS.includes(level))
    fail('smoke-level', `one of ${SMOKE_LEVELS.join(', ')}, not '${level}'`);
  const branches = patterns(data.branches, `${where}.branches`, say) ?? fleetBranches;
  if (!match) return null;
  return {
    name,
    repository: { owner: match[1]!, repo: match[2]! },
    source: source ?? null,
    branches,
    arches,
    remoteArches,
    nativeBuildMinutes: minutes,
    project,
    smokeLevel: level,
  };
}

function unknownKeys(
  data: Record<string, unknown>,
  known: readonly string[],
  where: string,
  say: (where: string, what: string) => void,
): void {
  for (const key of Object.keys(data))
    if (!known.includes(key)) say(where, `no key '${key}' (the keys are ${known.join(', ')})`);
}

function text_(
  value: unknown,
  where: string,
  say: (where: string, what: string) => void,
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !value.trim()) {
    say(where, `a non-empty string, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return value.trim();
}

/** A list, or one string of space-separated words. */
function words(
  value: unknown,
  where: string,
  say: (where: string, what: string) => void,
): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
    return value.map((v) => v.trim()).filter(Boolean);
  say(where, `a list of names, or one string of them, not ${JSON.stringify(value)}`);
  return undefined;
}

function patterns(
  value: unknown,
  where: string,
  say: (where: string, what: string) => void,
): string[] | undefined {
  const list = words(value, where, say);
  if (!list) return undefined;
  if (list.length === 0) say(where, 'at least one branch pattern');
  for (const pattern of list) {
    try {
      globMatcher(pattern, `${where} pattern`);
    } catch (error) {
      say(where, (error as Error).message);
    }
  }
  return list;
}

function whole(
  value: unknown,
  where: string,
  least: number,
  most: number,
  say: (where: string, what: string) => void,
): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < least || value > most) {
    say(where, `a whole number from ${least} to ${most}, not ${JSON.stringify(value)}`);
    return undefined;
  }
  return value;
}

/** Whether a branch of this snap builds: it matches the snap's patterns. */
export function snapBuildsBranch(snap: FleetSnap, branch: string): boolean {
  return snap.branches.some((pattern) => globMatcher(pattern, 'branches pattern')(branch));
}
