import { ConfigurationError, errorMessage } from './errors.js';
import type { GitHubClient } from './github-api.js';

/** One rebuild: a snap repository and the release branch to rebuild in it. */
export interface FleetTarget {
  readonly repository: { readonly owner: string; readonly repo: string };
  readonly branch: string;
}

export interface FleetOptions {
  readonly client: GitHubClient;
  readonly targets: readonly FleetTarget[];
  /** The workflow file that takes `branch` (and `publish`) as workflow_dispatch inputs. */
  readonly workflow: string;
  readonly publish: boolean;
  /** Wait for the runs to finish (else just start them). */
  readonly wait: boolean;
  /** One deadline for every run, from the first dispatch. */
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

interface Pending {
  readonly target: FleetTarget;
  readonly name: string;
  /** The run, when GitHub said which (return_run_details), or once found. */
  runId: number | null;
  runUrl: string | null;
  /** When the dispatch was made: a run found by listing must be created after it. */
  readonly since: number;
  readonly defaultBranch: string;
  conclusion: string | null;
  error?: string;
}

/**
 * Starts every rebuild first, then waits for all of them against one deadline (a fleet of twenty
 * does not wait twenty times). Each dispatch asks GitHub for its run (`return_run_details`, Feb
 * 2026); where GitHub answers 204 without one (GHES), the run is the oldest workflow_dispatch run
 * of that workflow created since, not already taken by another dispatch of this call.
 */
export async function rebuildFleet(options: FleetOptions): Promise<FleetResult[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = options.log ?? (() => {});
  const { client } = options;
  const defaults = new Map<string, Promise<string>>();
  const defaultBranch = (target: FleetTarget): Promise<string> => {
    const key = `${target.repository.owner}/${target.repository.repo}`;
    if (!defaults.has(key))
      defaults.set(
        key,
        client.rest.repos.get(target.repository).then((r) => r.data.default_branch),
      );
    return defaults.get(key)!;
  };

  const pending: Pending[] = [];
  for (const target of options.targets) {
    const name = `${target.repository.owner}/${target.repository.repo}`;
    const since = Date.now();
    try {
      const ref = await defaultBranch(target);
      const run = await dispatch(client, target, options.workflow, ref, {
        branch: target.branch,
        publish: String(options.publish),
      });
      log(`${name}: rebuild of ${target.branch} dispatched${run.url ? ` (${run.url})` : ''}`);
      pending.push({
        target,
        name,
        runId: run.id,
        runUrl: run.url,
        since,
        defaultBranch: ref,
        conclusion: null,
      });
    } catch (error) {
      pending.push({
        target,
        name,
        runId: null,
        runUrl: null,
        since,
        defaultBranch: '',
        conclusion: null,
        error: errorMessage(error),
      });
    }
  }

  const deadline = Date.now() + options.timeoutMs;
  const waiting = (): Pending[] =>
    options.wait ? pending.filter((p) => !p.error && p.conclusion === null) : [];
  const claimed = new Set<number>();
  while (waiting().length > 0 && Date.now() < deadline) {
    for (const p of waiting()) {
      try {
        if (p.runId === null) {
          const found = await findRun(client, p, options.workflow, claimed);
          if (!found) continue;
          p.runId = found;
          claimed.add(found);
        }
        const { data: run } = await client.rest.actions.getWorkflowRun({
          ...p.target.repository,
          run_id: p.runId,
        });
        p.runUrl = run.html_url;
        if (run.status === 'completed') {
          p.conclusion = run.conclusion ?? 'unknown';
          log(`${p.name} ${p.target.branch}: ${p.conclusion} (${run.html_url})`);
        }
      } catch (error) {
        log(`${p.name}: polling failed (${errorMessage(error)}); trying again`);
      }
    }
    if (waiting().length > 0) await sleep(options.pollMs);
  }
  const minutes = Math.round(options.timeoutMs / 60000);
  return pending.map((p) => ({
    repo: p.name,
    branch: p.target.branch,
    dispatched: !p.error,
    runUrl: p.runUrl,
    conclusion: p.conclusion,
    ...(p.error
      ? { error: p.error }
      : options.wait && p.conclusion === null
        ? { error: `still running after ${minutes} min` }
        : {}),
  }));
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

async function findRun(
  client: GitHubClient,
  p: Pending,
  workflow: string,
  claimed: ReadonlySet<number>,
): Promise<number | null> {
  const { data } = await client.rest.actions.listWorkflowRuns({
    ...p.target.repository,
    workflow_id: workflow,
    event: 'workflow_dispatch',
    branch: p.defaultBranch,
    // A little clock skew between this runner and GitHub.
    created: `>=${new Date(p.since - 10000).toISOString()}`,
    per_page: 50,
  });
  const candidates = data.workflow_runs
    .filter((r) => !claimed.has(r.id))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  return candidates[0]?.id ?? null;
}

/** `owner/name`, or a URL of a repository on the GitHub host this runs against. */
export function parseFleetRepo(text: string, serverUrl: string): { owner: string; repo: string } {
  const value = text.trim();
  const plain = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value);
  let match = plain;
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
