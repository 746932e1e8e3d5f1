import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  checkGitUrl,
  ConfigurationError,
  ExternalError,
  Git,
  lastLines,
  looksLikeGitUrl,
  redactUrl,
} from '../platform/index.js';
import type { ReleaseRef } from '../release/index.js';

// What git says when the server answered and there is no such repository (or no access to it).
const NO_SUCH_REPO =
  /no such repository|repository .* not found|does not appear to be a git repository|not found|authentication failed|could not read username|HTTP 40[134]/i;

export const DEFAULT_REQUIREMENTS_REPO = 'https://opendev.org/openstack/requirements';

/** Branches and tags of a remote, each with the commit it points at (tags peeled). */
export interface RemoteRefs {
  readonly branches: ReadonlyMap<string, string>;
  readonly tags: ReadonlyMap<string, string>;
}

/** Where in openstack/requirements a release's constraints live, and why. */
export interface ConstraintsRef {
  readonly type: 'branch' | 'tag';
  readonly name: string;
  /** The rule that chose it, for the summary. */
  readonly rule: string;
}

/** Turns the requirements-repo input into something git accepts; local paths become file:// URLs. */
export function normaliseRepoLocation(location: string, cwd = process.cwd()): string {
  const value = location.trim();
  if (!value)
    throw new ConfigurationError(
      `'requirements-repo' is empty: give a git URL or a local mirror path.`,
    );
  if (/\s/.test(value) || value.startsWith('-')) {
    throw new ConfigurationError(
      `'requirements-repo' ('${redactUrl(value)}') is not a git URL or path: it has spaces or starts with '-'.`,
    );
  }
  if (looksLikeGitUrl(value) || /^[a-z]+:\/\//i.test(value))
    return checkGitUrl(value, `'requirements-repo'`);
  const path = isAbsolute(value) ? value : resolve(cwd, value);
  if (!existsSync(path)) {
    throw new ConfigurationError(
      `'requirements-repo' is '${value}', which is neither a URL (https://, git://, ssh://, file://) nor an existing path.`,
    );
  }
  return pathToFileURL(path).href;
}

/**
 * Lists branches and tags with `git ls-remote`. A server that says there is no such repository
 * (or refuses the credentials) is the input's to fix; one that cannot be reached is an outside
 * failure (opendev.org, the default, has outages), worth a re-run.
 */
export async function listRemoteRefs(git: Git, url: string): Promise<RemoteRefs> {
  const result = await git.exec(['ls-remote', '--', url, 'refs/heads/*', 'refs/tags/*']);
  if (result.code !== 0) {
    const reason = lastLines(result.stderr) || `git exited with ${result.code}`;
    const message = `Cannot read openstack/requirements at ${redactUrl(url)}: ${reason}.`;
    if (NO_SUCH_REPO.test(result.stderr))
      throw new ConfigurationError(
        `${message} Check the 'requirements-repo' input (a git URL or a local mirror path).`,
      );
    throw new ExternalError(
      `${message} If it persists, check that the runner can reach it, or the 'requirements-repo' input.`,
      { retryable: true },
    );
  }
  const branches = new Map<string, string>();
  const tags = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (!sha || !ref) continue;
    if (ref.startsWith('refs/heads/')) branches.set(ref.slice(11), sha);
    else if (ref.endsWith('^{}')) tags.set(ref.slice(10, -3), sha);
    else if (ref.startsWith('refs/tags/') && !tags.has(ref.slice(10))) tags.set(ref.slice(10), sha);
  }
  if (!branches.has('master')) {
    throw new ConfigurationError(
      `${redactUrl(url)} has no master branch, so it is not openstack/requirements; check the 'requirements-repo' input.`,
    );
  }
  return { branches, tags };
}

/**
 * OpenStack's own rule (releases' constraints redirects): master, unless requirements has a
 * `stable/<key>` branch; an `unmaintained/<key>` branch overrides it; a `<key>-eom` tag replaces
 * master or stable; a `<key>-eol` tag always wins. Only a series still in development (or future)
 * keeps master's constraints when requirements has not branched for it: a series that has been
 * released has branched, so finding none of its refs means the mirror is incomplete, not that
 * master is right.
 */
export function resolveConstraintsRef(
  release: ReleaseRef,
  refs: RemoteRefs,
  repo = 'the requirements repo',
): ConstraintsRef {
  if (release.kind === 'master')
    return { type: 'branch', name: 'master', rule: 'master builds use master' };
  const { key, name, status } = release.series;
  let chosen: ConstraintsRef | null = null;
  if (refs.branches.has(`stable/${key}`)) {
    chosen = { type: 'branch', name: `stable/${key}`, rule: 'stable branch' };
  }
  if (refs.branches.has(`unmaintained/${key}`)) {
    chosen = {
      type: 'branch',
      name: `unmaintained/${key}`,
      rule: 'unmaintained branch overrides stable',
    };
  }
  if (refs.tags.has(`${key}-eom`) && chosen?.name !== `unmaintained/${key}`) {
    chosen = { type: 'tag', name: `${key}-eom`, rule: 'end of extended maintenance tag' };
  }
  if (refs.tags.has(`${key}-eol`)) {
    chosen = { type: 'tag', name: `${key}-eol`, rule: 'end of life tag wins' };
  }
  if (chosen) return chosen;
  if (status === 'development' || status === 'future') {
    return {
      type: 'branch',
      name: 'master',
      rule: `${key} is in ${status}: openstack/requirements has not branched for it yet`,
    };
  }
  // Building a released series against master's pins would succeed and be wrong; say so instead.
  throw new ConfigurationError(
    `${name} (${key}) is ${status}, so openstack/requirements has branched for it, but ${repo} has none of ` +
      `stable/${key}, unmaintained/${key}, ${key}-eom, ${key}-eol. The 'requirements-repo' mirror looks ` +
      `incomplete: it may lack the unmaintained/* branches or the tags; mirror all branches and tags ` +
      `(or use https://opendev.org/openstack/requirements).`,
  );
}

export interface FetchedConstraints {
  readonly text: string;
  /** The commit of openstack/requirements the file was read at. */
  readonly commit: string;
}

/**
 * Fetches just the one ref (depth 1) into a scratch bare repo and reads upper-constraints.txt;
 * given a commit (the one the plan resolved from the ref), that commit: by id at depth 1 where the
 * server allows it, as git's protocol v2 servers do; else from the ref's history, refusing a commit
 * the ref does not contain.
 */
export async function fetchUpperConstraints(
  url: string,
  ref: ConstraintsRef,
  scratchParent: string,
  at?: string,
): Promise<FetchedConstraints> {
  const dir = mkdtempSync(join(scratchParent, 'requirements-'));
  try {
    const git = new Git({ cwd: dir });
    await git.run(['init', '--bare', '--quiet']);
    const remoteRef = ref.type === 'branch' ? `refs/heads/${ref.name}` : `refs/tags/${ref.name}`;
    if (at) {
      if (!/^[0-9a-f]{40}$/.test(at))
        throw new ConfigurationError(
          `'constraints-commit' must be a full commit id of openstack/requirements (40 hex digits), not '${at}'.`,
        );
      const byId = await git.exec([
        'fetch',
        '--quiet',
        '--depth=1',
        '--no-tags',
        '--',
        url,
        `+${at}:refs/constraints`,
      ]);
      if (byId.code !== 0) {
        await git.run(['fetch', '--quiet', '--no-tags', '--', url, `+${remoteRef}:refs/ref`]);
        const contained = await git.exec(['merge-base', '--is-ancestor', at, 'refs/ref']);
        if (contained.code !== 0)
          throw new ConfigurationError(
            `openstack/requirements ${ref.type} ${ref.name} does not contain the commit ${at} ('constraints-commit'): ` +
              `give a commit of that ${ref.type}, or none to read its tip.`,
          );
        await git.run(['update-ref', 'refs/constraints', at]);
      }
    } else {
      await git.run([
        'fetch',
        '--quiet',
        '--depth=1',
        '--no-tags',
        '--',
        url,
        `+${remoteRef}:refs/constraints`,
      ]);
    }
    const commit = (await git.run(['rev-parse', 'refs/constraints^{commit}'])).trim();
    const show = await git.exec(['show', `${commit}:upper-constraints.txt`]);
    if (show.code !== 0) {
      throw new ConfigurationError(
        `openstack/requirements ${ref.type} ${ref.name} (${commit.slice(0, 12)}) has no upper-constraints.txt; ` +
          `that series predates constraints: set the 'series' input to a newer one.`,
      );
    }
    return { text: show.stdout, commit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The commit a constraints ref is at in a listing (a tag's commit, peeled). */
export function constraintsTip(refs: RemoteRefs, ref: ConstraintsRef): string | undefined {
  return ref.type === 'branch' ? refs.branches.get(ref.name) : refs.tags.get(ref.name);
}

/**
 * Which openstack/requirements ref a release's constraints come from, and the commit it is at
 * now: what a plan resolves once, so that every leg of the release reads the same file.
 */
export async function resolveConstraintsCommit(
  requirementsRepo: string,
  release: ReleaseRef,
): Promise<{ ref: ConstraintsRef; commit: string }> {
  const url = normaliseRepoLocation(requirementsRepo);
  const refs = await listRemoteRefs(new Git(), url);
  const ref = resolveConstraintsRef(release, refs, redactUrl(url));
  return { ref, commit: constraintsTip(refs, ref)! };
}
