import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type GitAuth, Git, lastLines } from '../platform/index.js';
import type { LowSpeed } from './smart-http.js';
import type { RefMap } from './plan.js';
import { baseRefs } from './refs.js';

/**
 * The bare copy git's path pushes from: begun from a cache, an earlier run, the destination's
 * tips, or nothing; brought up to the source's listing; checked for the objects a push needs.
 */

/**
 * How one repository's git commands reach the network: git's low-speed limit (the in-process
 * client's own, smart-http.ts LOW_SPEED), and the repository's deadline, which calls every
 * transfer off.
 */
export interface Link {
  readonly lowSpeed: LowSpeed;
  readonly signal?: AbortSignal;
}

/**
 * git for one repository's work in `cwd`. With credentials (`auth` sets them for the destination)
 * no redirect is followed: git would send the token to wherever a redirect points, on every
 * request after it, the push included.
 */
export function gitFor(link: Link, cwd: string, auth?: GitAuth): Git {
  const withToken = !!auth && Object.keys(auth.env).length > 0;
  return new Git({
    cwd,
    env: {
      GIT_HTTP_LOW_SPEED_LIMIT: String(link.lowSpeed.bytes),
      GIT_HTTP_LOW_SPEED_TIME: String(link.lowSpeed.seconds),
      ...auth?.env,
    },
    config: withToken ? { ...NO_HOOKS, 'http.followRedirects': 'false' } : NO_HOOKS,
    signal: link.signal,
  });
}

const FETCH_REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

export type CopyUpdate =
  | { readonly ok: true; readonly fetched: boolean; readonly changed: boolean }
  | { readonly ok: false; readonly error: string };

/**
 * Makes the bare copy's refs equal the source's listing: fetches the refs that differ from what
 * the copy holds (`held`: its own refs, or the destination's for a copy begun from the
 * destination; none when the only change is a deletion, so an unborn upstream HEAD or a dead
 * upstream cannot fail it), then deletes the refs the listing no longer has.
 */
export async function updateCopy(
  local: Git,
  source: string,
  upstream: RefMap,
  held: RefMap,
  tips: readonly string[] | undefined,
): Promise<CopyUpdate> {
  const fetched = [...upstream].some(([ref, id]) => held.get(ref) !== id);
  if (fetched) {
    // A commit-graph speeds up later runs on a copy that stays (a self-hosted runner's); a copy
    // begun from nothing or from the destination goes with its runner, so it writes none.
    const graph = held.size > 0 && tips === undefined;
    const fetch = await local.exec([
      '-c',
      `fetch.writeCommitGraph=${graph}`,
      ...fetchArgs(source, upstream, held, tips),
    ]);
    if (fetch.code !== 0)
      return { ok: false, error: lastLines(fetch.stderr) || `git fetch exited ${fetch.code}` };
  }
  // Refs the complete, successful listing no longer has are gone upstream, so gone here.
  const gone = [...(await localRefs(local))].filter(([ref]) => !upstream.has(ref));
  if (gone.length > 0) {
    const commands = gone.map(([ref, id]) => `delete ${ref} ${id}`);
    await local.run(['update-ref', '--stdin'], ['start', ...commands, 'commit', ''].join('\n'));
  }
  return { ok: true, fetched, changed: fetched || gone.length > 0 };
}

/**
 * Begins a copy from the destination: its tips of the refs that change, and of master (a base
 * for new branches and tags), one commit deep, as negotiation bases for the fetch from the
 * source. Returns the tips it holds; none when the destination could not give them (the fetch
 * from the source then brings everything, which is slower, never wrong).
 */
export async function fetchBase(
  dir: string,
  destinationUrl: string,
  auth: GitAuth,
  upstream: RefMap,
  destination: RefMap,
  log: (message: string) => void,
  link: Link,
): Promise<string[]> {
  // A run that only deletes fetches nothing, so needs no base.
  if ([...upstream].every(([ref, id]) => destination.get(ref) === id)) return [];
  const refs = baseRefs(upstream, destination);
  if (refs.size === 0) return [];
  const git = gitFor(link, dir, auth);
  // The destination is the copy's promisor remote (git's partial clone): the copy takes the tips'
  // commits and trees, not their files, and the few files a thin pack from the source is a delta
  // against are fetched from the destination when git needs them. A destination that does not
  // filter sends the files too: more bytes, same result.
  for (const [key, value] of [
    ['core.repositoryformatversion', '1'],
    ['extensions.partialClone', BASE_REMOTE],
    [`remote.${BASE_REMOTE}.url`, destinationUrl],
    [`remote.${BASE_REMOTE}.promisor`, 'true'],
  ] as const)
    await git.run(['config', key, value]);
  const fetch = await git.exec([
    'fetch',
    '--depth=1',
    '--filter=blob:none',
    '--no-tags',
    '--quiet',
    '--no-write-fetch-head',
    '--',
    BASE_REMOTE,
    ...[...refs].map((ref) => `+${ref}:${BASE_REFS}${ref.slice('refs/'.length)}`),
  ]);
  if (fetch.code !== 0) {
    log(`could not begin from the destination (${lastLines(fetch.stderr)}): fetching everything`);
    return [];
  }
  const out = await git.run(['for-each-ref', '--format=%(objectname)', BASE_REFS]);
  return out.split('\n').filter(Boolean);
}

/** Where a copy begun from the destination keeps the destination's tips (never pushed). */
export const BASE_REFS = 'refs/osa-base/';
/** The destination's name as the promisor remote of a copy begun from it. */
export const BASE_REMOTE = 'destination';

/**
 * Readies the bare copy. A copy from a cache or an earlier run is data, not configuration: only
 * its objects and refs are kept (a config could redirect the fetch with insteadOf, a hook could
 * run code with the job's environment, an alternates file could borrow objects from elsewhere),
 * and the rest is made anew. A shallow copy, or one whose objects or refs are not plain
 * directories, is replaced by an empty one.
 */
export async function prepareBareCopy(
  dir: string,
  git: Git,
  log: (message: string) => void,
): Promise<void> {
  const plainDir = (name: string): boolean => {
    try {
      return lstatSync(join(dir, name)).isDirectory();
    } catch {
      return false;
    }
  };
  const usable = existsSync(dir) && plainDir('objects') && plainDir('refs');
  if (usable && !existsSync(join(dir, 'shallow'))) {
    for (const entry of readdirSync(dir))
      if (!KEPT_IN_COPY.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
    for (const file of ['alternates', 'http-alternates'])
      rmSync(join(dir, 'objects/info', file), { force: true });
    await git.run(['init', '--bare', '--quiet', '--template=']);
    return configureCopy(git);
  }
  if (existsSync(dir)) log('the cached copy is shallow or not a bare repository; starting afresh');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await git.run(['init', '--bare', '--quiet', '--template=']);
  await configureCopy(git);
}

/** What a copy keeps from a cache: its history, nothing that configures git. */
export const KEPT_IN_COPY = new Set(['objects', 'refs', 'packed-refs', 'HEAD']);

/** No hook of a copy's (or of the runner's git config) runs in the mirror's git commands. */
export const NO_HOOKS = { 'core.hooksPath': '/dev/null' };

/** The ids among `ids` the copy does not have. */
export async function missingObjects(git: Git, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const out = await git.run(['cat-file', '--batch-check'], `${ids.join('\n')}\n`);
  return out
    .split('\n')
    .filter((line) => line.endsWith(' missing'))
    .map((line) => line.split(' ')[0]!);
}

export async function configureCopy(git: Git): Promise<void> {
  // A commit-graph keeps ancestry checks and push negotiation fast on long histories; gc runs in
  // the foreground, so a cache save never copies a repository a detached gc is rewriting.
  const settings: [string, string][] = [
    ['fetch.writeCommitGraph', 'true'],
    ['gc.autoDetach', 'false'],
    ['maintenance.autoDetach', 'false'],
  ];
  const current = (await git.exec(['config', '--get-regexp', '^(fetch|gc|maintenance)\\.'])).stdout;
  for (const [key, value] of settings) {
    if (!current.toLowerCase().includes(`${key.toLowerCase()} ${value}`))
      await git.run(['config', key, value]);
  }
}

/** The fetch for what differs: targeted when few refs changed, everything on a first fetch. */
export function fetchArgs(
  source: string,
  upstream: RefMap,
  local: RefMap,
  bases: readonly string[] | undefined,
): string[] {
  // No forced-update walk over the whole history; no FETCH_HEAD, which nobody reads.
  const args = ['fetch', '--atomic', '--no-tags', '--quiet', '--no-show-forced-updates'];
  args.push('--no-write-fetch-head');
  const changed = [...upstream].filter(([ref, id]) => local.get(ref) !== id).map(([ref]) => ref);
  if (local.size === 0 || changed.length > 200)
    return [...args, '--prune', '--', source, ...FETCH_REFSPECS];
  // Negotiate from where the changed refs were (and master), not from every ref of the copy;
  // a copy begun from the destination negotiates from the tips it holds, and only those.
  const tips = new Set(bases ?? []);
  if (bases === undefined) {
    for (const id of changed.map((ref) => local.get(ref))) if (id) tips.add(id);
    for (const ref of ['refs/heads/master', 'refs/heads/main']) {
      const id = local.get(ref);
      if (id) tips.add(id);
    }
  }
  const negotiation = [...tips].map((id) => `--negotiation-tip=${id}`);
  return [...args, ...negotiation, '--', source, ...changed.map((ref) => `+${ref}:${ref}`)];
}

export async function localRefs(git: Git): Promise<Map<string, string>> {
  const out = await git.run([
    'for-each-ref',
    '--format=%(objectname) %(refname)',
    'refs/heads',
    'refs/tags',
  ]);
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [id, ref] = line.split(' ');
    if (id && ref) refs.set(ref, id);
  }
  return refs;
}
/** `old..new` for every branch update that is a fast-forward (old is an ancestor of new). */
export async function fastForwardPairs(
  git: Git,
  mirrored: RefMap,
  destination: RefMap,
): Promise<Set<string>> {
  const result = new Set<string>();
  for (const [ref, id] of mirrored) {
    const old = destination.get(ref);
    if (!old || old === id || !ref.startsWith('refs/heads/')) continue;
    // Exit 1: not an ancestor; 128: the destination's commit is unknown here (only downstream).
    if (await git.try(['merge-base', '--is-ancestor', old, id])) result.add(`${old}..${id}`);
  }
  return result;
}
