import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  constraintsTip,
  listRemoteRefs,
  normaliseRepoLocation,
  resolveConstraintsRef,
} from '../constraints/index.js';
import { StateFile, type GitHubClient } from '../github/index.js';
import {
  errorKind,
  errorMessage,
  ExternalError,
  Git,
  lastLines,
  redactUrl,
} from '../platform/index.js';
import { parseReleaseRef, releaseBranch, SeriesTable } from '../release/index.js';
import { snapBuildsBranch, type FleetConfig, type FleetSnap } from './config.js';
import {
  artifactPrefix,
  BUILD_STATE,
  decide,
  keyOf,
  publishedMarker,
  recordOwn,
  runIdOf,
  targetKey,
  type BuildState,
  type Decision,
  type RunView,
  type ThisRun,
  type Wanted,
} from './state.js';

/** Where the build repository runs, and how it reaches GitHub. */
export interface FleetContext {
  readonly client: GitHubClient;
  /** The build repository (its runs, artifacts and state branch). */
  readonly repository: { readonly owner: string; readonly repo: string };
  readonly self: ThisRun;
  /** GITHUB_SERVER_URL: the snap repositories are listed at `<server>/<owner>/<repo>.git`. */
  readonly serverUrl: string;
  readonly stateBranch: string;
  readonly log: (line: string) => void;
  readonly now?: () => number;
  readonly table?: SeriesTable;
}

/** One leg of the build matrix: snap.yml's inputs for one snap branch. */
export interface FleetTarget {
  /** The job's name: `keystone stable/2025.1`. */
  readonly name: string;
  readonly 'artifact-prefix': string;
  readonly snap: string;
  readonly repository: string;
  readonly branch: string;
  readonly sha: string;
  readonly 'constraints-commit': string;
  readonly project: string;
  readonly arches: string;
  readonly 'remote-arches': string;
  readonly 'native-build-minutes': number;
  readonly 'smoke-level': string;
}

export interface FleetPlan {
  readonly targets: FleetTarget[];
  readonly decision: Decision;
  /** Snaps or branches that could not be read this run (tried again next run). */
  readonly problems: string[];
  readonly state: BuildState;
}

export const STATE_FILE = 'build-state.json';

export function stateFile(context: FleetContext): StateFile<BuildState> {
  return new StateFile(
    context.client,
    context.repository,
    context.stateBranch,
    STATE_FILE,
    BUILD_STATE,
  );
}

/**
 * The run's plan: every snap branch the fleet builds, with the commit its GitHub repository has
 * now and the openstack/requirements commit its release's constraints are at now, compared with
 * the state; what differs is claimed for this run in one write and returned as the build matrix.
 * A snap whose repository cannot be read is left for the next run, said as such.
 */
export async function planFleet(config: FleetConfig, context: FleetContext): Promise<FleetPlan> {
  const now = context.now ?? Date.now;
  const table = context.table ?? new SeriesTable();
  const problems: string[] = [];
  // What could not be read this run keeps its state as it is (a listing error is not a removal).
  const keep = new Set<string>();
  const requirementsUrl = normaliseRepoLocation(config.requirements);
  const requirements = await listRemoteRefs(new Git(), requirementsUrl);
  const wanted: Wanted[] = [];
  for (const snap of config.snaps) {
    let branches: Map<string, string>;
    try {
      branches = await listBranches(snap, context);
    } catch (error) {
      if (errorKind(error) === 'bug') throw error;
      problems.push(`${snap.name}: ${errorMessage(error)}`);
      keep.add(snap.name);
      continue;
    }
    for (const [branch, sha] of branches) {
      if (!snapBuildsBranch(snap, branch) || !releaseBranch(branch, table)) continue;
      try {
        const ref = resolveConstraintsRef(
          parseReleaseRef(branch, table),
          requirements,
          redactUrl(requirementsUrl),
        );
        const constraints = constraintsTip(requirements, ref)!;
        wanted.push({ snap, branch, sha, constraints, constraintsRef: ref.name });
      } catch (error) {
        if (errorKind(error) === 'bug') throw error;
        problems.push(`${targetKey(snap.name, branch)}: ${errorMessage(error)}`);
        keep.add(targetKey(snap.name, branch));
      }
    }
  }
  const views = new Map<number, RunView>();
  const file = stateFile(context);
  const planned = await file.update(
    async (state) => {
      // The runs that hold a claim, and those whose failure may be re-run (same run id).
      for (const target of Object.values(state.targets)) {
        for (const id of [target.claim?.runId, runIdOf(target.failure?.run ?? null)])
          if (typeof id === 'number' && id !== context.self.runId && !views.has(id))
            views.set(id, await viewRun(context, id));
      }
      const decided = decide(state, wanted, views, context.self, now(), config.maxBuilds, keep);
      return { state: decided.state, result: decided };
    },
    ({ decision }) =>
      `Build: ${decision.build.length} snap branches claimed by run ${context.self.runId}`,
  );
  const { decision } = planned;
  for (const { key, published, run } of decision.settled)
    context.log(`${key}: ${run} ${published ? 'published it' : 'ended without publishing it'}`);
  return {
    targets: decision.build.map(matrixEntry),
    decision,
    problems,
    state: planned.state,
  };
}

/**
 * The end of the run: each snap branch this run claimed is recorded published (its publish job
 * uploaded the marker; the revisions from `publishedDir`, where the workflow downloaded the
 * markers) or failed.
 */
export async function recordFleet(
  config: FleetConfig,
  context: FleetContext,
  publishedDir: string,
): Promise<{ state: BuildState; recorded: { key: string; published: boolean }[] }> {
  const now = context.now ?? Date.now;
  const artifacts = await runArtifacts(context, context.self.runId);
  return stateFile(context).update(
    (state) => {
      const published = new Map<string, { revisions?: Record<string, number>; channel?: string }>();
      for (const [key, target] of Object.entries(state.targets)) {
        // This run's build of it: its claim, or the failure of it a re-run of this run redoes.
        const build =
          target.claim?.runId === context.self.runId
            ? target.claim
            : target.failure?.run === context.self.runUrl
              ? target.failure
              : null;
        const marker = build && publishedMarker(key, build);
        if (marker && artifacts.has(marker))
          published.set(key, readMarker(join(publishedDir, marker)));
      }
      const recorded = recordOwn(state, context.self, published, now());
      return { state: recorded.state, result: recorded };
    },
    ({ recorded }) =>
      `Build: run ${context.self.runId} published ${recorded.filter((r) => r.published).length} of ${recorded.length}`,
  );
}

function matrixEntry(want: Wanted): FleetTarget {
  const { snap } = want;
  return {
    name: keyOf(want),
    'artifact-prefix': artifactPrefix(snap.name, want.branch),
    snap: snap.name,
    repository: `${snap.repository.owner}/${snap.repository.repo}`,
    branch: want.branch,
    sha: want.sha,
    'constraints-commit': want.constraints,
    project: snap.project,
    arches: snap.arches.join(' '),
    'remote-arches': snap.remoteArches.join(' '),
    'native-build-minutes': snap.nativeBuildMinutes,
    'smoke-level': snap.smokeLevel,
  };
}

/** The snap repository's branches, as git lists them (what the build will check out). */
async function listBranches(snap: FleetSnap, context: FleetContext): Promise<Map<string, string>> {
  const url = `${context.serverUrl.replace(/\/+$/, '')}/${snap.repository.owner}/${snap.repository.repo}.git`;
  // Public repositories (what snap.yml's builds can check out), listed with no credentials.
  const result = await new Git().exec(['ls-remote', '--heads', '--', url]);
  if (result.code !== 0)
    throw new ExternalError(
      `cannot list ${redactUrl(url)}: ${lastLines(result.stderr) || `git exited with ${result.code}`}`,
    );
  const branches = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref?.startsWith('refs/heads/')) branches.set(ref.slice('refs/heads/'.length), sha);
  }
  return branches;
}

/** Whether a run has finished, and what it uploaded (a run GitHub no longer has, nothing). */
async function viewRun(context: FleetContext, runId: number): Promise<RunView> {
  try {
    const { data } = await context.client.rest.actions.getWorkflowRun({
      ...context.repository,
      run_id: runId,
    });
    if (data.status !== 'completed') return { done: false };
    return { done: true, at: data.updated_at, artifacts: await runArtifacts(context, runId) };
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
    const at = new Date((context.now ?? Date.now)()).toISOString();
    return { done: true, at, artifacts: new Set() };
  }
}

/** The names of a run's artifacts (GitHub lists an artifact as soon as its upload ends). */
async function runArtifacts(context: FleetContext, runId: number): Promise<Set<string>> {
  const names = new Set<string>();
  for (let page = 1; ; page++) {
    const { data } = await context.client.rest.actions.listWorkflowRunArtifacts({
      ...context.repository,
      run_id: runId,
      per_page: 100,
      page,
    });
    for (const artifact of data.artifacts) names.add(artifact.name);
    if (data.artifacts.length < 100) break;
  }
  return names;
}

/** What the publish job wrote beside its marker: the revisions and the channel. */
function readMarker(dir: string): { revisions?: Record<string, number>; channel?: string } {
  const file = join(dir, 'published.json');
  if (!existsSync(file)) return {};
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as {
      revisions?: Record<string, number>;
      channel?: string;
    };
    return { revisions: data.revisions, channel: data.channel };
  } catch {
    return {};
  }
}
