import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  errorMessage,
  type ErrorKind,
  ExternalError,
  itemFailure,
  type ItemFailure,
  basicAuthorization,
  extraHeaderAuth,
  Git,
  type GitAuth,
  lastLines,
  mapConcurrent,
  NO_AUTH,
  slots,
  redactUrl,
} from '../platform/index.js';
import {
  destructiveChanges,
  destructiveLimit,
  isEmptyPlan,
  planMirror,
  type MirrorPlan,
  type RefChange,
  type RefMap,
} from './plan.js';
import { MAX_READ_PACK_BYTES, PackError, provesFastForward, readPackCommits } from './pack.js';
import {
  fetchPack,
  lsRefs,
  missingCapabilities,
  receivePack,
  receivePackRefs,
  streamPack,
  WireError,
  type ReceivePackAdvertisement,
  type WireAuth,
} from './smart-http.js';
import type { MirrorPair, RefFilter } from './spec.js';

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
  /**
   * Milliseconds spent in each phase (list, restore, base, fetch, check, push, save; relay for a
   * first mirror relayed). A relayed change's fetch and push overlap.
   */
  readonly phases: Readonly<Record<string, number>>;
  readonly error?: string;
  /** For a repo that failed, was refused or partly refused: the failure's kind, for the report. */
  readonly failure?: ItemFailure;
  readonly durationMs: number;
}

const FETCH_REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

// A stalled connection (under 1 KB/s for a minute) fails the transfer instead of holding the job
// until its timeout; the atomic fetch and push leave every ref as it was.
const NETWORK_ENV = { GIT_HTTP_LOW_SPEED_LIMIT: '1000', GIT_HTTP_LOW_SPEED_TIME: '60' };

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
    options.direct === false ? Promise.resolve('turned off') : gitWouldDiffer(options.workDir);
  return mapConcurrent(options.pairs, Math.max(options.concurrency, LISTINGS), (pair) =>
    mirrorOne(pair, options, heavy, notDirect),
  );
}

/**
 * Why git would reach a URL by another way than this process's own HTTP client, if it would: a
 * proxy, or git configuration that rewrites URLs or sets HTTP options (system, global, or
 * GIT_CONFIG_* in the environment). Then every pair goes through git. (TLS that git is told to
 * trust differently fails here and falls back to git; it cannot reach another server.)
 */
async function gitWouldDiffer(cwd: string): Promise<string | null> {
  const env = Object.keys(process.env).find((name) =>
    /^(https?_proxy|all_proxy|git_proxy_command)$/i.test(name),
  );
  if (env && process.env[env]) return `${env} is set`;
  const config = await new Git({ cwd }).exec([
    'config',
    '--get-regexp',
    '^(http\\..*|url\\..*insteadof)$',
  ]);
  const key = config.stdout.split('\n').find(Boolean)?.split(' ')[0];
  return key ? `git config has ${key}` : null;
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
  // What a result reports as created, updated and deleted is what the destination accepted (or,
  // in a dry run, would): a refused or failed repo pushed nothing.
  const result = (
    status: RepoStatus,
    extra: Partial<RepoResult> & { kind?: ErrorKind; retryable?: boolean } = {},
  ): RepoResult => {
    const { kind, retryable, ...rest } = extra;
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
    const wireAuth: WireAuth = options.token
      ? { authorization: basicAuthorization(options.token) }
      : {};
    const gitListing = async (): Promise<[RefMap, RefMap]> => {
      const [source, target] = await timed('list', () =>
        Promise.all([
          listRefs(pair.source, NO_AUTH, options.workDir).catch((e: unknown) => {
            throw new ExternalError(
              `cannot list the source ${redactUrl(pair.source)}: ${errorMessage(e)}`,
              { retryable: true, cause: e },
            );
          }),
          listRefs(pair.destination, auth, options.workDir).catch((e: unknown) => e as Error),
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
          const source = lsRefs(pair.source, { signal: wire.signal });
          source.catch(() => {});
          if (await notDirect) throw new WireError('git would reach the hosts another way');
          return Promise.all([
            source,
            receivePackRefs(pair.destination, { ...wireAuth, signal: wire.signal }),
          ]);
        })
      : null;
    listing?.catch(() => {});
    const why = await notDirect;
    if (listing && !why) {
      try {
        [upstream, advertisement] = await listing;
        destination = advertisement.refs;
      } catch (error) {
        if (!(error instanceof WireError)) throw error;
        log(`listing through git (${error.message})`);
        [upstream, destination] = await gitListing();
      }
    } else {
      wire?.abort();
      [upstream, destination] = await gitListing();
    }
    // What the listings say, read once for the first listing and once more for a fresh one after
    // a relay: a source with nothing to mirror is refused, and the common case, nothing new
    // upstream, costs those two listings: no cache, no fetch. Only the refs mirrored are ever
    // fetched: a source's other refs are none of this run's.
    let mirrored: RefMap = new Map();
    let atDestination: RefMap = new Map();
    const settle = (): RepoResult | undefined => {
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
      if (advertisement && !options.dryRun) {
        const direct = await mirrorDirect(pair, wireAuth, advertisement, upstream, options, timed);
        if (direct.kind === 'done') {
          plan = direct.plan;
          fetched = direct.fetched;
          base = 'direct';
          return direct.refusal
            ? result('refused', { error: direct.refusal, kind: 'configuration' })
            : result('mirrored');
        }
        if (direct.pushed) {
          [upstream, destination] = await gitListing();
          const now = destination;
          // Its push landed after all (the report was lost on the way back).
          if (direct.plan && orderedChanges(direct.plan).every((c) => hasLanded(c, now))) {
            log(`${direct.why}; the destination has the change all the same`);
            plan = direct.plan;
            fetched = true;
            base = 'direct';
            return result('mirrored');
          }
          log(`${direct.why}; mirroring through git`);
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
      const local = new Git({ cwd: dir, env: NETWORK_ENV, config: NO_HOOKS });
      await prepareBareCopy(dir, local, log);
      const copied = await localRefs(local);
      const fromDestination = copied.size === 0 && !destinationEmpty;
      let tips: string[] = [];
      if (fromDestination) {
        tips = await timed('base', () =>
          fetchBase(dir, pair.destination, auth, mirrored, destination, log),
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
      const fetcher =
        base === 'destination'
          ? new Git({ cwd: dir, env: { ...NETWORK_ENV, ...lazy.env }, config: NO_HOOKS })
          : local;
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
      const target = { dir, destination: pair.destination, auth, log };
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
        const list = () => listRefs(pair.destination, auth, options.workDir);
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

/** A run that would destroy much of the destination is refused unless allowed: why, or null. */
function destructiveRefusal(
  plan: MirrorPlan,
  mirroredAtDestination: number,
  options: Pick<MirrorOptions, 'maxDestructiveFraction' | 'allowDestructive'>,
): string | null {
  const destructive = destructiveChanges(plan);
  const limit = destructiveLimit(mirroredAtDestination, options.maxDestructiveFraction);
  if (destructive.length <= limit || options.allowDestructive) return null;
  return (
    `would delete or force-update ${destructive.length} of ${mirroredAtDestination} refs (limit ${limit}): ` +
    `${destructive
      .slice(0, 5)
      .map((c) => c.ref)
      .join(', ')}${destructive.length > 5 ? ', ...' : ''}. ` +
    `If the source really changed that much, rerun with allow-destructive: true.`
  );
}

const isHttp = (url: string): boolean => /^https?:\/\/[^/@]+\//i.test(url);

/** Whether the destination's listing `refs` already shows `change` done. */
function hasLanded(change: RefChange, refs: RefMap): boolean {
  return refs.get(change.ref) === (change.new ?? undefined);
}

/**
 * Deletions, then creations, then updates: the order of every push's refs (batches split by
 * argv go in this order, so a deleted branch `a` is gone before a batch creates `a/b`).
 */
function orderedChanges(plan: MirrorPlan): RefChange[] {
  return [...plan.deleted, ...plan.created, ...plan.updated];
}

type Direct =
  | { kind: 'done'; plan: MirrorPlan; fetched: boolean; refusal?: string }
  | { kind: 'fallback'; why: string; pushed: boolean; plan?: MirrorPlan };

/**
 * The change, straight from the source to the destination, with no copy and no git process on
 * this side. One protocol v2 fetch wants the source's new ids and has the destination's tips of
 * the refs that change (baseRefs), so the source sends only what is new, as a thin pack whose
 * bases the destination holds. One atomic push sends that pack, every ref leased on the id the
 * destination advertised; it is opened while the pack is on its way. A first mirror streams the
 * source's pack into the push as it comes.
 *
 * The safety git's path gives holds here too. A change's pack is read whole (checksum, object
 * count, commits) before it goes on; a relayed first mirror's last 20 bytes, the pack's checksum,
 * go only once the source's response has ended as it should. A push whose pack does not arrive
 * whole is never carried out, so a fetch that died pushes nothing. The push is atomic and leased,
 * so a destination that moved since its listing takes none of it. The destination's receive-pack
 * checks that the new refs' history is whole before it updates any. A branch update counts as a
 * fast-forward only when the pack's commits lead from the new id to the old one (parents read as
 * git reads them); what this cannot prove (a rewind, a branch moved to a commit the destination
 * already has) is left to git, as are refusals, so their reports are git's. The destructive
 * guard is the same function.
 */
async function mirrorDirect(
  pair: MirrorPair,
  auth: WireAuth,
  advertisement: ReceivePackAdvertisement,
  upstream: RefMap,
  options: MirrorOptions,
  timed: <T>(phase: string, work: () => Promise<T>) => Promise<T>,
): Promise<Direct> {
  const destination = advertisement.refs;
  const mirrored = filtered(upstream, options.filter);
  const mirroredAtDestination = filtered(destination, options.filter).size;
  const held = new Set(destination.values());
  const changed = [...mirrored].filter(([ref, id]) => destination.get(ref) !== id);
  // What the destination holds as a tip already (a branch cut where another stands) is not asked for.
  const wants = [...new Set(changed.map(([, id]) => id))].filter((id) => !held.has(id));
  // The refs and ids to set do not depend on the judgement of the pack, only `forced` does.
  const commands = planMirror(upstream, destination, options.filter, () => true);
  const lacking = missingCapabilities(advertisement.capabilities, orderedChanges(commands));
  if (lacking.length > 0)
    return { kind: 'fallback', why: `the destination lacks ${lacking.join(', ')}`, pushed: false };
  const push = async (
    plan: MirrorPlan,
    pack: Buffer | AsyncIterable<Buffer> | null,
    phase: string,
  ): Promise<Direct> => {
    try {
      const refused = await timed(phase, () =>
        receivePack(pair.destination, auth, advertisement.capabilities, orderedChanges(plan), pack),
      );
      const culprits = refused.filter((r) => !ATOMIC_COLLATERAL.test(r.reason));
      if (refused.length > 0)
        return {
          kind: 'fallback',
          why: `the destination refused ${(culprits.length > 0 ? culprits : refused).map((r) => `${r.ref} (${r.reason})`).join(', ')}`,
          pushed: true,
          plan,
        };
    } catch (error) {
      if (!(error instanceof WireError)) throw error;
      return { kind: 'fallback', why: `${phase} in-process: ${error.message}`, pushed: true, plan };
    }
    return { kind: 'done', plan, fetched: wants.length > 0 };
  };
  if (mirroredAtDestination === 0) {
    // A first mirror: every ref is created, so there is no update to prove and nothing to delete,
    // and the source's pack goes on to the destination as it comes, never whole on this runner.
    // A source that dies midway cuts the push short, and the destination takes none of it.
    const plan = planMirror(upstream, destination, options.filter, () => false);
    return push(
      plan,
      wants.length > 0 ? streamPack(pair.source, wants, [], {}, Infinity) : EMPTY_PACK,
      'relay',
    );
  }
  const haves = [
    ...new Set([...baseRefs(mirrored, destination)].map((ref) => destination.get(ref)!)),
  ];
  const judge = (commits: ReadonlyMap<string, readonly string[]>): Direct => {
    const plan = planMirror(upstream, destination, options.filter, (old, next) =>
      provesFastForward(commits, old, next),
    );
    const unproven = plan.updated.find((c) => c.forced && c.ref.startsWith('refs/heads/'));
    if (unproven)
      return {
        kind: 'fallback',
        why: `${unproven.ref} is not shown a fast-forward by the pack`,
        pushed: false,
      };
    const refusal = destructiveRefusal(plan, mirroredAtDestination, options);
    return { kind: 'done', plan, fetched: wants.length > 0, ...(refusal ? { refusal } : {}) };
  };
  if (wants.length === 0) {
    // Deletions, and refs set to ids the destination has: judged before anything is sent (a
    // push of deletions alone is carried out as soon as its commands arrive).
    const verdict = judge(new Map());
    if (verdict.kind !== 'done' || verdict.refusal) return verdict;
    return push(verdict.plan, changed.length > 0 ? EMPTY_PACK : null, 'push');
  }
  // The push is opened while the source's pack is on its way: its commands go first (they are
  // the same whatever the judgement), and the pack follows once it has been read and judged.
  // A judgement against it, or a fetch that failed, cuts the push short before any pack arrives:
  // the destination carries out no command of a push whose pack never came.
  const fetching = timed('fetch', () =>
    // A change too big to read here (more than the pack reader takes) is left to git.
    fetchPack(pair.source, wants, haves, {}, MAX_READ_PACK_BYTES + 64 * 1024),
  );
  fetching.catch(() => {});
  let heldBack: Direct | undefined;
  let judged: Direct | undefined;
  async function* judgedPack(): AsyncGenerator<Buffer> {
    let pack: Buffer;
    let commits: ReadonlyMap<string, readonly string[]>;
    try {
      pack = await fetching;
      commits = await timed('check', async () => readPackCommits(pack).commits);
    } catch (error) {
      if (!(error instanceof WireError || error instanceof PackError)) throw error;
      heldBack = { kind: 'fallback', why: `fetch in-process: ${error.message}`, pushed: false };
      throw new WireError('held back');
    }
    judged = judge(commits);
    if (judged.kind !== 'done' || judged.refusal) {
      heldBack = judged;
      throw new WireError('held back');
    }
    // In slices: a stall is a time in which no slice goes, however slow the link.
    for (let at = 0; at < pack.length; at += 64 * 1024) yield pack.subarray(at, at + 64 * 1024);
  }
  const pushed = await push(commands, judgedPack(), 'push');
  // Nothing of this run goes on behind it (a push that failed before it read the pack).
  await fetching.catch(() => {});
  if (heldBack) return heldBack;
  return pushed.kind === 'done' && judged?.kind === 'done'
    ? { ...pushed, plan: judged.plan }
    : pushed;
}

/** A pack of no objects: what a push whose new ids the destination has already sends. */
const EMPTY_PACK = ((): Buffer => {
  const head = Buffer.from('5041434b0000000200000000', 'hex');
  return Buffer.concat([head, createHash('sha1').update(head).digest()]);
})();

type CopyUpdate =
  | { readonly ok: true; readonly fetched: boolean; readonly changed: boolean }
  | { readonly ok: false; readonly error: string };

/**
 * Makes the bare copy's refs equal the source's listing: fetches the refs that differ from what
 * the copy holds (`held`: its own refs, or the destination's for a copy begun from the
 * destination; none when the only change is a deletion, so an unborn upstream HEAD or a dead
 * upstream cannot fail it), then deletes the refs the listing no longer has.
 */
async function updateCopy(
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
async function fetchBase(
  dir: string,
  destinationUrl: string,
  auth: GitAuth,
  upstream: RefMap,
  destination: RefMap,
  log: (message: string) => void,
): Promise<string[]> {
  // A run that only deletes fetches nothing, so needs no base.
  if ([...upstream].every(([ref, id]) => destination.get(ref) === id)) return [];
  const refs = baseRefs(upstream, destination);
  if (refs.size === 0) return [];
  const git = new Git({ cwd: dir, env: { ...NETWORK_ENV, ...auth.env }, config: NO_HOOKS });
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

/**
 * The destination's refs whose tips make the negotiation bases of a fetch from the source: those
 * of the refs that change, and master (a base for what is cut from it). A new branch or tag is
 * often cut where another branch stands (unmaintained/ and -eol at a stable branch's tip): when a
 * ref is created, every branch's tip is a base too, so the source sends only what is new above
 * them, not the history below a tip it was not told of. Few bases keep the source's work small.
 */
function baseRefs(upstream: RefMap, destination: RefMap): Set<string> {
  const refs = new Set(
    [...upstream]
      .filter(([ref, id]) => destination.has(ref) && destination.get(ref) !== id)
      .map(([ref]) => ref),
  );
  const trunk = ['refs/heads/master', 'refs/heads/main'].find((ref) => destination.has(ref));
  const anyBranch = [...destination.keys()].find((ref) => ref.startsWith('refs/heads/'));
  if (trunk ?? anyBranch) refs.add((trunk ?? anyBranch)!);
  if ([...upstream.keys()].some((ref) => !destination.has(ref)))
    for (const ref of destination.keys()) if (ref.startsWith('refs/heads/')) refs.add(ref);
  return refs;
}

/** Where a copy begun from the destination keeps the destination's tips (never pushed). */
const BASE_REFS = 'refs/osa-base/';
/** The destination's name as the promisor remote of a copy begun from it. */
const BASE_REMOTE = 'destination';

/**
 * Readies the bare copy. A copy from a cache or an earlier run is data, not configuration: only
 * its objects and refs are kept (a config could redirect the fetch with insteadOf, a hook could
 * run code with the job's environment, an alternates file could borrow objects from elsewhere),
 * and the rest is made anew. A shallow copy, or one whose objects or refs are not plain
 * directories, is replaced by an empty one.
 */
async function prepareBareCopy(
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
const KEPT_IN_COPY = new Set(['objects', 'refs', 'packed-refs', 'HEAD']);

/** No hook of a copy's (or of the runner's git config) runs in the mirror's git commands. */
const NO_HOOKS = { 'core.hooksPath': '/dev/null' };

/** The ids among `ids` the copy does not have. */
async function missingObjects(git: Git, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const out = await git.run(['cat-file', '--batch-check'], `${ids.join('\n')}\n`);
  return out
    .split('\n')
    .filter((line) => line.endsWith(' missing'))
    .map((line) => line.split(' ')[0]!);
}

async function configureCopy(git: Git): Promise<void> {
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
function fetchArgs(
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

/**
 * Branches and tags of a remote (tags as their tag objects: that is what gets pushed). Run in
 * `cwd` (the work dir, no repository), so no repository's own config (a workspace checkout's
 * extraheader) takes part, as in the relay's gate.
 */
async function listRefs(url: string, auth: GitAuth, cwd: string): Promise<Map<string, string>> {
  const result = await new Git({ cwd, env: { ...NETWORK_ENV, ...auth.env } }).exec([
    'ls-remote',
    '--',
    url,
    'refs/heads/*',
    'refs/tags/*',
  ]);
  if (result.code !== 0)
    throw new ExternalError(lastLines(result.stderr) || `git ls-remote exited ${result.code}`);
  const refs = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [id, ref] = line.split('\t');
    if (id && ref && !ref.endsWith('^{}')) refs.set(ref, id);
  }
  return refs;
}

async function localRefs(git: Git): Promise<Map<string, string>> {
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

function filtered(refs: RefMap, filter: RefFilter): Map<string, string> {
  return new Map([...refs].filter(([ref]) => filter.matches(ref)));
}

function sameRefs(a: RefMap, b: RefMap): boolean {
  return a.size === b.size && [...a].every(([ref, id]) => b.get(ref) === id);
}

/** `old..new` for every branch update that is a fast-forward (old is an ancestor of new). */
async function fastForwardPairs(
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

/** The copy lacks objects it claims (a cache restore that died halfway): a local failure. */
class CorruptCopyError extends ExternalError {
  override readonly name = 'CorruptCopyError';
}

const LOCAL_FAILURE =
  /pack-objects died|bad (tree |blob |commit |tag )?object|unable to read [0-9a-f]{40}|could not read [0-9a-f]{40}|failed to traverse parents|missing (blob|tree|commit|tag) |did not send all necessary objects|revision walk setup failed/i;

async function push(
  target: PushTarget,
  changes: readonly RefChange[],
  atomic: boolean,
): Promise<Rejection[]> {
  if (changes.length === 0) return [];
  const leases = changes.map((c) => `--force-with-lease=${c.ref}:${c.old ?? ''}`);
  const refspecs = changes.map((c) => (c.new ? `${c.new}:${c.ref}` : `:${c.ref}`));
  const pusher = new Git({
    cwd: target.dir,
    env: { ...NETWORK_ENV, ...target.auth.env },
    config: NO_HOOKS,
  });
  const result = await pusher.exec([
    'push',
    ...(atomic ? ['--atomic'] : []),
    '--porcelain',
    '--no-verify',
    ...leases,
    '--',
    target.destination,
    ...refspecs,
  ]);
  if (result.code === 0) return [];
  if (LOCAL_FAILURE.test(result.stderr))
    throw new CorruptCopyError(
      `the local copy could not send its objects (${lastLines(result.stderr)})`,
    );
  const rejected = parseRejections(result.stdout);
  // A copy begun from the destination lacks history below its tips; a destination that would
  // need it (it lost a commit since it was listed) refuses the push, and a complete copy is due.
  if (rejected.some((r) => /shallow/i.test(r.reason)))
    throw new CorruptCopyError(
      `the destination needs history the copy begun from it does not have (${rejected[0]!.reason})`,
    );
  const culprits = rejected.filter((r) => !ATOMIC_COLLATERAL.test(r.reason));
  if (culprits.length > 0) return culprits;
  if (rejected.length > 0) return rejected;
  throw new ExternalError(
    `push to ${redactUrl(target.destination)} failed: ${lastLines(result.stderr) || `exit ${result.code}`}`,
    { retryable: true },
  );
}

interface PushTarget {
  readonly dir: string;
  readonly destination: string;
  readonly auth: GitAuth;
  readonly log: (message: string) => void;
}

type Rejection = { ref: string; reason: string };

/** The reason an atomic push gives the refs it refused only because another ref was refused. */
const ATOMIC_COLLATERAL = /atomic (push|transaction) fail/;

// Leases and refspecs are two arguments a ref; Linux allows about 2 MB of argv and environment.
const MAX_PUSH_ARGV_BYTES = 512 * 1024;

/**
 * Pushes `changes` in as few atomic pushes as the argv allows (deletions first, so a branch `a`
 * goes before `a/b` arrives), each through pushFinding, and returns the refused refs.
 */
async function pushBatches(changes: RefChange[], target: PushTarget): Promise<Rejection[]> {
  const batches: RefChange[][] = [[]];
  let bytes = 0;
  for (const change of changes) {
    const size = 2 * change.ref.length + 2 * 40 + 40;
    if (bytes + size > MAX_PUSH_ARGV_BYTES && batches.at(-1)!.length > 0) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push(change);
    bytes += size;
  }
  if (batches.length > 1)
    target.log(`${changes.length} refs to push: in ${batches.length} atomic pushes`);
  const budget = { pushes: 64 + batches.length };
  const rejected: Rejection[] = [];
  for (const batch of batches) rejected.push(...(await pushFinding(batch, target, budget, true)));
  return rejected;
}

/**
 * Pushes `changes` and returns exactly the refs the destination refused. The first push is
 * atomic. When the destination names its culprits (an update hook, a protected branch), the rest
 * go again in one push that is not atomic, where each ref stands on its own. When it refuses every
 * ref for one reason (a pre-receive hook judges a push as a whole), the changes are pushed in
 * halves until the refused refs are found. Every push is leased, and counted against `budget`:
 * what is left when it runs out is reported refused, never pushed unleased or guessed. A group
 * whose push fails outright is reported refused with that reason; groups pushed before it stay
 * pushed and reported.
 */
async function pushFinding(
  changes: RefChange[],
  target: PushTarget,
  budget: { pushes: number },
  atomic: boolean,
): Promise<Rejection[]> {
  if (changes.length === 0) return [];
  if (budget.pushes <= 0) {
    return changes.map((c) => ({
      ref: c.ref,
      reason: 'not pushed: the destination refused too many pushes to find which refs it refuses',
    }));
  }
  budget.pushes--;
  let rejected: Rejection[];
  try {
    rejected = await push(target, changes, atomic);
  } catch (error) {
    if (error instanceof CorruptCopyError) throw error;
    return changes.map((c) => ({ ref: c.ref, reason: errorMessage(error) }));
  }
  if (rejected.length === 0) return [];
  const refused = new Set(rejected.map((r) => r.ref));
  const rest = changes.filter((c) => !refused.has(c.ref));
  // Not atomic: what was not refused has landed.
  if (rest.length > 0 && !atomic) return rejected;
  if (rest.length > 0) {
    target.log(`destination refused ${[...refused].join(', ')}; pushing the rest`);
    return [...rejected, ...(await pushFinding(rest, target, budget, false))];
  }
  const reasons = new Set(rejected.map((r) => r.reason));
  if (changes.length === 1 || reasons.size > 1) return rejected;
  target.log(
    `destination refused all ${changes.length} refs (${[...reasons][0]}); pushing them in halves to find which`,
  );
  const half = Math.ceil(changes.length / 2);
  return [
    ...(await pushFinding(changes.slice(0, half), target, budget, false)),
    ...(await pushFinding(changes.slice(half), target, budget, false)),
  ];
}

/** Reads `git push --porcelain` lines: `!<TAB>src:dst<TAB>[rejected] (reason)`. */
export function parseRejections(porcelain: string): { ref: string; reason: string }[] {
  const rejected: { ref: string; reason: string }[] = [];
  for (const line of porcelain.split('\n')) {
    const match = /^!\t[^:\t]*:(\S+)\t(.*)$/.exec(line);
    if (!match) continue;
    let reason = match[2]!.replace(/^\[[^\]]*\]\s*/, '').replace(/^\((.*)\)$/, '$1') || 'rejected';
    if (/workflow/i.test(reason))
      reason += ' (the token needs the workflows permission to push .github/workflows changes)';
    rejected.push({ ref: match[1]!, reason });
  }
  return rejected;
}
