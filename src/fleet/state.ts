import type { StateCodec } from '../github/index.js';
import type { FleetSnap } from './config.js';

/**
 * What the build repository knows of each snap branch, kept in a file on its state branch: what
 * was last published (the snap repo's commit and openstack/requirements' commit it was built
 * with), which run is building it now (its claim), and its last failure. Every run compares what
 * each branch should be built from with this, and builds what differs: a build that failed, was
 * cancelled or never started is built by a later run, and one that is under way is never started
 * twice, whichever run started it.
 */
export interface Build {
  /** The snap repository's commit. */
  readonly sha: string;
  /** openstack/requirements' commit its constraints were read at. */
  readonly constraints: string;
}

export interface Published extends Build {
  readonly at: string;
  readonly run: string | null;
  /** Store revision by arch, and the channel they were released to, where the run said. */
  readonly revisions?: Readonly<Record<string, number>>;
  readonly channel?: string;
}

export interface Claim extends Build {
  readonly runId: number;
  readonly runUrl: string;
  readonly since: string;
}

export interface Failure extends Build {
  readonly at: string;
  readonly run: string | null;
  /** Failures in a row of this very build. */
  readonly count: number;
}

export interface TargetState {
  readonly published?: Published;
  readonly claim?: Claim;
  readonly failure?: Failure;
}

export interface BuildState {
  readonly version: 2;
  /** By target key: `<snap> <branch>`. */
  readonly targets: Readonly<Record<string, TargetState>>;
}

export const EMPTY_BUILD_STATE: BuildState = { version: 2, targets: {} };

export const BUILD_STATE: StateCodec<BuildState> = {
  empty: EMPTY_BUILD_STATE,
  kind: 'a build repository state file (version 2)',
  read: (value) => {
    const state = value as BuildState | null;
    return state?.version === 2 && typeof state.targets === 'object' && state.targets !== null
      ? state
      : null;
  },
};

/** One snap branch, and what it should be built from now. */
export interface Wanted extends Build {
  readonly snap: FleetSnap;
  readonly branch: string;
  /** The openstack/requirements branch or tag the constraints come from. */
  readonly constraintsRef: string;
}

export const targetKey = (snap: string, branch: string): string => `${snap} ${branch}`;
export const keyOf = (wanted: Wanted): string => targetKey(wanted.snap.name, wanted.branch);

/**
 * The prefix of a target's artifact names (upload-artifact refuses `/`, `\`, `:` and a few more):
 * `fleet-keystone-stable-2025.1`.
 */
export function artifactPrefix(snap: string, branch: string): string {
  return `fleet-${snap}-${branch.replace(/[^A-Za-z0-9._-]/g, '-')}`;
}
/**
 * The artifact a target's publish job uploads once its revisions are released, named by the
 * build (`published-<prefix>-<sha>-<constraints>`): a re-run keeps its run's earlier artifacts,
 * so a marker named by the branch alone would say a later, failed build was published.
 */
export function publishedMarker(key: string, build: Build): string {
  const space = key.indexOf(' ');
  return `published-${artifactPrefix(key.slice(0, space), key.slice(space + 1))}-${build.sha}-${build.constraints}`;
}

/** The id of a run from its URL (`.../actions/runs/<id>`), or null. */
export function runIdOf(url: string | null): number | null {
  const match = url ? /\/actions\/runs\/(\d+)/.exec(url) : null;
  return match ? Number(match[1]) : null;
}

/** What a claiming run says now: still going, or done and whether it published its target. */
export type RunView =
  | { readonly done: false }
  | {
      readonly done: true;
      readonly at: string;
      /** The names of the artifacts the run uploaded (its published markers among them). */
      readonly artifacts: ReadonlySet<string>;
    };

export interface ThisRun {
  readonly runId: number;
  readonly runUrl: string;
}

export interface Decision {
  readonly build: Wanted[];
  /** Not built by this run, and why: under way elsewhere, waiting after failures, over the cap. */
  readonly waiting: { readonly wanted: Wanted; readonly why: string }[];
  readonly upToDate: Wanted[];
  /** Claims of finished runs this decision settled: published, or failed. */
  readonly settled: { readonly key: string; readonly published: boolean; readonly run: string }[];
}

const HOUR = 3600 * 1000;

/** A build that failed `count` times in a row waits 1, 2, 4 ... hours, at most a day, before the next try. */
export function retryAfter(failure: Failure): number {
  return Date.parse(failure.at) + Math.min(24, 2 ** (failure.count - 1)) * HOUR;
}

const same = (a: Build | undefined, b: Build): boolean =>
  !!a && a.sha === b.sha && a.constraints === b.constraints;

/**
 * A claim whose run has finished becomes what the run did: published when it uploaded the
 * target's marker, else a failure (counted once per run).
 */
function settle(target: TargetState, claim: Claim, published: boolean, at: string): TargetState {
  const { claim: _claim, ...rest } = target;
  if (published)
    return {
      published: { sha: claim.sha, constraints: claim.constraints, at, run: claim.runUrl },
    };
  return { ...rest, failure: failed(rest.failure, claim, claim.runUrl, at) };
}

function failed(previous: Failure | undefined, build: Build, run: string, at: string): Failure {
  if (previous?.run === run && same(previous, build)) return previous;
  const count = same(previous, build) ? previous!.count + 1 : 1;
  return { sha: build.sha, constraints: build.constraints, at, run, count };
}

/**
 * One run's decision: settles the claims of runs that have finished, then, for each wanted snap
 * branch in order, nothing when it was published from the same commits; waits while another run
 * builds it (a re-run of this very run builds again), or while a failure of the same build waits
 * out its retry time; else builds it, at most `maxBuilds` a run, and claims it in the state
 * returned. Branches no longer wanted leave the state unless a run still builds them.
 */
export function decide(
  state: BuildState,
  wanted: readonly Wanted[],
  runs: ReadonlyMap<number, RunView>,
  self: ThisRun,
  now: number,
  maxBuilds: number,
  /** Snaps (by name) and targets (by key) this run could not read: kept as they are. */
  keep: ReadonlySet<string> = new Set(),
): { state: BuildState; decision: Decision } {
  const targets: Record<string, TargetState> = {};
  const settled: Decision['settled'][number][] = [];
  for (const [key, target] of Object.entries(state.targets)) {
    const claim = target.claim;
    const view = claim && claim.runId !== self.runId ? runs.get(claim.runId) : undefined;
    const failure = target.failure;
    const failedRun = !claim && failure ? runIdOf(failure.run) : null;
    const rerun = failedRun !== null && failedRun !== self.runId ? runs.get(failedRun) : undefined;
    if (claim && view?.done) {
      const published = view.artifacts.has(publishedMarker(key, claim));
      targets[key] = settle(target, claim, published, view.at);
      settled.push({ key, published, run: claim.runUrl });
    } else if (failure && rerun?.done && rerun.artifacts.has(publishedMarker(key, failure))) {
      // The failed run was re-run after its failure was settled, and this time it published.
      targets[key] = {
        published: {
          sha: failure.sha,
          constraints: failure.constraints,
          at: rerun.at,
          run: failure.run,
        },
      };
      settled.push({ key, published: true, run: failure.run ?? '' });
    } else {
      targets[key] = target;
    }
  }
  const decision: Decision = { build: [], waiting: [], upToDate: [], settled };
  const wantedKeys = new Set<string>();
  const since = new Date(now).toISOString();
  for (const want of wanted) {
    const key = keyOf(want);
    wantedKeys.add(key);
    const target = targets[key] ?? {};
    if (same(target.published, want)) {
      decision.upToDate.push(want);
      continue;
    }
    const claim = target.claim;
    if (claim && same(claim, want) && claim.runId !== self.runId) {
      decision.waiting.push({ wanted: want, why: `being built by ${claim.runUrl}` });
      continue;
    }
    const failedRun = target.failure ? runIdOf(target.failure.run) : null;
    if (
      same(target.failure, want) &&
      failedRun !== null &&
      failedRun !== self.runId &&
      runs.get(failedRun)?.done === false
    ) {
      // Its failed run is being re-run (same run id): that re-run records it.
      decision.waiting.push({ wanted: want, why: `being re-run by ${target.failure!.run}` });
      continue;
    }
    if (same(target.failure, want) && now < retryAfter(target.failure!)) {
      const failure = target.failure!;
      decision.waiting.push({
        wanted: want,
        why: `failed ${failure.count === 1 ? 'once' : `${failure.count} times`} (${failure.run}); tried again after ${new Date(retryAfter(failure)).toISOString()}`,
      });
      continue;
    }
    if (decision.build.length >= maxBuilds) {
      decision.waiting.push({
        wanted: want,
        why: `this run builds ${maxBuilds} (max-builds); the next run builds it`,
      });
      continue;
    }
    decision.build.push(want);
    targets[key] = {
      ...target,
      claim: {
        sha: want.sha,
        constraints: want.constraints,
        runId: self.runId,
        runUrl: self.runUrl,
        since,
      },
    };
  }
  for (const key of Object.keys(targets)) {
    const claim = targets[key]!.claim;
    const live = claim && (claim.runId === self.runId || runs.get(claim.runId)?.done === false);
    const kept = keep.has(key) || keep.has(key.slice(0, key.indexOf(' ')));
    if (!wantedKeys.has(key) && !live && !kept) delete targets[key];
  }
  return { state: { version: 2, targets }, decision };
}

/**
 * The end of this run: each target it claimed is published (with the revisions its publish job
 * recorded) or failed. The claim stays on a failure, so a re-run of this run's failed jobs still
 * holds the target; the next run's decision settles it once this run has finished. A re-run after
 * that records the failure it re-ran as published when it published this time.
 */
export function recordOwn(
  state: BuildState,
  self: ThisRun,
  published: ReadonlyMap<string, { revisions?: Record<string, number>; channel?: string }>,
  now: number,
): { state: BuildState; recorded: { key: string; published: boolean }[] } {
  const at = new Date(now).toISOString();
  const targets: Record<string, TargetState> = { ...state.targets };
  const recorded: { key: string; published: boolean }[] = [];
  for (const [key, target] of Object.entries(state.targets)) {
    const claim = target.claim;
    // A re-run of this run's failed jobs, after a later plan settled its claim as a failure.
    const rerun = !claim && target.failure?.run === self.runUrl ? target.failure : null;
    if (rerun) {
      const detail = published.get(key);
      if (detail)
        targets[key] = {
          published: {
            sha: rerun.sha,
            constraints: rerun.constraints,
            at,
            run: self.runUrl,
            ...(detail.revisions ? { revisions: detail.revisions } : {}),
            ...(detail.channel ? { channel: detail.channel } : {}),
          },
        };
      recorded.push({ key, published: !!detail });
      continue;
    }
    if (claim?.runId !== self.runId) continue;
    const detail = published.get(key);
    if (detail) {
      targets[key] = {
        published: {
          sha: claim.sha,
          constraints: claim.constraints,
          at,
          run: self.runUrl,
          ...(detail.revisions ? { revisions: detail.revisions } : {}),
          ...(detail.channel ? { channel: detail.channel } : {}),
        },
      };
    } else {
      targets[key] = { ...target, failure: failed(target.failure, claim, self.runUrl, at) };
    }
    recorded.push({ key, published: !!detail });
  }
  return { state: { version: 2, targets }, recorded };
}
