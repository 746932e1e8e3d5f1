import { errorMessage } from './errors.js';
import type { GitHubClient } from './github-api.js';
import type { FleetResult, FleetTarget } from './fleet.js';

/**
 * What each snap last built against: per snap repository and release branch, the
 * openstack/requirements commit of that branch its last successful rebuild was started for.
 * It lives in a file on a branch of the repository that runs the fleet rebuilds, so it survives
 * runs, failed runs included; a rebuild that fails leaves its entry as it was, and the next run
 * tries again.
 */
export interface FleetState {
  readonly version: 1;
  readonly snaps: Record<
    string,
    Record<string, { commit: string; run: string | null; at: string }>
  >;
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
        throw new Error(`${this.path} on ${this.branch} is not a fleet state file (version 1)`);
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
        throw new Error(`cannot write ${this.path} on ${this.branch}: ${errorMessage(error)}`, {
          cause: error,
        });
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

/** Each (snap repo, release branch) whose last successful rebuild was not for the branch's tip. */
export function staleTargets(
  repos: readonly { owner: string; repo: string }[],
  tips: ReadonlyMap<string, string>,
  state: FleetState,
): StaleTarget[] {
  const stale: StaleTarget[] = [];
  for (const repository of repos) {
    const name = `${repository.owner}/${repository.repo}`;
    for (const [branch, commit] of tips) {
      const last = state.snaps[name]?.[branch];
      if (last?.commit === commit) continue;
      stale.push({
        repository,
        branch,
        commit,
        reason: last
          ? `constraints moved from ${last.commit.slice(0, 12)} to ${commit.slice(0, 12)}`
          : `never rebuilt against ${commit.slice(0, 12)}`,
      });
    }
  }
  return stale;
}

/** The state after these rebuilds: successes move on to their commit, the rest stay. */
export function recordRebuilds(
  state: FleetState,
  targets: readonly StaleTarget[],
  results: readonly FleetResult[],
  at: string,
): FleetState {
  const snaps = Object.fromEntries(
    Object.entries(state.snaps).map(([repo, branches]) => [repo, { ...branches }]),
  );
  targets.forEach((target, index) => {
    const result = results[index];
    if (result?.conclusion !== 'success') return;
    const name = `${target.repository.owner}/${target.repository.repo}`;
    (snaps[name] ??= {})[target.branch] = { commit: target.commit, run: result.runUrl, at };
  });
  return { version: 1, snaps };
}
