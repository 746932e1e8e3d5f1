import { errorMessage, Git, globMatcher } from '../platform/index.js';
import type { MirrorPair, RepoResult } from '../mirror/index.js';
import { githubClient } from './api.js';

/** owner/repo of a GitHub-style URL (https://host/owner/repo(.git), git@host:owner/repo.git). */
export function repositoryOf(url: string): { owner: string; repo: string } | null {
  const match = /[/:]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
  return match ? { owner: match[1]!, repo: match[2]! } : null;
}

export interface DispatchOptions {
  /** Workflow file name or id in the destination repos (e.g. snap.yml); a pair may override it. */
  readonly workflow: string;
  /** Which changed branches start a run: glob patterns over branch names. */
  readonly branches: readonly string[];
  /** The workflow_dispatch input that receives the branch; empty to send none. */
  readonly inputName: string;
  readonly token: string;
  /** GitHub's REST API (GITHUB_API_URL on a runner). */
  readonly apiUrl: string;
  /** Where the mirror keeps each pair's bare copy (`<slug>.git`): it shows what each push carried. */
  readonly workDir: string;
  readonly log?: (line: string) => void;
}

export interface DispatchResult {
  readonly repository: string;
  readonly branch: string;
  readonly ok: boolean;
  /** Why no dispatch was needed (the push itself starts the workflow). */
  readonly skipped?: string;
  readonly error?: string;
}

/**
 * After a mirror run, starts each destination's workflow once per release branch the destination
 * accepted (created or updated; refused refs and refused repos never), from the repo's default
 * branch, with the branch as input; but only where the push cannot start it: a pushed commit
 * that carries `.github/workflows/<workflow>` starts its own `push` run (the mirror pushes with a
 * PAT or App token), and dispatching too would build and publish twice.
 */
export async function dispatchForChanges(
  results: readonly RepoResult[],
  pairs: readonly MirrorPair[],
  options: DispatchOptions,
): Promise<DispatchResult[]> {
  const patterns = options.branches.map((p) => globMatcher(p, 'dispatch-branches pattern'));
  const octokit = githubClient(options.token, options.apiUrl, options.log);
  const dispatched: DispatchResult[] = [];
  for (const result of results) {
    if (result.status !== 'mirrored' && result.status !== 'partial') continue;
    const workflow = pairs.find((p) => p.slug === result.slug)?.dispatch ?? options.workflow;
    if (!workflow || workflow === 'none') continue;
    const pushed = [...result.created, ...result.updated].filter(
      (c) =>
        c.ref.startsWith('refs/heads/') &&
        c.new &&
        patterns.some((matches) => matches(c.ref.slice('refs/heads/'.length))),
    );
    if (pushed.length === 0) continue;
    const repository = repositoryOf(result.destination);
    const name = repository ? `${repository.owner}/${repository.repo}` : result.destination;
    const fail = (error: string): void => {
      for (const c of pushed)
        dispatched.push({ repository: name, branch: c.ref.slice(11), ok: false, error });
    };
    if (!repository) {
      fail('not a GitHub repository URL');
      continue;
    }
    let ref: string;
    try {
      ref = (await octokit.rest.repos.get(repository)).data.default_branch;
    } catch (error) {
      fail(errorMessage(error));
      continue;
    }
    const copy = new Git({ cwd: `${options.workDir}/${result.slug}.git` });
    for (const change of pushed) {
      const branch = change.ref.slice('refs/heads/'.length);
      const path = `.github/workflows/${workflow}`;
      if (
        /\.ya?ml$/.test(workflow) &&
        (await copy.try(['cat-file', '-e', `${change.new}:${path}`]))
      ) {
        dispatched.push({
          repository: name,
          branch,
          ok: true,
          skipped: `the pushed commit has ${path}, so the push starts it`,
        });
        continue;
      }
      try {
        await octokit.rest.actions.createWorkflowDispatch({
          ...repository,
          workflow_id: workflow,
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
