import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ConfigurationError, exec, globMatcher, lastLines } from '../platform/index.js';

/** What a built .snap says about itself in meta/snap.yaml. */
export interface SnapInfo {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  /** The architecture it was built for (`all` for arch-independent snaps). */
  readonly arch: string;
  readonly grade: string;
  readonly base: string | null;
}

/** Reads meta/snap.yaml out of a .snap (a squashfs image) with unsquashfs. */
export async function readSnapInfo(file: string): Promise<SnapInfo> {
  if (!existsSync(file))
    throw new ConfigurationError(`${file} does not exist: check the 'snaps' input.`);
  const { code, stdout, stderr } = await exec(['unsquashfs', '-cat', file, 'meta/snap.yaml'], {
    installHint: 'install squashfs-tools',
  });
  if (code !== 0 || !stdout.trim()) {
    throw new ConfigurationError(
      `${file} is not a snap (no readable meta/snap.yaml: ${lastLines(stderr) || `exit ${code}`}).`,
    );
  }
  const meta = parse(stdout) as {
    name?: string;
    version?: unknown;
    architectures?: string[];
    grade?: string;
    base?: string;
  };
  if (!meta?.name) throw new ConfigurationError(`${file}: meta/snap.yaml has no name.`);
  const arches = meta.architectures ?? ['all'];
  if (arches.length !== 1) {
    throw new ConfigurationError(
      `${file} is built for ${arches.join(', ')}; upload one snap per architecture.`,
    );
  }
  return {
    file,
    name: meta.name,
    version: String(meta.version ?? ''),
    arch: arches[0]!,
    grade: meta.grade ?? 'stable',
    base: meta.base ?? null,
  };
}

/** Expands the snaps input: paths, one per line, with `*` allowed in the file name. */
export function expandSnapPaths(patterns: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  for (const pattern of patterns) {
    const path = resolve(cwd, pattern);
    if (!/[*?[]/.test(basename(path))) {
      files.push(path);
      continue;
    }
    const dir = dirname(path);
    const matches = globMatcher(basename(path), `'snaps' pattern`);
    const found = existsSync(dir) ? readdirSync(dir).filter(matches).sort() : [];
    if (found.length === 0)
      throw new ConfigurationError(`No file matches '${pattern}': did the build upload its snaps?`);
    files.push(...found.map((f) => join(dir, f)));
  }
  if (files.length === 0)
    throw new ConfigurationError(`'snaps' is empty: give the .snap files of the build.`);
  return [...new Set(files)];
}
