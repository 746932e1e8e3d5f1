// Types for git-fixtures.mjs, so TypeScript tests use it checked.
export interface SeriesHistory {
  name: string;
  key: string;
  branches: string[];
  tags: string[];
  deleted: string[];
}
export function git(cwd: string, args: string[], input?: string): string;
export function requirementsHistory(releasesDir: string): SeriesHistory[];
export function buildRequirementsRepo(
  dir: string,
  history: SeriesHistory[],
  ucDir?: string,
): string;
export function freePort(): Promise<number>;
export function startGitDaemon(baseDir: string): Promise<{ url: string; stop(): Promise<void> }>;
export function initBare(dir: string): string;
export function addCommits(
  dir: string,
  branch: string,
  count: number,
  options?: { from?: string; tag?: string },
): string;
export function refsOf(dir: string): string;
