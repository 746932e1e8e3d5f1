import { ConfigurationError } from '../platform/index.js';
import type { Series, SeriesTable } from './series.js';

/** Which kind of OpenStack release ref a branch or tag is. */
export type ReleaseRefKind = 'master' | 'stable' | 'unmaintained' | 'eom' | 'eol';

/** A branch or tag of a snap repo, understood as an OpenStack release. */
export interface ReleaseRef {
  /** The ref as given, without `refs/heads/` or `refs/tags/`. */
  readonly ref: string;
  readonly kind: ReleaseRefKind;
  readonly series: Series;
}

// What a git ref name of OpenStack's can contain. Anything else (spaces, `$`, `;`, backquotes, `..`)
// is refused before it can reach a command line, a path or a cache key.
const SAFE_REF = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** Strips `refs/heads/` / `refs/tags/` and refuses names that are not plain git ref names. */
export function normaliseRefName(input: string): string {
  const ref = input.trim().replace(/^refs\/(heads|tags)\//, '');
  if (!ref) {
    throw new ConfigurationError(
      'The ref is empty: give a branch or tag such as master or stable/2025.1.',
    );
  }
  if (
    !SAFE_REF.test(ref) ||
    ref.includes('..') ||
    ref.includes('//') ||
    ref.endsWith('/') ||
    ref.endsWith('.lock')
  ) {
    throw new ConfigurationError(
      `'${ref}' is not a branch or tag name this toolkit accepts: use letters, digits, '.', '_', '-' and '/' ` +
        `only (e.g. master, stable/2025.1, unmaintained/zed, ocata-eol).`,
    );
  }
  return ref;
}

/** The development branch's names: OpenStack's `master`, and `main` of many snap repos on GitHub. */
export const DEVELOPMENT_BRANCHES = ['master', 'main'] as const;

/**
 * The branches that carry a release line, as glob patterns (`*` is one path segment): they build
 * with their release's constraints and publish to its track. The one definition of "release
 * branch": the pipeline's plan, the mirror's default dispatch filter and the examples use it.
 */
export const RELEASE_BRANCH_PATTERNS = [
  ...DEVELOPMENT_BRANCHES,
  'stable/*',
  'unmaintained/*',
] as const;

/**
 * The release a branch carries, or null when it is not a release branch (a feature branch, a
 * tag). A release branch of a series OpenStack does not know is the user's to fix.
 */
export function releaseBranch(input: string, table: SeriesTable): ReleaseRef | null {
  const ref = normaliseRefName(input);
  if (!/^(master|main|(stable|unmaintained)\/[^/]+)$/.test(ref)) return null;
  return parseReleaseRef(ref, table);
}

/**
 * The release a branch or tag carries (a release branch, or an -eol/-eom tag), or null when it is
 * shaped like none (a feature branch, a version tag): such refs build without release constraints.
 */
export function releaseRefOf(input: string, table: SeriesTable): ReleaseRef | null {
  const ref = normaliseRefName(input);
  if (!/^(master|main|(stable|unmaintained)\/[^/]+|[^/]+-(eol|eom))$/.test(ref)) return null;
  return parseReleaseRef(ref, table);
}

/**
 * Maps a branch or tag to its OpenStack series: `master` (or `main`), `stable/<id|name>`,
 * `unmaintained/<id|name>`, `<id|name>-eol`, `<id|name>-eom`.
 */
export function parseReleaseRef(input: string, table: SeriesTable): ReleaseRef {
  const ref = normaliseRefName(input);
  if ((DEVELOPMENT_BRANCHES as readonly string[]).includes(ref)) {
    return { ref, kind: 'master', series: table.development() };
  }
  const branch = /^(stable|unmaintained)\/([^/]+)$/.exec(ref);
  if (branch) {
    return {
      ref,
      kind: branch[1] as 'stable' | 'unmaintained',
      series: seriesOf(ref, branch[2]!, table),
    };
  }
  const tag = /^([^/]+)-(eol|eom)$/.exec(ref);
  if (tag) {
    return { ref, kind: tag[2] as 'eol' | 'eom', series: seriesOf(ref, tag[1]!, table) };
  }
  throw new ConfigurationError(
    `'${ref}' is not an OpenStack release branch or tag, so its series is unknown. Build from master, ` +
      `stable/<series>, unmaintained/<series> or a <series>-eol/-eom tag, or set the 'series' input.`,
  );
}

/**
 * The series a release-shaped ref names. A branch such as `stable/2023.1.2` (a point release
 * branch of a snap repo) is shaped like one but names none: the user says which series it
 * carries, or it builds as it is.
 */
function seriesOf(ref: string, key: string, table: SeriesTable): Series {
  const series = table.find(key);
  if (series) return series;
  throw new ConfigurationError(
    `'${ref}' names no OpenStack series: '${key}' is not a codename or release-id of openstack/releases ` +
      `(e.g. ${table.examples(4)}). To build it with a series' constraints, set the 'series' input ` +
      `(series: ${suggestSeries(key, table)}); if '${key}' is a series OpenStack ` +
      `added after this toolkit's release, update the toolkit.`,
  );
}

// A point-release branch (2023.1.2) carries its series (2023.1); anything else gets an example.
function suggestSeries(key: string, table: SeriesTable): string {
  const prefix = /^(\d{4}\.\d+)\.\d+$/.exec(key)?.[1];
  if (prefix && table.find(prefix)) return prefix;
  return (table.all().find((s) => s.status === 'maintained') ?? table.development()).key;
}

/** Whether a ref is shaped like a release ref but names no series this table knows. */
export function namesNoSeries(input: string, table: SeriesTable): boolean {
  const ref = normaliseRefName(input);
  const key = /^(?:stable|unmaintained)\/([^/]+)$|^([^/]+)-(?:eol|eom)$/.exec(ref);
  return key !== null && table.find(key[1] ?? key[2]!) === undefined;
}

/** Snap Store track per series: release-id (or codename) by default, `latest` for master. */
export function parseTrackMap(text: string, table: SeriesTable): Map<string, string> {
  const map = new Map<string, string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const match = /^([^=:\s]+)\s*[=:]\s*([a-z0-9][a-z0-9._-]*)$/.exec(line);
    if (!match) {
      throw new ConfigurationError(
        `track-map line ${index + 1} ('${raw.trim()}') is not 'series=track' (e.g. 2025.1=2025.1, master=latest).`,
      );
    }
    const key = match[1]!.toLowerCase();
    map.set(key === 'master' ? 'master' : table.get(key).key, match[2]!);
  }
  return map;
}

export function trackFor(
  release: ReleaseRef,
  map: ReadonlyMap<string, string> = new Map(),
): string {
  if (release.kind === 'master') return map.get('master') ?? 'latest';
  return map.get(release.series.key) ?? release.series.key;
}

/** How a ref is taken as a release: an explicit series and a track map may be given. */
export interface ReleaseOptions {
  /** A codename or release-id that overrides what the ref implies, whatever the ref. */
  readonly series?: string;
  readonly trackMap?: ReadonlyMap<string, string>;
  readonly table: SeriesTable;
}

/** A ref understood as a release, and the Snap Store track it publishes to. */
export interface ReleaseTarget {
  readonly release: ReleaseRef;
  readonly track: string;
}

/**
 * The one answer to "which release is this ref, and which track does it publish to", used by
 * constraints, publish and smoke-test. The `series` option rescues any ref (a feature branch, a
 * renamed branch): it is still checked as a safe ref name, then built as that series.
 */
export function releaseTarget(ref: string, options: ReleaseOptions): ReleaseTarget {
  const development = (DEVELOPMENT_BRANCHES as readonly string[]).includes(options.series ?? '');
  const release: ReleaseRef = options.series
    ? {
        ref: normaliseRefName(ref),
        // `series: master` (or main) means the series in development, published as master is.
        kind: development ? 'master' : 'stable',
        series: development ? options.table.development() : options.table.get(options.series),
      }
    : parseReleaseRef(ref, options.table);
  return { release, track: trackFor(release, options.trackMap) };
}

/**
 * The channels a smoke test takes companion snaps from, in order: the release's own track's edge;
 * the previous release's, since a new series' track stays empty until its first builds publish;
 * then latest. Master's previous release is the newest series before the one in development.
 */
export function companionChannels(target: ReleaseTarget, options: ReleaseOptions): string[] {
  const all = options.table.all();
  const current =
    target.release.kind === 'master' ? options.table.development() : target.release.series;
  const previous = all[all.findIndex((s) => s.key === current.key) + 1];
  const tracks = [target.track];
  if (previous)
    tracks.push(
      trackFor({ ref: target.release.ref, kind: 'stable', series: previous }, options.trackMap),
    );
  tracks.push('latest');
  return [...new Set(tracks)].map((track) => `${track}/edge`);
}
