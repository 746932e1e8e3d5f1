import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  errorMessage,
  type ErrorKind,
  ExternalError,
  itemFailure,
  type ItemFailure,
  basicAuthorization,
  extraHeaderAuth,
  mapConcurrent,
  NO_AUTH,
  slots,
  redactUrl,
} from '../platform/index.js';
import { isEmptyPlan, planMirror, type MirrorPlan, type RefChange, type RefMap } from './plan.js';
import {
  lsRefs,
  receivePackRefs,
  LOW_SPEED,
  WireError,
  type LowSpeed,
  type ReceivePackAdvertisement,
  type WireAuth,
} from './smart-http.js';
import type { MirrorPair, RefFilter } from './spec.js';
import {
  fastForwardPairs,
  fetchBase,
  localRefs,
  missingObjects,
  gitFor,
  type Link,
  prepareBareCopy,
  updateCopy,
  type CopyUpdate,
} from './copy.js';
import { mirrorDirect } from './direct.js';
import { gitWouldDiffer, listRefs } from './listing.js';
import { CorruptCopyError, pushBatches, type Rejection } from './push.js';
import {
  destructiveRefusal,
  filtered,
  hasLanded,
  invalidRefName,
  orderedChanges,
  sameRefs,
} from './refs.js';

/** Keeps each repo's bare copy between runs (in actions: @actions/cache; else a directory). */
export interface MirrorStore {
  /** Puts the saved copy for `slug` at `dir`; true if there was one. */
  restore(slug: string, dir: string): Promise<boolean>;
  save(slug: string, dir: string): Promise<void>;
}

export interface MirrorOptions {
  readonly pairs: readonly MirrorPair[];
  readonly filter: RefFilter;
  /** Token for http(s) destinations, sent as an extraheader through the environment. */
  readonly token?: string;
  readonly concurrency: number;
  /** Share of the destination's mirrored refs one run may delete or force-update. */
  readonly maxDestructiveFraction: number;
  /** Push even when the destructive share is exceeded. */
  readonly allowDestructive: boolean;
  /** Where the bare copies live. */
  readonly workDir: string;
  readonly store?: MirrorStore;
  readonly dryRun?: boolean;
  readonly log?: (slug: string, message: string) => void;
  /**
   * Whether an http(s) pair may be listed and mirrored in-process, over git's smart HTTP
   * (default true): see `mirrorDirect`. Any doubt or failure there falls back to git.
   */
  readonly direct?: boolean;
  /** The largest first mirror's pack spooled to disk for the in-process path (default 4 GiB). */
  readonly spoolBytes?: number;
  /** The slowest a transfer may go, on both paths (default LOW_SPEED: 1000 bytes a second over 60 s). */
  readonly lowSpeed?: LowSpeed;
  /** How long one repository may take, listing to push, before it is stopped (default 30 minutes). */
  readonly repoTimeoutMs?: number;
}

/** One repository's time: sized for a first mirror of nova (about 1 GB) over a slow link. */
export const REPO_TIMEOUT_MS = 30 * 60_000;

export interface RepoPath {
  readonly how: 'in-process' | 'git';
  readonly why: string;
}

export type RepoStatus = 'unchanged' | 'mirrored' | 'dry-run' | 'refused' | 'failed' | 'partial';

export interface RepoResult {
  readonly source: string;
  readonly destination: string;
  readonly slug: string;
  readonly status: RepoStatus;
  readonly created: RefChange[];
  readonly updated: RefChange[];
  readonly deleted: RefChange[];
  /** Refs the destination refused, with its reason. */
  readonly rejected: { ref: string; reason: string }[];
  /** Whether the source had anything new to fetch. */
  readonly fetched: boolean;
  readonly cacheHit: boolean;
  /**
   * How the copy began on this runner: `copy` (a complete copy from an earlier run here or the
   * store), `destination` (the destination's tips of the refs that change, one commit deep), or
   * `empty` (all history fetched from the source); `direct` when there was no copy: the change
   * went from the source's pack to the destination's push in-process.
   */
  readonly base: 'copy' | 'destination' | 'empty' | 'direct' | 'none';
  /** Which path the repository took, in-process or through git, and why. */
  readonly path: RepoPath;
  /** Source refs left out: names git refuses, which would fail every push they are in. */
  readonly skipped: { ref: string; reason: string }[];
  /**
   * Milliseconds spent in each phase (list, restore, base, fetch, check, push, save).
   */
  readonly phases: Readonly<Record<string, number>>;
  readonly error?: string;
  /** For a repo that failed, was refused or partly refused: the failure's kind, for the report. */
  readonly failure?: ItemFailure;
  readonly durationMs: number;
}

/**
 * Mirrors every pair; one repo's failure never stops the others. The listings, which are all an
 * unchanged repo costs, run up to LISTINGS at once, so a fleet's listings do not add up serially;
 * fetching and pushing run `concurrency` at a time.
 */
export async function mirrorAll(options: MirrorOptions): Promise<RepoResult[]> {
  mkdirSync(options.workDir, { recursive: true });
  const heavy = slots(options.concurrency);
  // Asked once, while the first listings are on their way (see mirrorOne).
  const notDirect =
    options.direct === false
      ? Promise.resolve('in-process: false')
      : gitWouldDiffer(options.workDir);
  return mapConcurrent(options.pairs, Math.max(options.concurrency, LISTINGS), (pair) =>
    mirrorOne(pair, options, heavy, notDirect),
  );
}

/** How many repos are listed at once (two ls-remotes each: light for both ends). */
const LISTINGS = 16;

async function mirrorOne(
  pair: MirrorPair,
  options: MirrorOptions,
  heavy: <R>(task: () => Promise<R>) => Promise<R>,
  notDirect: Promise<string | null>,
): Promise<RepoResult> {
  const started = Date.now();
  // Every transfer of this repository, on either path, ends by its deadline.
  const timeoutMs = options.repoTimeoutMs ?? REPO_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const link: Link = { lowSpeed: options.lowSpeed ?? LOW_SPEED, signal: deadline };
  const log = (message: string): void => options.log?.(pair.slug, message);
  const dir = join(options.workDir, `${pair.slug}.git`);
  let cacheHit = false;
  let fetched = false;
  let base = 'none' as RepoResult['base'];
  const phases: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      phases[phase] = (phases[phase] ?? 0) + Date.now() - t0;
    }
  };
  let plan: MirrorPlan = { created: [], updated: [], deleted: [], untouched: [] };
  let path: RepoPath = { how: 'git', why: 'not listed yet' };
  let skipped: RepoResult['skipped'] = [];
  // What a result reports as created, updated and deleted is what the destination accepted (or,
  // in a dry run, would): a refused or failed repo pushed nothing.
  const result = (
    status: RepoStatus,
    extra: Partial<RepoResult> & { kind?: ErrorKind; retryable?: boolean } = {},
  ): RepoResult => {
    const { kind, retryable, ...given } = extra;
    // Whatever a transfer called off by the deadline said, the reason is the deadline.
    const rest =
      status === 'failed' && deadline.aborted
        ? {
            ...given,
            error: `stopped after ${timeoutMs / 1000} s (repo-timeout-minutes), nothing more pushed; the next run carries on from what landed`,
            failure: undefined,
          }
        : given;
    return {
      source: redactUrl(pair.source),
      destination: redactUrl(pair.destination),
      slug: pair.slug,
      status,
      ...(status === 'refused' || status === 'failed'
        ? { created: [], updated: [], deleted: [] }
        : { created: plan.created, updated: plan.updated, deleted: plan.deleted }),
      rejected: [],
      fetched,
      cacheHit,
      base,
      path,
      skipped,
      phases,
      durationMs: Date.now() - started,
      ...rest,
      ...(rest.error && !rest.failure
        ? {
            failure: {
              message: rest.error,
              kind: kind ?? 'external',
              retryable: retryable ?? false,
            },
          }
        : {}),
    };
  };
  try {
    // 1. What the source and the destination have, listed at once. A source listing that fails,
    // or lists nothing, stops this repo here. An http(s) pair is listed in-process (one request
    // each end; the destination's is the advertisement its push needs); through git otherwise,
    // or when that fails.
    const auth = extraHeaderAuth(pair.destination, options.token);
    const wireAuth: WireAuth = {
      ...(options.token ? { authorization: basicAuthorization(options.token) } : {}),
      lowSpeed: link.lowSpeed,
      signal: deadline,
    };
    const gitListing = async (): Promise<[RefMap, RefMap]> => {
      const [source, target] = await timed('list', () =>
        Promise.all([
          listRefs(pair.source, NO_AUTH, options.workDir, link).catch((e: unknown) => {
            throw new ExternalError(
              `cannot list the source ${redactUrl(pair.source)}: ${errorMessage(e)}`,
              { retryable: true, cause: e },
            );
          }),
          listRefs(pair.destination, auth, options.workDir, link).catch((e: unknown) => e as Error),
        ]),
      );
      if (target instanceof Error && !emptySource(source)) {
        throw new ExternalError(
          `cannot list the destination ${redactUrl(pair.destination)}: ${target.message}`,
          { retryable: true, cause: target },
        );
      }
      return [source, target instanceof Error ? new Map() : target];
    };
    const emptySource = (refs: RefMap): boolean =>
      ![...refs.keys()].some((ref) => options.filter.matches(ref));
    let advertisement: ReceivePackAdvertisement | null = null;
    let upstream: RefMap;
    let destination: RefMap;
    const wire = isHttp(pair.source) && isHttp(pair.destination) ? new AbortController() : null;
    // The source's in-process listing starts at once; if git would reach the hosts another way,
    // it is called off and git lists instead. The destination's, which carries the token, waits
    // for that answer.
    const listing = wire
      ? timed('list', async () => {
          const source = lsRefs(pair.source, {
            lowSpeed: link.lowSpeed,
            signal: AbortSignal.any([wire.signal, deadline]),
          });
          source.catch(() => {});
          if (await notDirect) throw new WireError('git would reach the hosts another way');
          return Promise.all([
            source,
            receivePackRefs(pair.destination, {
              ...wireAuth,
              signal: AbortSignal.any([wire.signal, deadline]),
            }),
          ]);
        })
      : null;
    listing?.catch(() => {});
    const why = await notDirect;
    if (listing && !why) {
      try {
        [upstream, advertisement] = await listing;
        destination = advertisement.refs;
        path = { how: 'in-process', why: 'listed in-process' };
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        log(`listing through git (${error.message})`);
        path = { how: 'git', why: `the in-process listing failed: ${error.message}` };
        [upstream, destination] = await gitListing();
      }
    } else {
      wire?.abort();
      path = { how: 'git', why: wire ? why! : 'not an http(s) source and destination' };
      [upstream, destination] = await gitListing();
    }
    // What the listings say, read once for the first listing and once more for a fresh one after
    // an in-process attempt: a source with nothing to mirror is refused, and the common case, nothing new
    // upstream, costs those two listings: no cache, no fetch. Only the refs mirrored are ever
    // fetched: a source's other refs are none of this run's.
    let mirrored: RefMap = new Map();
    let atDestination: RefMap = new Map();
    const settle = (): RepoResult | undefined => {
      // A name git refuses fails any push it is in: it is left out and reported, the rest go.
      skipped = [];
      const valid = new Map<string, string>();
      for (const [ref, id] of upstream) {
        const invalid = options.filter.matches(ref) ? invalidRefName(ref) : null;
        if (invalid) skipped.push({ ref, reason: `not a valid ref name: ${invalid}` });
        else valid.set(ref, id);
      }
      upstream = valid;
      if (emptySource(upstream))
        return result('refused', {
          error: `the source lists no branches or tags to mirror; refusing to mirror an empty listing over ${redactUrl(pair.destination)}`,
          kind: 'external',
        });
      mirrored = filtered(upstream, options.filter);
      atDestination = filtered(destination, options.filter);
      return sameRefs(mirrored, atDestination) ? result('unchanged') : undefined;
    };
    const settled = settle();
    if (settled) return settled;
    return await heavy(async () => {
      // 2a. The destination takes the change straight from the source's pack, with no copy on
      // this runner: see mirrorDirect. What it cannot prove or do is left to git, below, from a
      // fresh listing if its push may have reached the destination.
      if (advertisement && options.dryRun)
        path = { how: 'git', why: 'a dry run plans through git' };
      if (advertisement && !options.dryRun) {
        const direct = await mirrorDirect(pair, wireAuth, advertisement, upstream, options, timed);
        path =
          direct.kind === 'done'
            ? { how: 'in-process', why: "the source's pack went straight to the destination" }
            : { how: 'git', why: direct.why };
        if (direct.kind === 'done') {
          plan = direct.plan;
          fetched = direct.fetched;
          base = 'direct';
          return direct.refusal
            ? result('refused', { error: direct.refusal, kind: 'configuration' })
            : result('mirrored');
        }
        if (direct.pushed || direct.refetch) {
          // Listed afresh, through git: a push that may have landed, or a source the in-process
          // fetch failed on, is not taken at its earlier word.
          log(`${direct.why}; listing afresh through git`);
          [upstream, destination] = await gitListing();
          const now = destination;
          // Its push landed after all (the report was lost on the way back).
          if (
            direct.pushed &&
            direct.plan &&
            orderedChanges(direct.plan).every((c) => hasLanded(c, now))
          ) {
            log('the destination has the change all the same');
            plan = direct.plan;
            fetched = true;
            base = 'direct';
            return result('mirrored');
          }
          log('mirroring through git');
          const again = settle();
          if (again) return again;
        } else log(`${direct.why}; mirroring through git`);
      }
      // 2. A bare copy that has the objects to push. On a fresh runner the destination already has
      // all of the history but what changed, so the copy starts from the destination's tips of the
      // refs that change (and master), one commit deep: the fetch from the source then brings only
      // the change, and nothing on this runner is O(repository). A complete copy left by an earlier
      // run on this runner is used as it is. Only a destination with none of the refs yet (a first
      // mirror, or one that did not finish) restores a stored copy, which spares the source a
      // fetch of all history.
      const hadCopy = existsSync(dir);
      const destinationEmpty = atDestination.size === 0;
      if (!hadCopy && destinationEmpty && options.store) {
        const store = options.store;
        cacheHit = await timed('restore', () => store.restore(pair.slug, dir).catch(() => false));
        log(cacheHit ? 'restored the bare copy from the cache' : 'no cached copy: a first fetch');
      }
      const local = gitFor(link, dir);
      await prepareBareCopy(dir, local, log);
      const copied = await localRefs(local);
      const fromDestination = copied.size === 0 && !destinationEmpty;
      let tips: string[] = [];
      if (fromDestination) {
        tips = await timed('base', () =>
          fetchBase(dir, pair.destination, auth, mirrored, destination, log, link),
        );
      }
      base = copied.size > 0 ? 'copy' : fromDestination ? 'destination' : 'empty';
      // What the copy holds, as far as the fetch is concerned.
      const held = base === 'destination' ? destination : copied;
      // Discarding a copy that cannot be used and fetching it all again, and a fetch that failed:
      // each said once, for both places that need them.
      const fetchAfresh = async (why: string): Promise<CopyUpdate> => {
        log(`${why}; fetching afresh`);
        rmSync(dir, { recursive: true, force: true });
        await prepareBareCopy(dir, local, log);
        base = 'empty';
        return timed('fetch', () => updateCopy(local, pair.source, mirrored, new Map(), []));
      };
      const fetchFailed = (error: string): RepoResult =>
        result('failed', {
          error: `fetch from ${redactUrl(pair.source)} failed, nothing pushed: ${error}`,
          retryable: true,
        });
      // The objects a push needs: every listed tip for a complete copy, the changed tips otherwise.
      const needed = (): string[] =>
        base === 'destination'
          ? [...mirrored].filter(([ref, id]) => destination.get(ref) !== id).map(([, id]) => id)
          : [...mirrored.values()];

      // Fetch only what differs; atomically, so a fetch that dies updates no ref. A copy from an
      // earlier run (a cache restore that died halfway, objects missing under its refs) or from
      // the destination must not wedge the repo: when a fetch into it fails, or it lacks objects
      // the source listed, it is discarded and the fetch made once more from nothing.
      // What is pushed is what the source listed, by id: the copy only supplies the objects.
      // A copy begun from the destination may fetch from it on demand while fetching from the
      // source, so that fetch carries the destination's token, scoped to the destination's own
      // URL: a source on the same host never sees it.
      const lazy = extraHeaderAuth(pair.destination, options.token, process.env, 'repository');
      const fetcher = base === 'destination' ? gitFor(link, dir, lazy) : local;
      let update = await timed('fetch', () =>
        updateCopy(fetcher, pair.source, mirrored, held, base === 'destination' ? tips : undefined),
      );
      let missing = update.ok ? await timed('check', () => missingObjects(local, needed())) : [];
      if ((!update.ok || missing.length > 0) && base !== 'empty') {
        const why = update.ok
          ? `it lacks ${missing.length} objects the source lists`
          : update.error;
        update = await fetchAfresh(
          `the ${base === 'copy' ? 'earlier' : 'shallow'} copy cannot be used (${why})`,
        );
        missing = update.ok ? await timed('check', () => missingObjects(local, needed())) : [];
      }
      if (!update.ok) return fetchFailed(update.error);
      fetched = update.fetched;
      if (fetched) log('fetched new objects');
      if (missing.length > 0) {
        return result('failed', {
          error: `the source moved while it was fetched (${missing.length} listed objects not fetched, e.g. ${missing[0]}); nothing pushed, the next run mirrors it`,
          retryable: true,
        });
      }
      // A complete copy is stored only for a destination that has none of the refs: once the
      // destination has them, the next run starts from the destination instead. Stored after the
      // push, never in its way.
      const finish = async (outcome: RepoResult): Promise<RepoResult> => {
        const store = options.store;
        if (!store || !destinationEmpty || base === 'destination' || outcome.status === 'mirrored')
          return outcome;
        await timed('save', () =>
          store
            .save(pair.slug, dir)
            .catch((e: unknown) => log(`cache save skipped: ${errorMessage(e)}`)),
        );
        return { ...outcome, phases };
      };

      // 3. The plan to make the destination's mirrored refs equal the source's. The destination
      // listing is seconds old; every push is leased on it, so a change since then is refused.
      const fastForwards = await timed('check', () =>
        fastForwardPairs(local, mirrored, destination),
      );
      plan = planMirror(upstream, destination, options.filter, (o, n) =>
        fastForwards.has(`${o}..${n}`),
      );
      if (isEmptyPlan(plan)) return finish(result('unchanged'));

      // 4. Safety: a run that would destroy much of the destination needs to be told so.
      const refusal = destructiveRefusal(plan, atDestination.size, options);
      if (refusal) return result('refused', { error: refusal, kind: 'configuration' });
      if (options.dryRun) return finish(result('dry-run'));

      // 5. Atomic pushes, each ref leased on what was read (one push unless the argv would be too
      // long for one command). Refs the destination refuses are reported and the rest pushed
      // without them, so one protected ref does not block the others. A push that fails on this
      // side (objects missing from a copy whose refs were already current) gets the copy fetched
      // afresh, once, and is made again.
      const changes = orderedChanges(plan);
      const target = { dir, destination: pair.destination, auth, link, log };
      let rejected: Rejection[];
      try {
        rejected = await timed('push', () => pushBatches(changes, target));
      } catch (error) {
        if (!(error instanceof CorruptCopyError)) throw error;
        const fresh = await fetchAfresh(error.message);
        if (!fresh.ok) return fetchFailed(fresh.error);
        fetched = true;
        // What a split push landed before it failed is not pushed again: its lease is spent, and
        // it would be reported refused though it landed.
        const list = () => listRefs(pair.destination, auth, options.workDir, link);
        const now = await list()
          .catch(list)
          .catch((e: unknown) => {
            throw new ExternalError(
              `part of a push to ${redactUrl(pair.destination)} may have landed, and the destination could not be listed to see what: ${errorMessage(e)}; the next run mirrors the rest`,
              { retryable: true, cause: e },
            );
          });
        const left = changes.filter((c) => !hasLanded(c, now));
        rejected = await timed('push', () => pushBatches(left, target));
      }
      if (rejected.length > 0) {
        // What the destination says it refused is not the last word: a receive-pack keeps the
        // refs that passed its checks even in an atomic push, and a push whose report was lost
        // may have landed whole. What is there now is what is reported (and dispatched).
        const now = await listRefs(pair.destination, auth, options.workDir, link).catch(
          (e: unknown) => {
            log(`the destination could not be listed after the push (${errorMessage(e)})`);
            return null;
          },
        );
        if (now) {
          const landed = rejected.filter((r) => {
            const change = changes.find((c) => c.ref === r.ref);
            return change !== undefined && hasLanded(change, now);
          });
          if (landed.length > 0)
            log(`the destination has ${landed.map((r) => r.ref).join(', ')} all the same`);
          rejected = rejected.filter((r) => !landed.includes(r));
          if (rejected.length === 0) return result('mirrored');
        }
        const refused = new Set(rejected.map((r) => r.ref));
        const keep = (list: RefChange[]): RefChange[] => list.filter((c) => !refused.has(c.ref));
        const pushed = {
          created: keep(plan.created),
          updated: keep(plan.updated),
          deleted: keep(plan.deleted),
        };
        plan = { ...plan, ...pushed };
        return finish(
          result(isEmptyPlan(plan) ? 'failed' : 'partial', {
            rejected,
            error: `the destination refused ${rejected.map((r) => `${r.ref} (${r.reason})`).join(', ')}`,
          }),
        );
      }
      return result('mirrored');
    });
  } catch (error) {
    return result('failed', { error: errorMessage(error), failure: itemFailure(error) });
  } finally {
    // A copy begun from the destination is of no use to a later run: only complete ones stay.
    if (base === 'destination') rmSync(dir, { recursive: true, force: true });
  }
}

const isHttp = (url: string): boolean => /^https?:\/\/[^/@]+\//i.test(url);
