import { ConfigurationError, errorMessage, ExternalError } from '../platform/index.js';
import type { GitHubClient } from './api.js';
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

/** The state file: `path` on `branch` of `repository`, read and written with the contents API. */
export class StateFile {
  constructor(
    private readonly client: GitHubClient,
    private readonly repository: { owner: string; repo: string },
    private readonly branch: string,
    private readonly path = 'fleet-state.json',
  ) {}

  /** The state and the file's blob SHA (null when there is no file yet). */
  async read(): Promise<{ state: FleetState; sha: string | null }> {
    try {
      const { data } = await this.client.rest.repos.getContent({
        ...this.repository,
        path: this.path,
        ref: this.branch,
      });
      const file = data as { content?: string; sha: string };
      const state = JSON.parse(
        Buffer.from(file.content ?? '', 'base64').toString('utf8'),
      ) as FleetState;
      if (state.version !== 1 || typeof state.snaps !== 'object')
        throw new ConfigurationError(
          `${this.path} on ${this.branch} is not a fleet state file (version 1): move it away or choose another 'state-branch'.`,
        );
      return { state, sha: file.sha };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return { state: EMPTY_STATE, sha: null };
      throw error;
    }
  }

  /**
   * Applies `update` to the newest state and writes it, creating the branch from the default
   * branch when it is not there yet. Another writer in between (409/422 on the blob SHA) means
   * read again and re-apply: the update is a merge, never an overwrite.
   */
  async update(update: (state: FleetState) => FleetState, message: string): Promise<void> {
    await this.ensureBranch();
    for (let attempt = 1; ; attempt++) {
      const { state, sha } = await this.read();
      const next = update(state);
      try {
        await this.client.rest.repos.createOrUpdateFileContents({
          ...this.repository,
          path: this.path,
          branch: this.branch,
          message,
          content: Buffer.from(`${JSON.stringify(next, null, 2)}\n`).toString('base64'),
          ...(sha ? { sha } : {}),
        });
        return;
      } catch (error) {
        const status = (error as { status?: number }).status;
        if ((status === 409 || status === 422) && attempt < 3) continue;
        throw new ExternalError(
          `cannot write ${this.path} on ${this.branch}: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
    }
  }

  private async ensureBranch(): Promise<void> {
    try {
      await this.client.rest.git.getRef({ ...this.repository, ref: `heads/${this.branch}` });
      return;
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
    const { data: repo } = await this.client.rest.repos.get(this.repository);
    const { data: head } = await this.client.rest.git.getRef({
      ...this.repository,
      ref: `heads/${repo.default_branch}`,
    });
    await this.client.rest.git.createRef({
      ...this.repository,
      ref: `refs/heads/${this.branch}`,
      sha: head.object.sha,
    });
  }
}

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
 * a run still going stays pending, to be followed.
 */
export function recordRuns(
  state: FleetState,
  runs: readonly { commit: string; run: FleetRun }[],
  at: string,
): FleetState {
  const snaps = Object.fromEntries(
    Object.entries(state.snaps).map(([repo, branches]) => [repo, { ...branches }]),
  ) as Record<string, Record<string, BranchState>>;
  for (const { commit, run } of runs) {
    const name = repoName(run.target);
    const branches = (snaps[name] ??= {});
    const { pending: _pending, ...settled } = branches[run.target.branch] ?? {};
    if (run.conclusion === 'success') {
      branches[run.target.branch] = { commit, run: run.runUrl, at };
    } else if (run.error || run.conclusion !== null) {
      if (Object.keys(settled).length > 0) branches[run.target.branch] = settled;
      else delete branches[run.target.branch];
      if (Object.keys(branches).length === 0) delete snaps[name];
    } else {
      branches[run.target.branch] = {
        ...settled,
        pending: {
          commit,
          runId: run.runId,
          runUrl: run.runUrl,
          since: run.since,
          defaultBranch: run.defaultBranch,
        },
      };
    }
  }
  return { version: 1, snaps };
}
