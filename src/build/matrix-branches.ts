import { relative } from 'node:path';
import { ConfigurationError, Git, lastLines } from '../platform/index.js';
import { normaliseRefName } from '../release/index.js';
import { locateSnapcraftYaml, parseSnapcraftYaml } from '../snapcraft/index.js';
import { buildMatrix, type MatrixEntry, type MatrixOptions, type Skipped } from './matrix.js';
import { readFileSync } from 'node:fs';

/**
 * The matrix for the checked-out project, or, for release rebuilds, release x arch: each branch's
 * own snapcraft.yaml (read from git, as branches differ in base and architectures).
 */
export async function matrixFor(
  project: string,
  options: Omit<MatrixOptions, 'branch'>,
  branches: readonly string[] = [],
): Promise<{ include: MatrixEntry[]; skipped: Skipped[] }> {
  const { file, projectDir } = locateSnapcraftYaml(project);
  if (branches.length === 0)
    return buildMatrix(parseSnapcraftYaml(readFileSync(file, 'utf8'), file, projectDir), options);
  const git = new Git({ cwd: projectDir });
  const path = relative(projectDir, file);
  const include: MatrixEntry[] = [];
  const skipped: Skipped[] = [];
  for (const raw of branches) {
    const branch = normaliseRefName(raw);
    const text = await showAtBranch(git, branch, path);
    const result = buildMatrix(parseSnapcraftYaml(text, `${branch}:${path}`, projectDir), {
      ...options,
      branch,
    });
    include.push(...result.include);
    skipped.push(...result.skipped);
  }
  return { include, skipped };
}

async function showAtBranch(git: Git, branch: string, path: string): Promise<string> {
  let reason = '';
  for (const ref of [
    `refs/remotes/origin/${branch}`,
    `refs/heads/${branch}`,
    `refs/tags/${branch}`,
  ]) {
    const result = await git.exec(['show', `${ref}:./${path}`]);
    if (result.code === 0) return result.stdout;
    reason = lastLines(result.stderr);
  }
  throw new ConfigurationError(
    `Cannot read ${path} on '${branch}' (${reason}): check out with fetch-depth: 0 so every release branch is there, or fix the branch name.`,
  );
}
