import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  ConfigurationError,
  confinePath,
  type FileCache,
  Git,
  redactUrl,
  unifiedDiff,
} from '../platform/index.js';
import { parseReleaseRef, type ReleaseRef, releaseTarget, SeriesTable } from '../release/index.js';
import {
  constraintsEntryRef,
  constraintsReference,
  locateSnapcraftYaml,
  parseSnapcraftYaml,
  rewriteConstraints,
  UV_PLUGIN,
  type SnapcraftProject,
} from '../snapcraft/index.js';
import { partFile, pinConflicts, snapPins, type PinConflict } from './pins.js';
import { isPythonProject, nameFromSource, type ProjectName } from './project-names.js';
import {
  constraintsTip,
  fetchUpperConstraints,
  listRemoteRefs,
  normaliseRepoLocation,
  resolveConstraintsRef,
  type ConstraintsRef,
} from './requirements-repo.js';
import { constrainedNames, normalizePackageName, removePackages } from './upper-constraints.js';

export const DEFAULT_CONSTRAINTS_PATH = 'snap/local/upper-constraints.txt';

/**
 * What to do where the snap pins a version the release's constraints disagree with (pip stops
 * with ResolutionImpossible on such a pair): drop those constraints, so the snap's pins win
 * (the default); fail before anything builds; or keep the constraints as they are.
 */
export const PIN_CONFLICT_POLICIES = ['drop', 'fail', 'keep'] as const;
export type PinConflictPolicy = (typeof PIN_CONFLICT_POLICIES)[number];

/** Everything the constraints step needs; built and validated once by the action's input reader. */
export interface ConstrainOptions {
  /** A snap project directory or its snapcraft.yaml. */
  readonly project: string;
  /** The branch or tag being built (a PR's base branch for pull requests). */
  readonly ref: string;
  /** Overrides the series the ref implies (codename or release-id). */
  readonly series?: string;
  /** openstack/requirements: a git URL or a local mirror path. */
  readonly requirementsRepo: string;
  /** A pre-fetched upper-constraints.txt; skips git entirely. */
  readonly constraintsFile?: string;
  /**
   * The openstack/requirements commit to read the constraints at, resolved once by the plan so
   * that every leg of a release builds with the same file; empty reads the ref's tip.
   */
  readonly constraintsCommit?: string;
  /** Names to drop from the constraints; the word `auto` stands for the snap's own projects. */
  readonly exclude: readonly string[];
  /** Where to write the constraints file, relative to the project directory. */
  readonly constraintsPath?: string;
  /** Write the rewritten snapcraft.yaml here instead of in place. */
  readonly output?: string;
  readonly trackMap?: ReadonlyMap<string, string>;
  readonly cache?: FileCache;
  /** Scratch space (RUNNER_TEMP in actions). */
  readonly workDir: string;
  /** Compute and report, write nothing. */
  readonly dryRun?: boolean;
  /** Pins of the snap's own that the constraints disagree with: drop (default), fail or keep. */
  readonly pinConflicts?: PinConflictPolicy;
  readonly table?: SeriesTable;
  readonly log?: (message: string) => void;
}

export interface ExcludedPackage extends ProjectName {
  /** The constraint lines removed for it; empty when requirements does not pin it. */
  readonly removed: string[];
}

export interface ConstrainResult {
  readonly release: ReleaseRef;
  readonly track: string;
  readonly requirementsRepo: string | null;
  readonly constraintsRef: ConstraintsRef | null;
  /** Commit of openstack/requirements the constraints came from; null for a pre-fetched file. */
  readonly constraintsCommit: string | null;
  readonly cacheHit: boolean;
  /** Absolute path of the constraints file written into the project; null when none was (no pip part). */
  readonly constraintsFile: string | null;
  /** Whether any part gets the constraints: false when no part installs with pip. */
  readonly applied: boolean;
  /** What was done to the constraints and why, one sentence each, for the log and the summary. */
  readonly notes: string[];
  /** The snap's own pins that the release's constraints disagree with, and the policy applied. */
  readonly pinConflicts: PinConflict[];
  readonly pinPolicy: PinConflictPolicy;
  /** Constraints dropped because the snap pins another version (policy drop). */
  readonly dropped: string[];
  readonly snapcraftYaml: string;
  readonly snap: {
    readonly name: string;
    readonly base: string | null;
    readonly grade: string | null;
  };
  readonly changed: boolean;
  readonly diff: string;
  readonly excluded: ExcludedPackage[];
  readonly parts: { name: string; before: string[]; after: string[] }[];
  /** What the user should look at: a project name that could not be told, a part pinned to another series. */
  readonly warnings: string[];
}

/**
 * Picks the release's upper-constraints from openstack/requirements, drops the snap's own projects
 * from it, writes it into the project and points every python part of snapcraft.yaml at it.
 * Everything is validated and computed before the first byte is written.
 */
export async function constrain(options: ConstrainOptions): Promise<ConstrainResult> {
  const log = options.log ?? (() => {});
  const table = options.table ?? new SeriesTable();
  const { file, projectDir } = locateSnapcraftYaml(options.project);
  const project = parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir);
  const policy = options.pinConflicts ?? 'drop';
  const { release, track } = releaseTarget(options.ref, { ...options, table });
  const constraintsRel = checkedConstraintsPath(
    options.constraintsPath ?? DEFAULT_CONSTRAINTS_PATH,
    project.projectDir,
  );
  log(`${release.ref} is OpenStack ${release.series.name} (${release.series.key}), track ${track}`);

  const fetched = await obtainConstraints(options, release, log);
  const warnings: string[] = [];
  const candidates = excludeCandidates(options.exclude, project, warnings);
  const pinned = constrainedNames(fetched.text);
  const edit = removePackages(
    fetched.text,
    candidates.filter((c) => pinned.has(normalizePackageName(c.name))).map((c) => c.name),
  );
  const excluded = candidates.map((c) => ({
    ...c,
    removed: edit.removed.filter((line) => lineNames(line) === normalizePackageName(c.name)),
  }));

  // The snap's own pins against what is left: pip stops on a pair that disagrees.
  const seriesLabel = release.series.key;
  const pins = snapPins(project);
  const conflicts = pinConflicts(pins.pins, edit.text);
  const notes: string[] = [];
  const lines = conflicts.map((c) => conflictLine(c, seriesLabel));
  for (const unread of pins.unread) notes.push(`not checked for pins: ${unread}`);
  if (policy === 'fail' && conflicts.length > 0) {
    const pip = conflicts.some((c) => c.installer === 'pip');
    throw new ConfigurationError(
      `${project.file}: ${conflicts.length} of the snap's own pins disagree with ${release.series.key} ` +
        `(${release.series.name}) constraints (pin-conflicts: fail)` +
        (pip ? '; pip would stop on them with ResolutionImpossible' : '') +
        `:\n${lines.map((l) => `  ${l}`).join('\n')}\n` +
        `Change the pins, or set 'pin-conflicts' to drop (the snap's pins win) or keep.`,
    );
  }
  const pipConflicts = conflicts.filter((c) => c.installer === 'pip');
  const dropped =
    policy === 'drop' ? [...new Set(pipConflicts.map((c) => normalizePackageName(c.name)))] : [];
  const final = dropped.length > 0 ? removePackages(edit.text, dropped) : edit;
  for (const conflict of conflicts) {
    const line = conflictLine(conflict, seriesLabel);
    if (conflict.installer === 'uv')
      warnings.push(
        `${line}: the uv part installs uv.lock's version; the release's constraints do not reach it.`,
      );
    else if (policy === 'drop')
      warnings.push(`${line}: dropped from the constraints, the snap's pin wins.`);
    else
      warnings.push(
        `${line}: kept (pin-conflicts: keep), so pip will likely stop with ResolutionImpossible.`,
      );
  }

  const applied = project.pythonParts.length > 0;
  if (project.uvParts.length > 0)
    notes.push(
      `${project.uvParts.map((p) => `'${p.name}'`).join(', ')} install${project.uvParts.length === 1 ? 's' : ''} ` +
        `with uv from uv.lock (UV_FROZEN=true, ${UV_PLUGIN.source}), which takes no constraints file: ` +
        `the constraints were checked against the lock, not applied to ${project.uvParts.length === 1 ? 'it' : 'them'}.`,
    );
  if (!applied)
    notes.push(
      `No part installs with pip (plugin: python), so no constraints file was written and ` +
        `${relative(project.projectDir, file) || 'snapcraft.yaml'} is unchanged.`,
    );
  const reference = constraintsReference(project.generation, constraintsRel);
  const rewrite = applied
    ? rewriteConstraints(project, reference)
    : { text: project.text, changed: false, parts: [] };
  warnings.push(...otherSeriesWarnings(project, rewrite.parts, release, fetched.ref, table));
  const target = options.output ? resolve(options.output) : file;
  const constraintsFile = applied ? join(project.projectDir, constraintsRel) : null;
  const header = constraintsHeader(fetched, excluded, pipConflicts, dropped, seriesLabel);
  const content = header + final.text.replace(/\n?$/, '\n');

  if (!options.dryRun) {
    // The project is a checkout of someone's repository: a symbolic link in it must not carry a
    // write outside it (the output path was confined when it was read).
    if (!options.output)
      confinePath(file, relative(project.projectDir, file), { workspace: project.projectDir });
    if (constraintsFile) {
      confinePath(constraintsFile, `the constraints file (${constraintsRel})`, {
        workspace: project.projectDir,
      });
      mkdirSync(dirname(constraintsFile), { recursive: true });
      writeFileSync(constraintsFile, content);
    }
    if (rewrite.changed || target !== file) {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, rewrite.text);
    }
  }
  return {
    release,
    track,
    requirementsRepo: fetched.repo ? redactUrl(fetched.repo) : null,
    constraintsRef: fetched.ref,
    constraintsCommit: fetched.commit,
    cacheHit: fetched.cacheHit,
    constraintsFile,
    applied,
    notes,
    pinConflicts: conflicts,
    pinPolicy: policy,
    dropped,
    snapcraftYaml: target,
    snap: { name: project.name, base: project.base, grade: project.grade },
    changed: rewrite.changed,
    diff: unifiedDiff(
      project.text,
      rewrite.text,
      relative(project.projectDir, file) || 'snapcraft.yaml',
    ),
    excluded,
    parts: rewrite.parts,
    warnings,
  };
}

function checkedConstraintsPath(path: string, projectDir: string): string {
  const absolute = resolve(projectDir, path);
  const rel = relative(projectDir, absolute);
  if (isAbsolute(path) || rel.startsWith('..') || rel === '' || /[\s$`"'\\]/.test(rel)) {
    throw new ConfigurationError(
      `'constraints-path' ('${path}') must be a plain relative path inside the snap project, e.g. ${DEFAULT_CONSTRAINTS_PATH}.`,
    );
  }
  return rel.split(sep).join('/');
}

interface Obtained {
  readonly text: string;
  readonly commit: string | null;
  readonly ref: ConstraintsRef | null;
  readonly repo: string | null;
  readonly cacheHit: boolean;
}

async function obtainConstraints(
  options: ConstrainOptions,
  release: ReleaseRef,
  log: (message: string) => void,
): Promise<Obtained> {
  if (options.constraintsFile) {
    if (!existsSync(options.constraintsFile)) {
      throw new ConfigurationError(`'constraints-file' ${options.constraintsFile} does not exist.`);
    }
    log(`using the pre-fetched constraints file ${options.constraintsFile}`);
    return {
      text: readFileSync(options.constraintsFile, 'utf8'),
      commit: null,
      ref: null,
      repo: null,
      cacheHit: false,
    };
  }
  const url = normaliseRepoLocation(options.requirementsRepo);
  const refs = await listRemoteRefs(new Git(), url);
  const ref = resolveConstraintsRef(release, refs, redactUrl(url));
  const tip = constraintsTip(refs, ref);
  const advertised = options.constraintsCommit || tip;
  log(
    `constraints: openstack/requirements ${ref.type} ${ref.name} at ${advertised?.slice(0, 12)} (${ref.rule})` +
      (options.constraintsCommit && options.constraintsCommit !== tip
        ? `, the commit the plan resolved (the ${ref.type} is at ${tip?.slice(0, 12)} now)`
        : ''),
  );

  const cacheDir = join(options.workDir, 'openstack-upper-constraints', advertised ?? 'unknown');
  const cachePath = join(cacheDir, 'upper-constraints.txt');
  if (advertised && options.cache) {
    const hit = await options.cache.restore([cacheDir], cacheKey(advertised)).catch(() => false);
    if (hit && existsSync(cachePath)) {
      log(`constraints for ${advertised.slice(0, 12)} restored from cache`);
      return {
        text: readFileSync(cachePath, 'utf8'),
        commit: advertised,
        ref,
        repo: url,
        cacheHit: true,
      };
    }
  }
  mkdirSync(options.workDir, { recursive: true });
  const fetched = await fetchUpperConstraints(url, ref, options.workDir, options.constraintsCommit);
  if (options.cache) {
    const dir = join(options.workDir, 'openstack-upper-constraints', fetched.commit);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'upper-constraints.txt'), fetched.text);
    // A cache that cannot save only costs the next run a fetch.
    await options.cache
      .save([dir], cacheKey(fetched.commit))
      .catch((e: unknown) => log(`cache save skipped: ${String(e)}`));
  }
  return { text: fetched.text, commit: fetched.commit, ref, repo: url, cacheHit: false };
}

export function cacheKey(commit: string): string {
  return `openstack-upper-constraints-${commit}`;
}

function excludeCandidates(
  exclude: readonly string[],
  project: SnapcraftProject,
  warnings: string[],
): ProjectName[] {
  const seen = new Set<string>();
  const result: ProjectName[] = [];
  const add = (name: string | undefined, from: string): void => {
    if (!name || seen.has(normalizePackageName(name))) return;
    seen.add(normalizePackageName(name));
    result.push({ name, from });
  };
  const unknown = (part: string, what: string): void => {
    warnings.push(
      `part '${part}': cannot tell which Python project ${what} installs, so it is not dropped from the ` +
        `constraints; if pip fails with "cannot be constrained", add its name to 'exclude' (after auto).`,
    );
  };
  for (const word of exclude) {
    if (word !== 'auto') {
      add(word, 'exclude input');
      continue;
    }
    for (const part of project.pythonParts) {
      if (part.source) {
        const name = nameFromSource(part.source, project.projectDir, part.sourceSubdir);
        const local = !/^[a-z][a-z0-9+.-]*:\/\/|^[\w.-]+@[\w.-]+:|^lp:/i.test(part.source);
        const dir = resolve(project.projectDir, part.source, part.sourceSubdir ?? '');
        // A local tree with nothing pip installs (a requirements-only part) installs no project.
        if (name) add(name, `part ${part.name} source`);
        else if (
          !local ||
          isPythonProject(dir) ||
          /\.(tar\.(gz|bz2|xz)|tgz|zip|whl)$/.test(part.source)
        )
          unknown(part.name, `its source '${part.source}'`);
      }
      for (const pkg of part.pythonPackages) {
        // Requirement specifiers (names, versions) are what constraints pin; URLs, direct
        // references (`name @ url`) and paths (pip takes anything with a `/` that exists) are not.
        const path =
          /^\.{1,2}(\/|$)|^\//.test(pkg) ||
          (pkg.includes('/') && existsSync(resolve(project.projectDir, pkg)));
        const url = /^[a-z][a-z0-9+.-]*:\/\/|^git\+|^[\w.-]+@[\w.-]+:|#egg=|^\S+\s*@\s*\S/i.test(
          pkg,
        );
        if (!path && !url) continue;
        const name = nameFromSource(pkg, project.projectDir);
        if (name) add(name, `part ${part.name} python-packages`);
        else unknown(part.name, `'${pkg}' in python-packages`);
      }
    }
  }
  return result;
}

/**
 * Parts that were pinned to another series' constraints than the one applied now: a URL that
 * names the series, or a vendored copy in the project whose header says where it was copied from.
 */
function otherSeriesWarnings(
  project: SnapcraftProject,
  parts: { name: string; before: string[] }[],
  release: ReleaseRef,
  applied: ConstraintsRef | null,
  table: SeriesTable,
): string[] {
  const warnings: string[] = [];
  for (const part of parts) {
    const pythonPart = project.pythonParts.find((p) => p.name === part.name)!;
    for (const entry of part.before) {
      const ref = constraintsEntryRef(entry) ?? vendoredRef(project, pythonPart, entry);
      if (!ref) continue;
      let series: string | undefined;
      try {
        series =
          ref === 'master'
            ? table.development().key
            : (table.find(ref)?.key ?? parseReleaseRef(ref, table).series.key);
      } catch {
        continue; // a ref we cannot place says nothing about the series
      }
      if (series === release.series.key) continue;
      warnings.push(
        `part '${part.name}' was pinned to ${ref} constraints (${series}); this build applies ` +
          `${applied ? `${applied.name} ` : ''}(${release.series.key}, ${release.series.name}) for ${release.ref}.`,
      );
    }
  }
  return warnings;
}

/**
 * The openstack/requirements ref a vendored upper-constraints file says it is a copy of, in its
 * leading comments (`# Vendored copy of https://.../stable/2023.1/upper-constraints.txt`, or this
 * toolkit's own `# Source: openstack/requirements branch stable/2025.1 at ...`).
 */
function vendoredRef(
  project: SnapcraftProject,
  part: SnapcraftProject['pythonParts'][number],
  entry: string,
): string | null {
  const file = partFile(project, part, entry);
  if (!file || !existsSync(file)) return null;
  const header = readFileSync(file, 'utf8').split(/\r?\n/, 20);
  for (const line of header) {
    if (!line.startsWith('#')) {
      if (line.trim()) break;
      continue;
    }
    const url = /https?:\/\/\S+/.exec(line)?.[0];
    const ref = url ? constraintsEntryRef(url) : null;
    if (ref) return ref;
    const ours = /openstack\/requirements (?:branch|tag) (\S+) at/.exec(line)?.[1];
    if (ours) return ours;
  }
  return null;
}

/** `name: snap pins X, <series> constraints say Y (where)`, the one wording of a conflict. */
function conflictLine(conflict: PinConflict, series: string): string {
  const asks = conflict.exact ? `snap pins ${conflict.pinned}` : `snap requires ${conflict.pinned}`;
  return `${conflict.name}: ${asks}, ${series} constraints say ${conflict.constrained} (${conflict.where})`;
}

function lineNames(line: string): string {
  return normalizePackageName(/^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line)?.[1] ?? '');
}

function constraintsHeader(
  fetched: Obtained,
  excluded: ExcludedPackage[],
  conflicts: PinConflict[],
  dropped: string[],
  series: string,
): string {
  const source = fetched.ref
    ? `openstack/requirements ${fetched.ref.type} ${fetched.ref.name} at ${fetched.commit} (${redactUrl(fetched.repo ?? '')})`
    : 'a pre-fetched upper-constraints.txt (commit unknown)';
  const removed = excluded.filter((e) => e.removed.length > 0).map((e) => e.name);
  const droppedLines = conflicts
    .filter((c) => dropped.includes(normalizePackageName(c.name)))
    .map((c) => `#   ${conflictLine(c, series)}`);
  return [
    '# Written by openstack-snap-actions (constraints); re-run the action rather than editing this file.',
    `# Source: ${source}`,
    `# Removed, as built from source: ${removed.length ? removed.join(', ') : 'none'}`,
    ...(droppedLines.length
      ? ['# Dropped, as the snap pins another version (pin-conflicts: drop):', ...droppedLines]
      : []),
    '',
  ].join('\n');
}
