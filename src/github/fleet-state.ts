import type { StateCodec } from './state-file.js';
import { repoName, type FleetRun, type FleetTarget } from './fleet.js';

/**
 * What each snap last built against: per snap repository and release branch, the
 * openstack/requirements commit of that branch its last successful rebuild was started for, and
 * a rebuild still under way (its run, and the commit it builds). It lives in a file on a branch of
 * the repository that runs the fleet rebuilds, so it survives runs, failed ones included: a
 * rebuild that fails leaves the commit as it was and the next run tries again; one that outlasts
 * a run is followed by the next instead of being started twice.
 */
export interface BranchState {
  readonly commit?: string;
  readonly run?: string | null;
  readonly at?: string;
  readonly pending?: {
    readonly commit: string;
    readonly runId: number | null;
    readonly runUrl: string | null;
    readonly since: string;
    readonly defaultBranch: string;
  };
}

export interface FleetState {
  readonly version: 1;
  readonly snaps: Record<string, Record<string, BranchState>>;
}

export const EMPTY_STATE: FleetState = { version: 1, snaps: {} };

/** The fleet state file's kind: version 1, a map of snaps. */
export const FLEET_STATE: StateCodec<FleetState> = {
  empty: EMPTY_STATE,
  kind: 'a fleet state file (version 1)',
  read: (value) => {
    const state = value as FleetState | null;
    return state?.version === 1 && typeof state.snaps === 'object' && state.snaps !== null
      ? state
      : null;
  },
};

/** A rebuild the state calls for, and why. */
export interface StaleTarget extends FleetTarget {
  readonly commit: string;
  readonly reason: string;
}

/** A rebuild an earlier run started for the current tip, still to be followed. */
export interface PendingTarget extends StaleTarget {
  readonly run: FleetRun;
}

// A rebuild whose run was never found (GHES, listing lost it) is started again after a day.
const FORGET_AFTER_MS = 24 * 3600 * 1000;

/**
 * For each (snap repo, release branch): nothing when its last successful rebuild was for the
 * branch's tip; follow the run when an earlier fleet run started one for that tip; else rebuild.
 */
export function planRebuilds(
  repos: readonly { owner: string; repo: string }[],
  tips: ReadonlyMap<string, string>,
  state: FleetState,
  now = Date.now(),
): { rebuild: StaleTarget[]; follow: PendingTarget[] } {
  const rebuild: StaleTarget[] = [];
  const follow: PendingTarget[] = [];
  for (const repository of repos) {
    const name = `${repository.owner}/${repository.repo}`;
    for (const [branch, commit] of tips) {
      const last = state.snaps[name]?.[branch];
      if (last?.commit === commit) continue;
      const pending = last?.pending;
      if (
        pending?.commit === commit &&
        (pending.runId !== null || now - Date.parse(pending.since) < FORGET_AFTER_MS)
      ) {
        follow.push({
          repository,
          branch,
          commit,
          reason: `started earlier for ${commit.slice(0, 12)}`,
          run: {
            target: { repository, branch },
            runId: pending.runId,
            runUrl: pending.runUrl,
            since: pending.since,
            defaultBranch: pending.defaultBranch,
            conclusion: null,
          },
        });
        continue;
      }
      rebuild.push({
        repository,
        branch,
        commit,
        reason: last?.commit
          ? `constraints moved from ${last.commit.slice(0, 12)} to ${commit.slice(0, 12)}`
          : `never rebuilt against ${commit.slice(0, 12)}`,
      });
    }
  }
  return { rebuild, follow };
}

/**
 * The state after these runs: a success moves its branch on to the commit it built; a run that
 * finished otherwise (or never started) clears its pending mark so the next run starts it again;
 * a run still going stays pending, to be followed. Only `claim` creates a pending mark: after
 * that a run updates its mark only while the mark is still there for its commit (a racing run
 * may have settled it), and never forgets a run id another writer found.
 */
export function recordRuns(
  state: FleetState,
  runs: readonly { commit: string; run: FleetRun }[],
  at: string,
  options: { readonly claim?: boolean } = {},
): FleetState {
  const snaps = Object.fromEntries(
    Object.entries(state.snaps).map(([repo, branches]) => [repo, { ...branches }]),
  ) as Record<string, Record<string, BranchState>>;
  for (const { commit, run } of runs) {
    const name = repoName(run.target);
    const branches = (snaps[name] ??= {});
    const { pending, ...settled } = branches[run.target.branch] ?? {};
    const ours = options.claim || pending?.commit === commit;
    if (run.conclusion === 'success') {
      branches[run.target.branch] = { commit, run: run.runUrl, at };
    } else if (!ours) {
      // Settled by another run meanwhile: its word stands.
    } else if (run.error || run.conclusion !== null) {
      if (Object.keys(settled).length > 0) branches[run.target.branch] = settled;
      else delete branches[run.target.branch];
    } else {
      const known = run.runId === null && pending?.runId != null ? pending : null;
      branches[run.target.branch] = {
        ...settled,
        pending: known ?? {
          commit,
          runId: run.runId,
          runUrl: run.runUrl,
          since: run.since,
          defaultBranch: run.defaultBranch,
        },
      };
    }
    if (Object.keys(branches).length === 0) delete snaps[name];
  }
  return { version: 1, snaps };
}
