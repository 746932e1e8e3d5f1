import { listRemoteRefs } from '../constraints/index.js';
import { Git, redactUrl } from '../platform/index.js';
import type { GitHubClient } from './api.js';
import {
  awaitRuns,
  dispatchAll,
  resultOf,
  type FleetOptions,
  type FleetResult,
  type FleetRun,
} from './fleet.js';
import {
  planRebuilds,
  recordRuns,
  type FleetState,
  type PendingTarget,
  type StaleTarget,
} from './fleet-state.js';
import type { StateFile } from './state-file.js';

export interface ConstraintRebuildOptions {
  readonly fleet: FleetOptions;
  readonly repos: readonly { owner: string; repo: string }[];
  /** openstack/requirements (or a mirror), and the branches of it that matter. */
  readonly requirementsUrl: string;
  readonly branchPatterns: readonly ((branch: string) => boolean)[];
  /** Where the fleet state lives: a branch of the repository running the fleet. */
  readonly state: StateFile<FleetState>;
  /** Wait for the runs (else they stay pending, followed by the next run). */
  readonly wait: boolean;
}

export interface ConstraintRebuilds {
  readonly results: FleetResult[];
  /** Why each (repo, branch) was rebuilt, by `owner/repo branch`. */
  readonly why: ReadonlyMap<string, string>;
}

export const targetKey = (t: {
  repository?: { owner: string; repo: string };
  repo?: string;
  branch: string;
}): string => `${t.repo ?? `${t.repository!.owner}/${t.repository!.repo}`} ${t.branch}`;

/**
 * Rebuilds decided by state: each snap branch whose constraints changed in openstack/requirements
 * since its last successful rebuild, however many runs ago that was. Rebuilds an earlier run
 * started are followed, not started again; a run still going when this returns stays pending in
 * the state for the next run to follow.
 */
export async function rebuildForConstraints(
  options: ConstraintRebuildOptions,
): Promise<ConstraintRebuilds> {
  const { fleet, state } = options;
  const log = fleet.log ?? (() => {});
  const refs = await listRemoteRefs(new Git(), options.requirementsUrl);
  const tips = new Map(
    [...refs.branches].filter(([b]) => options.branchPatterns.some((matches) => matches(b))),
  );
  log(
    `${redactUrl(options.requirementsUrl)}: ${[...tips.keys()].join(', ') || 'no matching branches'}`,
  );
  // Claimed before anything is dispatched: the rebuilds are marked started (no run yet) in the
  // same write that decides them, so a run racing this one reads them as started and follows
  // them instead of dispatching them again.
  const hasBranch = branchCheck(fleet.client, log);
  const since = new Date().toISOString();
  const { started, follow } = await state.update(
    async (latest) => {
      const planned = planRebuilds(options.repos, tips, latest);
      const started: StaleTarget[] = [];
      for (const target of planned.rebuild) if (await hasBranch(target)) started.push(target);
      const claims = started.map((t) => ({ commit: t.commit, run: unstarted(t, since) }));
      return {
        state: recordRuns(latest, claims, since, { claim: true }),
        result: { started, follow: planned.follow },
      };
    },
    (r: { started: StaleTarget[]; follow: PendingTarget[] }) =>
      `Fleet rebuilds claimed: ${r.started.length}`,
  );
  const why = new Map([...started, ...follow].map((t) => [targetKey(t), t.reason]));
  if (started.length === 0 && follow.length === 0) {
    log("Every snap has been rebuilt against its branch's current constraints.");
    return { results: [], why };
  }
  const runs = await dispatchAll(started, fleet);
  const tracked = [
    ...runs.map((run, i) => ({ commit: started[i]!.commit, run })),
    ...follow.map((f) => ({ commit: f.commit, run: f.run })),
  ];
  // Their runs, once known: if this job dies waiting, the next run follows them.
  await state.update(
    (latest) => ({ state: recordRuns(latest, tracked, new Date().toISOString()), result: null }),
    () => `Fleet rebuilds started: ${runs.filter((r) => !r.error).length}`,
  );
  if (options.wait)
    await awaitRuns(
      tracked.map((t) => t.run),
      fleet,
    );
  await state.update(
    (latest) => ({ state: recordRuns(latest, tracked, new Date().toISOString()), result: null }),
    () =>
      `Fleet rebuilds: ${tracked.filter((t) => t.run.conclusion === 'success').length} of ${tracked.length} succeeded`,
  );
  return { results: tracked.map((t) => resultOf(t.run)), why };
}

/** A claim: the rebuild is decided, its run not dispatched yet. */
function unstarted(target: StaleTarget, since: string): FleetRun {
  return {
    target,
    runId: null,
    runUrl: null,
    since,
    defaultBranch: '',
    conclusion: null,
  };
}

/** Only branches the snap repo has: a snap that never had stable/2023.1 is not rebuilt for it. */
function branchCheck(
  client: GitHubClient,
  log: (line: string) => void,
): (target: StaleTarget) => Promise<boolean> {
  const known = new Map<string, boolean>();
  return async (target) => {
    const key = targetKey(target);
    if (!known.has(key)) {
      try {
        await client.rest.repos.getBranch({ ...target.repository, branch: target.branch });
        known.set(key, true);
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
        log(`${key}: no such branch; nothing to rebuild`);
        known.set(key, false);
      }
    }
    return known.get(key)!;
  };
}
