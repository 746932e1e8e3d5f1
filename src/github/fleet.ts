import { ConfigurationError, errorKind, errorMessage } from '../platform/index.js';
import type { GitHubClient } from './api.js';

/** One rebuild: a snap repository and the release branch to rebuild in it. */
export interface FleetTarget {
  readonly repository: { readonly owner: string; readonly repo: string };
  readonly branch: string;
}

/** A rebuild that was started: its run, when GitHub said or once it is found. */
export interface FleetRun {
  readonly target: FleetTarget;
  runId: number | null;
  runUrl: string | null;
  /** When it was dispatched (ISO): a run found by listing was created after it. */
  readonly since: string;
  /** The branch the workflow was dispatched on (the repo's default branch). */
  readonly defaultBranch: string;
  conclusion: string | null;
  error?: string;
}

export interface FleetOptions {
  readonly client: GitHubClient;
  /** The workflow file that takes `branch` (and `publish`) as workflow_dispatch inputs. */
  readonly workflow: string;
  readonly publish: boolean;
  /** One deadline for every run. */
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly log?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface FleetResult {
  readonly repo: string;
  readonly branch: string;
  readonly dispatched: boolean;
  readonly runUrl: string | null;
  /** success, failure, cancelled, timed_out ... as GitHub reports; null while unknown. */
  readonly conclusion: string | null;
  readonly error?: string;
}

export const repoName = (target: FleetTarget): string =>
  `${target.repository.owner}/${target.repository.repo}`;

/**
 * Starts every rebuild, asking GitHub for each one's run (`return_run_details`, Feb 2026). Where
 * GitHub answers 204 without one (GHES refuses the parameter), the run is found later by listing.
 */
export async function dispatchAll(
  targets: readonly FleetTarget[],
  options: FleetOptions,
): Promise<FleetRun[]> {
  const { client } = options;
  const log = options.log ?? (() => {});
  const defaults = new Map<string, Promise<string>>();
  const defaultBranch = (target: FleetTarget): Promise<string> => {
    const key = repoName(target);
    if (!defaults.has(key))
      defaults.set(
        key,
        client.rest.repos.get(target.repository).then((r) => r.data.default_branch),
      );
    return defaults.get(key)!;
  };
  const runs: FleetRun[] = [];
  for (const target of targets) {
    const since = new Date().toISOString();
    try {
      const ref = await defaultBranch(target);
      const run = await dispatch(client, target, options.workflow, ref, {
        branch: target.branch,
        publish: String(options.publish),
      });
      log(
        `${repoName(target)}: rebuild of ${target.branch} dispatched${run.url ? ` (${run.url})` : ''}`,
      );
      runs.push({
        target,
        runId: run.id,
        runUrl: run.url,
        since,
        defaultBranch: ref,
        conclusion: null,
      });
    } catch (error) {
      runs.push({
        target,
        runId: null,
        runUrl: null,
        since,
        defaultBranch: '',
        conclusion: null,
        error: errorMessage(error),
      });
    }
  }
  return runs;
}

/**
 * Follows runs until each has finished or the deadline passes, one listing of runs per repository
 * a round (not a request per run: a fleet of sixty would otherwise spend a token's hourly limit).
 * A run not yet known is the oldest workflow_dispatch run created since its dispatch that no
 * other dispatch of this call has taken. Updates the runs in place.
 */
export async function awaitRuns(runs: FleetRun[], options: FleetOptions): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = options.log ?? (() => {});
  const { client } = options;
  const deadline = Date.now() + options.timeoutMs;
  const claimed = new Set(runs.map((r) => r.runId).filter((id): id is number => id !== null));
  const waiting = (): FleetRun[] => runs.filter((r) => !r.error && r.conclusion === null);
  while (waiting().length > 0) {
    const byRepo = new Map<string, FleetRun[]>();
    for (const run of waiting())
      byRepo.set(repoName(run.target), [...(byRepo.get(repoName(run.target)) ?? []), run]);
    for (const [name, group] of byRepo) {
      try {
        const oldest = group.map((r) => Date.parse(r.since)).reduce((a, b) => Math.min(a, b));
        const { data } = await client.rest.actions.listWorkflowRuns({
          ...group[0]!.target.repository,
          workflow_id: options.workflow,
          event: 'workflow_dispatch',
          // A little clock skew between this runner and GitHub.
          created: `>=${new Date(oldest - 10000).toISOString()}`,
          per_page: 100,
        });
        const listed = [...data.workflow_runs].sort(
          (a, b) => Date.parse(a.created_at) - Date.parse(b.created_at),
        );
        for (const run of group) {
          let found = listed.find((r) => r.id === run.runId);
          if (run.runId === null) {
            found = listed.find(
              (r) =>
                !claimed.has(r.id) &&
                r.head_branch === run.defaultBranch &&
                Date.parse(r.created_at) >= Date.parse(run.since) - 10000,
            );
            if (!found) continue;
            run.runId = found.id;
            claimed.add(found.id);
          }
          if (!found) {
            // Older than the listing reaches: ask for the run itself.
            found = (
              await client.rest.actions.getWorkflowRun({
                ...run.target.repository,
                run_id: run.runId!,
              })
            ).data as unknown as (typeof listed)[number];
          }
          run.runUrl = found.html_url;
          if (found.status === 'completed') {
            run.conclusion = found.conclusion ?? 'unknown';
            log(`${name} ${run.target.branch}: ${run.conclusion} (${found.html_url})`);
          }
        }
      } catch (error) {
        // A dropped connection or a 5xx is waited out. A refusal the next poll would only
        // repeat (401, 403, 404) ends the wait for this run, reported as its failure; a bug of
        // ours stops everything.
        if (errorKind(error) === 'bug') throw error;
        const status = (error as { status?: number }).status;
        if (status !== undefined && status < 500 && status !== 429) {
          for (const run of group.filter((r) => !r.error && r.conclusion === null)) {
            run.error = `cannot follow the run: ${errorMessage(error)}`;
            log(`${name} ${run.target.branch}: ${run.error}`);
          }
          continue;
        }
        log(`${name}: polling failed (${errorMessage(error)}); trying again`);
      }
    }
    if (waiting().length === 0 || Date.now() >= deadline) break;
    await sleep(options.pollMs);
  }
}

/** Starts every rebuild, then waits for all of them against one deadline. */
export async function rebuildFleet(
  targets: readonly FleetTarget[],
  options: FleetOptions & { readonly wait: boolean },
): Promise<FleetResult[]> {
  const runs = await dispatchAll(targets, options);
  if (options.wait) await awaitRuns(runs, options);
  const minutes = Math.round(options.timeoutMs / 60000);
  return runs.map((run) =>
    resultOf(
      run,
      run.error ??
        (options.wait && run.conclusion === null
          ? `still running after ${minutes} min`
          : undefined),
    ),
  );
}

export function resultOf(run: FleetRun, error = run.error): FleetResult {
  return {
    repo: repoName(run.target),
    branch: run.target.branch,
    dispatched: !run.error,
    runUrl: run.runUrl,
    conclusion: run.conclusion,
    ...(error ? { error } : {}),
  };
}

async function dispatch(
  client: GitHubClient,
  target: FleetTarget,
  workflow: string,
  ref: string,
  inputs: Record<string, string>,
): Promise<{ id: number | null; url: string | null }> {
  const route = 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches';
  const base = { ...target.repository, workflow_id: workflow, ref, inputs };
  try {
    const response = await client.request(route, { ...base, return_run_details: true });
    const data = (response.data ?? {}) as { workflow_run_id?: number; html_url?: string };
    return { id: data.workflow_run_id ?? null, url: data.html_url ?? null };
  } catch (error) {
    // GHES (and older APIs) refuse the parameter: dispatch without it, and find the run later.
    if (
      (error as { status?: number }).status !== 422 ||
      !/return_run_details/.test(errorMessage(error))
    )
      throw error;
    await client.request(route, base);
    return { id: null, url: null };
  }
}

/** `owner/name`, or a URL of a repository on the GitHub host this runs against. */
export function parseFleetRepo(text: string, serverUrl: string): { owner: string; repo: string } {
  const value = text.trim();
  let match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value);
  if (!match) {
    const host = new URL(serverUrl).host;
    const url = URL.canParse(value) ? new URL(value) : null;
    if (url && url.protocol === 'https:' && url.host === host && !url.username && !url.password)
      match = /^\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url.pathname);
  }
  if (!match || [match[1]!, match[2]!].some((part) => /^\.+$/.test(part) || part.startsWith('-'))) {
    throw new ConfigurationError(
      `'${value}' is not a snap repository: write owner/name (or https://${new URL(serverUrl).host}/owner/name).`,
    );
  }
  return { owner: match[1]!, repo: match[2]! };
}
