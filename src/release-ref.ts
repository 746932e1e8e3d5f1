import { ConfigurationError } from './errors.js';
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

/**
 * Maps a branch or tag to its OpenStack series: `master`, `stable/<id|name>`,
 * `unmaintained/<id|name>`, `<id|name>-eol`, `<id|name>-eom`.
 */
export function parseReleaseRef(input: string, table: SeriesTable): ReleaseRef {
  const ref = normaliseRefName(input);
  if (ref === 'master' || ref === 'main') {
    return { ref, kind: 'master', series: table.development() };
  }
  const branch = /^(stable|unmaintained)\/([^/]+)$/.exec(ref);
  if (branch) {
    return { ref, kind: branch[1] as 'stable' | 'unmaintained', series: table.get(branch[2]!) };
  }
  const tag = /^([^/]+)-(eol|eom)$/.exec(ref);
  if (tag) {
    return { ref, kind: tag[2] as 'eol' | 'eom', series: table.get(tag[1]!) };
  }
  throw new ConfigurationError(
    `'${ref}' is not an OpenStack release branch or tag, so its series is unknown. Build from master, ` +
      `stable/<series>, unmaintained/<series> or a <series>-eol/-eom tag, or set the 'series' input.`,
  );
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
