import { getOctokit } from '@actions/github';
import { errorMessage } from './errors.js';
import type { RepoResult } from './mirror.js';
import { globToRegExp } from './glob.js';

/** owner/repo of a GitHub-style URL (https://host/owner/repo(.git), git@host:owner/repo.git). */
export function repositoryOf(url: string): { owner: string; repo: string } | null {
  const match = /[/:]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
  return match ? { owner: match[1]!, repo: match[2]! } : null;
}

export interface DispatchOptions {
  /** Workflow file name or id in the destination repo (e.g. snap.yml). */
  readonly workflow: string;
  /** Which changed branches start a run: glob patterns over branch names. */
  readonly branches: readonly string[];
  /** The workflow_dispatch input that receives the branch; empty to send none. */
  readonly inputName: string;
  readonly token: string;
  /** GitHub's REST API (GITHUB_API_URL on a runner). */
  readonly apiUrl: string;
}

export interface DispatchResult {
  readonly repository: string;
  readonly branch: string;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * After a mirror run, starts the named workflow in each destination repo once per release branch
 * that was created or updated, from the repo's default branch, with the branch as input.
 */
export async function dispatchForChanges(
  results: readonly RepoResult[],
  options: DispatchOptions,
): Promise<DispatchResult[]> {
  const patterns = options.branches.map(globToRegExp);
  const octokit = getOctokit(options.token, { baseUrl: options.apiUrl });
  const dispatched: DispatchResult[] = [];
  for (const result of results) {
    const branches = [...result.created, ...result.updated]
      .map((c) => c.ref)
      .filter((ref) => ref.startsWith('refs/heads/'))
      .map((ref) => ref.slice('refs/heads/'.length))
      .filter((branch) => patterns.some((p) => p.test(branch)));
    if (branches.length === 0) continue;
    const repository = repositoryOf(result.destination);
    if (!repository) {
      dispatched.push(
        ...branches.map((branch) => ({
          repository: result.destination,
          branch,
          ok: false,
          error: 'not a GitHub repository URL',
        })),
      );
      continue;
    }
    const name = `${repository.owner}/${repository.repo}`;
    let ref: string;
    try {
      ref = (await octokit.rest.repos.get(repository)).data.default_branch;
    } catch (error) {
      dispatched.push(
        ...branches.map((branch) => ({
          repository: name,
          branch,
          ok: false,
          error: errorMessage(error),
        })),
      );
      continue;
    }
    for (const branch of branches) {
      try {
        await octokit.rest.actions.createWorkflowDispatch({
          ...repository,
          workflow_id: options.workflow,
          ref,
          inputs: options.inputName ? { [options.inputName]: branch } : {},
        });
        dispatched.push({ repository: name, branch, ok: true });
      } catch (error) {
        dispatched.push({ repository: name, branch, ok: false, error: errorMessage(error) });
      }
    }
  }
  return dispatched;
}
