import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { SnapcraftProject } from '../snapcraft/index.js';
import { compareReleases, markerMayApply, type MarkerEnvironment } from './markers.js';
import { normalizePackageName, parseConstraints } from './upper-constraints.js';

/** A version the snap itself fixes: an `==` pin pip must honour, or a uv.lock entry. */
export interface Pin {
  readonly name: string;
  readonly version: string;
  readonly marker: string | null;
  /** Where it is written: `requirements.txt:12`, `snapcraft.yaml python-packages`, `uv.lock`. */
  readonly where: string;
  /** pip parts get the constraints; uv parts install their lock and never see them. */
  readonly installer: 'pip' | 'uv';
}

/** A pin that the release's constraints disagree with. */
export interface PinConflict {
  readonly name: string;
  readonly pinned: string;
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
  for (const part of project.pythonParts) {
    for (const entry of part.requirements) {
      const file = partFile(project, part, entry);
      if (!file) unread.push(`part '${part.name}' requirements '${entry}' (not in the project)`);
      else if (!existsSync(file))
        unread.push(`part '${part.name}' requirements '${entry}' (no ${where(file)})`);
      else pins.push(...requirementPins(file, project.projectDir, where, new Set()));
    }
    for (const pkg of part.pythonPackages) {
      const pin = parseRequirementLine(pkg);
      if (pin)
        pins.push({ ...pin, where: `part '${part.name}' python-packages`, installer: 'pip' });
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
    pins.push(...uvLockPins(lock, where(lock)));
  }
  return { pins, unread };
}

/** `name==1.2` / `name===1.2` (extras and a marker allowed); anything looser pins nothing. */
function parseRequirementLine(line: string): Omit<Pin, 'where' | 'installer'> | null {
  const match =
    /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(===?)\s*([^\s;,*]+)\s*(?:;\s*(.*?))?\s*$/.exec(
      line,
    );
  if (!match) return null;
  return { name: match[1]!, version: match[3]!, marker: match[4] ?? null };
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
      version: p.version!,
      marker: null,
      where,
      installer: 'uv' as const,
    }));
}

/**
 * Each pin the release's constraints disagree with, once per name and file: a constraint line
 * whose marker may apply for the base's python and whose version is not the pinned one
 * (PEP 440 equality: 1.0 is 1.0.0). Names compare PEP 503-normalised, as pip compares them.
 */
export function pinConflicts(
  pins: readonly Pin[],
  constraintsText: string,
  env: MarkerEnvironment,
): PinConflict[] {
  const constraints = parseConstraints(constraintsText);
  const conflicts: PinConflict[] = [];
  const seen = new Set<string>();
  for (const pin of pins) {
    if (!markerMayApply(pin.marker, env)) continue;
    const name = normalizePackageName(pin.name);
    const against = constraints.find(
      (c) =>
        normalizePackageName(c.name) === name &&
        markerMayApply(c.marker, env) &&
        !sameVersion(c.version, pin.version),
    );
    const key = `${name} ${pin.where.replace(/:\d+$/, '')}`;
    if (!against || seen.has(key)) continue;
    seen.add(key);
    conflicts.push({
      name: pin.name,
      pinned: pin.version,
      constrained: against.version,
      where: pin.where,
      installer: pin.installer,
    });
  }
  return conflicts;
}

/** PEP 440 equality of the release segment with its local and pre/post parts compared as text. */
export function sameVersion(a: string, b: string): boolean {
  const split = (v: string): [string, string] => {
    const m = /^v?(\d+(?:\.\d+)*)(.*)$/i.exec(v.trim());
    return m ? [m[1]!, m[2]!.toLowerCase()] : [v, ''];
  };
  const [ra, rest1] = split(a);
  const [rb, rest2] = split(b);
  return compareReleases(ra, rb) === 0 && rest1 === rest2;
}
