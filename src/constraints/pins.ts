import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { baseFacts, type SnapcraftProject } from '../snapcraft/index.js';
import { compareReleases, markerMayApply } from './markers.js';
import { normalizePackageName, parseConstraints } from './upper-constraints.js';

/**
 * A version the snap itself asks for: a requirement with a version specifier (`==3.1.6`,
 * `<2`, `>=1.2,<1.4`) pip must honour, or a uv.lock entry (`==` its version).
 */
export interface Pin {
  readonly name: string;
  /** The specifier as written, `==3.1.6` or `<2,>=1`. */
  readonly spec: string;
  readonly marker: string | null;
  /** `major.minor` of the python the part installs for (markers are evaluated against it). */
  readonly python?: string;
  /** Where it is written: `requirements.txt:12`, `snapcraft.yaml python-packages`, `uv.lock`. */
  readonly where: string;
  /** pip parts get the constraints; uv parts install their lock and never see them. */
  readonly installer: 'pip' | 'uv';
}

/** A pin that the release's constraints disagree with. */
export interface PinConflict {
  readonly name: string;
  /** The version pinned (`3.1.6`), or the specifier a range needs (`<2`). */
  readonly pinned: string;
  /** An exact pin (`==`, `===`, a lock), not a range. */
  readonly exact: boolean;
  readonly constrained: string;
  readonly where: string;
  readonly installer: 'pip' | 'uv';
}

/** What the snap pins, with what could not be read offline. */
export interface SnapPins {
  readonly pins: Pin[];
  /** Files that name pins but are not in the project (remote sources, URLs), or are missing. */
  readonly unread: string[];
}

const REMOTE = /^[a-z][a-z0-9+.-]*:\/\/|^[\w.-]+@[\w.-]+:|^lp:/i;

/**
 * The directory a part's relative files are read from: its local source plus source-subdir, as
 * every generation's plugin resolves them (2.43/v1 _find_file, v2 and craft-parts' pip in the
 * build directory, a copy of the source). Null for a remote or absent source.
 */
export function partDirectory(
  project: SnapcraftProject,
  part: { source?: string; sourceSubdir?: string },
): string | null {
  if (!part.source || REMOTE.test(part.source)) return null;
  const dir = resolve(project.projectDir, part.source, part.sourceSubdir ?? '');
  return existsSync(dir) && statSync(dir).isDirectory() ? dir : null;
}

/**
 * The file an entry of a part's constraints or requirements names, on this machine: the project
 * variables replaced by the project directory (and 2.43's `$SNAPCRAFT_STAGE/..`), a relative path
 * read from the part's directory. Null for a URL or a file in a remote source.
 */
export function partFile(
  project: SnapcraftProject,
  part: { source?: string; sourceSubdir?: string },
  entry: string,
): string | null {
  if (REMOTE.test(entry)) return null;
  const projectRelative =
    /^\$\{?(?:SNAPCRAFT_PROJECT_DIR|CRAFT_PROJECT_DIR)\}?\/(.*)$/.exec(entry)?.[1] ??
    /^\$\{?SNAPCRAFT_STAGE\}?\/\.\.\/(.*)$/.exec(entry)?.[1];
  if (projectRelative !== undefined) return join(project.projectDir, projectRelative);
  if (entry.includes('$')) return null;
  if (isAbsolute(entry)) return entry;
  const dir = partDirectory(project, part);
  return dir ? join(dir, entry) : null;
}

/**
 * Every version the snap fixes for itself, read offline from the project: `==`/`===` pins in the
 * requirements files of its pip parts (nested -r and -c followed), in their python-packages, and
 * every package of its uv parts' uv.lock.
 */
export function snapPins(project: SnapcraftProject): SnapPins {
  const pins: Pin[] = [];
  const unread: string[] = [];
  const where = (file: string): string => relative(project.projectDir, file) || file;
  const python3 = baseFacts(project.base, project.file).python3;
  for (const part of project.pythonParts) {
    // plugin python2 (no base) or python-version: python2 installs for 2.7.
    const python = part.plugin === 'python2' || part.pythonVersion === 'python2' ? '2.7' : python3;
    const add = (found: Pin[]): void => {
      for (const pin of found) pins.push({ ...pin, python });
    };
    for (const entry of part.requirements) {
      const file = partFile(project, part, entry);
      if (!file) unread.push(`part '${part.name}' requirements '${entry}' (not in the project)`);
      else if (!existsSync(file))
        unread.push(`part '${part.name}' requirements '${entry}' (no ${where(file)})`);
      else add(requirementPins(file, project.projectDir, where, new Set()));
    }
    for (const pkg of part.pythonPackages) {
      const pin = parseRequirementLine(pkg);
      if (pin) add([{ ...pin, where: `part '${part.name}' python-packages`, installer: 'pip' }]);
    }
  }
  for (const part of project.uvParts) {
    const dir = partDirectory(project, part);
    const lock = dir ? join(dir, 'uv.lock') : null;
    if (!lock || !existsSync(lock)) {
      unread.push(
        `part '${part.name}' uv.lock (${lock ? `no ${where(lock)}` : 'not in the project'})`,
      );
      continue;
    }
    pins.push(...uvLockPins(lock, where(lock)).map((pin) => ({ ...pin, python: python3 })));
  }
  return { pins, unread };
}

/**
 * A requirement with a version specifier (`name==1.2`, `name[extra]<2,>=1 ; marker`); a name
 * alone, a URL or an option asks for no version.
 */
function parseRequirementLine(line: string): Omit<Pin, 'where' | 'installer'> | null {
  const match =
    /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*((?:===|==|!=|<=|>=|~=|<|>)[^;]*?)\s*(?:;\s*(.*?))?\s*$/.exec(
      line,
    );
  if (!match || /\s@\s|:\/\//.test(match[2]!)) return null;
  return { name: match[1]!, spec: match[2]!.replace(/\s+/g, ''), marker: match[3] ?? null };
}

function requirementPins(
  file: string,
  projectDir: string,
  where: (file: string) => string,
  seen: Set<string>,
): Pin[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const pins: Pin[] = [];
  // Continuation lines (`name==1 \` then `--hash=...`) are one requirement, as pip joins them.
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const number = i + 1;
    let line = lines[i]!;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + lines[++i];
    line = line.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const nested = /^(?:-r|-c|--requirement|--constraint)[\s=]+(\S+)/.exec(line);
    if (nested) {
      const target = nested[1]!;
      if (REMOTE.test(target)) continue;
      const path = resolve(dirname(file), target);
      // Only the project's files: a path out of it is not this snap's to read.
      if (!relative(projectDir, path).startsWith('..') && existsSync(path))
        pins.push(...requirementPins(path, projectDir, where, seen));
      continue;
    }
    if (line.startsWith('-')) continue;
    const pin = parseRequirementLine(line.replace(/\s--hash[=\s]\S+/g, ''));
    if (pin) pins.push({ ...pin, where: `${where(file)}:${number}`, installer: 'pip' });
  }
  return pins;
}

interface UvLock {
  package?: { name?: string; version?: string; source?: Record<string, unknown> }[];
}

// uv.lock: [[package]] name, version, source = { registry | git | url | path | directory |
// editable | virtual }. The project itself and local trees are built, not pinned.
function uvLockPins(file: string, where: string): Pin[] {
  let data: UvLock;
  try {
    data = parseToml(readFileSync(file, 'utf8')) as UvLock;
  } catch {
    return [];
  }
  return (data.package ?? [])
    .filter((p) => p.name && p.version)
    .filter(
      (p) => !['virtual', 'editable', 'directory', 'path'].some((k) => p.source && k in p.source),
    )
    .map((p) => ({
      name: p.name!,
      spec: `==${p.version!}`,
      marker: null,
      where,
      installer: 'uv' as const,
    }));
}

/**
 * Each requirement the release's constraints disagree with, once per name and file: no
 * constraint line whose marker may hold (for the part's python) satisfies its specifier, pip's
 * ResolutionImpossible. Names compare PEP 503-normalised, as pip compares them; where a marker
 * cannot be decided, a line that agrees settles it.
 */
export function pinConflicts(pins: readonly Pin[], constraintsText: string): PinConflict[] {
  const constraints = parseConstraints(constraintsText);
  const conflicts: PinConflict[] = [];
  const seen = new Set<string>();
  for (const pin of pins) {
    const env = { python: pin.python };
    if (!markerMayApply(pin.marker, env)) continue;
    const name = normalizePackageName(pin.name);
    const lines = constraints.filter(
      (c) => normalizePackageName(c.name) === name && markerMayApply(c.marker, env),
    );
    if (lines.length === 0 || lines.some((c) => satisfies(c.version, pin.spec) !== false)) continue;
    const key = `${name} ${pin.where.replace(/:\d+$/, '')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const exact = /^===?[^,]+$/.test(pin.spec);
    conflicts.push({
      name: pin.name,
      pinned: exact ? pin.spec.replace(/^=+/, '') : pin.spec,
      exact,
      constrained: lines[0]!.version,
      where: pin.where,
      installer: pin.installer,
    });
  }
  return conflicts;
}

/**
 * Whether `version` meets a specifier (`==1.2`, `<2,>=1`, `==1.*`, `~=1.4`), PEP 440 as far as
 * releases go; null where the pre- or post-release parts decide and this reader cannot.
 */
export function satisfies(version: string, spec: string): boolean | null {
  let result: boolean | null = true;
  for (const clause of spec.split(',')) {
    const match = /^(===|==|!=|<=|>=|~=|<|>)(.+)$/.exec(clause.trim());
    if (!match) return null;
    const [, op, wanted] = match as unknown as [string, string, string];
    let holds: boolean | null;
    if (op === '===') holds = version === wanted;
    else if (wanted.endsWith('.*')) {
      const prefix = wanted.slice(0, -2).split('.');
      const equal = releaseOf(version).slice(0, prefix.length).join('.') === prefix.join('.');
      holds = op === '==' ? equal : op === '!=' ? !equal : null;
    } else {
      const order = compareVersions(version, wanted);
      if (order === null) holds = null;
      else if (op === '~=') {
        const parts = wanted.split('.');
        const ceiling = [...parts.slice(0, -2), String(Number(parts[parts.length - 2]) + 1)];
        holds =
          parts.length >= 2 &&
          order >= 0 &&
          compareReleases(releaseOf(version).join('.'), ceiling.join('.')) < 0;
      } else
        holds =
          {
            '==': order === 0,
            '!=': order !== 0,
            '<': order < 0,
            '<=': order <= 0,
            '>': order > 0,
            '>=': order >= 0,
          }[op] ?? null;
    }
    if (holds === false) return false;
    if (holds === null) result = null;
  }
  return result;
}

function releaseOf(version: string): string[] {
  return (/^v?(\d+(?:\.\d+)*)/i.exec(version.trim())?.[1] ?? '').split('.');
}

// Orders by release (1.0 is 1.0.0), then pre-release < final < post; null where two different
// pre- or post-releases of one release would need more of PEP 440 than this.
function compareVersions(a: string, b: string): number | null {
  const order = compareReleases(releaseOf(a).join('.'), releaseOf(b).join('.'));
  if (order !== 0) return order;
  const rank = (v: string): [number, string] => {
    const rest = v
      .trim()
      .replace(/^v?\d+(?:\.\d+)*/i, '')
      .toLowerCase()
      .replace(/^[-_.]/, '');
    if (!rest) return [0, ''];
    if (/^(post|rev|r)/.test(rest)) return [1, rest];
    return [-1, rest];
  };
  const [ra, sa] = rank(a);
  const [rb, sb] = rank(b);
  if (ra !== rb) return ra - rb;
  return sa === sb ? 0 : null;
}

/** PEP 440 equality of two versions (1.0 is 1.0.0). */
export function sameVersion(a: string, b: string): boolean {
  return compareVersions(a, b) === 0;
}
