import { getOctokit } from '@actions/github';
import { ConfigurationError, errorMessage } from './errors.js';
import { repositoryOf } from './github-dispatch.js';
import { mapConcurrent } from './pool.js';

export interface FleetOptions {
  /** owner/repo of each snap repository (or its URL). */
  readonly repos: readonly string[];
  /** The release branch to rebuild in each. */
  readonly branch: string;
  /** The workflow file that takes `branch` (and `publish`) as workflow_dispatch inputs. */
  readonly workflow: string;
  readonly publish: boolean;
  readonly token: string;
  readonly apiUrl: string;
  /** Wait for the runs to finish (else just start them). */
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface FleetResult {
  readonly repo: string;
  readonly dispatched: boolean;
  readonly runUrl: string | null;
  /** success, failure, cancelled, timed_out ... as GitHub reports; null while unknown. */
  readonly conclusion: string | null;
  readonly error?: string;
}

/**
 * Starts each snap repo's rebuild of a release branch and (optionally) waits for every run,
 * finding each run as the newest workflow_dispatch run of that workflow created after the dispatch.
 */
export async function rebuildFleet(options: FleetOptions): Promise<FleetResult[]> {
  const octokit = getOctokit(options.token, { baseUrl: options.apiUrl });
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = options.log ?? (() => {});
  const targets = options.repos.map((repo) => {
    const parsed = /^[\w.-]+\/[\w.-]+$/.test(repo)
      ? { owner: repo.split('/')[0]!, repo: repo.split('/')[1]! }
      : repositoryOf(repo);
    if (!parsed)
      throw new ConfigurationError(`'${repo}' is not owner/repo or a GitHub repository URL.`);
    return parsed;
  });
  return mapConcurrent(targets, 4, async (target) => {
    const name = `${target.owner}/${target.repo}`;
    const since = new Date(Date.now() - 5000).toISOString();
    try {
      const { data: repo } = await octokit.rest.repos.get(target);
      await octokit.rest.actions.createWorkflowDispatch({
        ...target,
        workflow_id: options.workflow,
        ref: repo.default_branch,
        inputs: { branch: options.branch, publish: String(options.publish) },
      });
      log(`${name}: rebuild of ${options.branch} dispatched`);
    } catch (error) {
      return {
        repo: name,
        dispatched: false,
        runUrl: null,
        conclusion: null,
        error: errorMessage(error),
      };
    }
    if (!options.wait) return { repo: name, dispatched: true, runUrl: null, conclusion: null };
    const deadline = Date.now() + options.timeoutMs;
    let runUrl: string | null = null;
    while (Date.now() < deadline) {
      try {
        const { data } = await octokit.rest.actions.listWorkflowRuns({
          ...target,
          workflow_id: options.workflow,
          event: 'workflow_dispatch',
          created: `>=${since}`,
          per_page: 5,
        });
        const run = data.workflow_runs[0];
        if (run) {
          runUrl = run.html_url;
          if (run.status === 'completed') {
            log(`${name}: ${run.conclusion} (${run.html_url})`);
            return {
              repo: name,
              dispatched: true,
              runUrl,
              conclusion: run.conclusion ?? 'unknown',
            };
          }
        }
      } catch (error) {
        log(`${name}: polling failed (${errorMessage(error)}); retrying`);
      }
      await sleep(options.pollMs);
    }
    return {
      repo: name,
      dispatched: true,
      runUrl,
      conclusion: null,
      error: `still running after ${Math.round(options.timeoutMs / 60000)} min`,
    };
  });
}
