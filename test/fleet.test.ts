import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addCommits, git, initBare, startGitDaemon } from '../scripts/lib/git-fixtures.mjs';
import { parseFleetConfig } from '../src/fleet/config.js';
import {
  decide,
  publishedMarker,
  recordOwn,
  type BuildState,
  type RunView,
  type Wanted,
} from '../src/fleet/state.js';
import { statusPage, statusRows } from '../src/fleet/status.js';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { startGitHubApi, type RecordedRequest } from './helpers/github-api.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { runBundle } from './helpers/run-action.js';
import {
  loadWorkflow,
  simulate,
  type JobRun,
  type Js,
  type StepContext,
  type StepModel,
} from '../src/check/workflow-sim.js';

describe('fleet.yml', () => {
  it('reads snaps with the defaults a service snap needs', () => {
    const config = parseFleetConfig(
      readFileSync(join(ROOT, 'examples/build-repository/fleet.yml'), 'utf8'),
    );
    expect(config.maxBuilds).toBe(20);
    expect(config.snaps.map((s) => s.name)).toEqual(['keystone', 'glance', 'nova-hypervisor']);
    expect(config.snaps[1]).toMatchObject({
      repository: { owner: 'openstack-snaps', repo: 'snap-glance' },
      branches: ['master', 'stable/*', 'unmaintained/*'],
      arches: ['amd64', 'arm64', 'ppc64el'],
      remoteArches: ['ppc64el'],
      nativeBuildMinutes: 20,
      project: '.',
      smokeLevel: 'none',
    });
    expect(config.snaps[2]!.branches).toEqual(['stable/*']);
  });

  it('says everything wrong at once, each with its line', () => {
    const text = [
      'requirements: https://opendev.org/openstack/requirements',
      'max-builds: 500',
      'snaps:',
      '  keystone:',
      '    repo: openstack-snaps/snap-keystone',
      '    arches: amd64 sparc',
      '  glance:',
      '    repository: not a repository',
      '',
    ].join('\n');
    let message = '';
    try {
      parseFleetConfig(text);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'fleet.yml: max-builds: a whole number from 1 to 50, not 500',
      expect.stringMatching(
        /^fleet.yml: snaps.keystone: no key 'repo' \(the keys are repository, /,
      ),
      expect.stringMatching(/^fleet.yml: snaps.keystone.repository: required/),
      expect.stringMatching(/^fleet.yml: snaps.keystone.arches: 'sparc' is not an architecture/),
      "fleet.yml: snaps.glance.repository: 'not a repository' is not owner/name",
    ]);
  });

  it('refuses a duplicate snap', () => {
    expect(() =>
      parseFleetConfig(
        'snaps:\n  keystone:\n    repository: a/b\n  keystone:\n    repository: a/c\n',
      ),
    ).toThrow("fleet.yml:4:3: Map keys must be unique ('keystone')");
  });
});

const SNAP = parseFleetConfig('snaps:\n  keystone:\n    repository: o/snap-keystone\n').snaps[0]!;
const want = (branch: string, sha: string, constraints = 'c1'): Wanted => ({
  snap: SNAP,
  branch,
  sha,
  constraints,
  constraintsRef: branch,
});
const ME = { runId: 2, runUrl: 'https://github.com/o/builds/actions/runs/2' };
const T0 = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3600 * 1000;

describe('what a run builds, from the state', () => {
  it('builds what differs, claims it, and leaves what was published from the same commits', () => {
    const state: BuildState = {
      version: 2,
      targets: {
        'keystone master': { published: { sha: 'a', constraints: 'c1', at: '', run: null } },
      },
    };
    const { state: next, decision } = decide(
      state,
      [want('master', 'a'), want('stable/2025.1', 'b'), want('master', 'a', 'c1')].slice(0, 2),
      new Map(),
      ME,
      T0,
      20,
    );
    expect(decision.upToDate.map((w) => w.branch)).toEqual(['master']);
    expect(decision.build.map((w) => w.branch)).toEqual(['stable/2025.1']);
    expect(next.targets['keystone stable/2025.1']!.claim).toMatchObject({ sha: 'b', runId: 2 });
    // New constraints are a new build too.
    expect(
      decide(state, [want('master', 'a', 'c2')], new Map(), ME, T0, 20).decision.build,
    ).toHaveLength(1);
  });

  it("waits while another run builds it, and settles that run's claim once it has finished", () => {
    const claimed: BuildState = {
      version: 2,
      targets: {
        'keystone master': {
          claim: { sha: 'a', constraints: 'c1', runId: 1, runUrl: 'run-1', since: '' },
        },
      },
    };
    const live = new Map<number, RunView>([[1, { done: false }]]);
    expect(decide(claimed, [want('master', 'a')], live, ME, T0, 20).decision.waiting[0]!.why).toBe(
      'being built by run-1',
    );
    // Finished with its published marker: published, not built again (a record that was lost).
    const published = new Map<number, RunView>([
      [
        1,
        {
          done: true,
          at: '2026-12-01T00:00:00Z',
          artifacts: new Set([publishedMarker('keystone master', { sha: 'a', constraints: 'c1' })]),
        },
      ],
    ]);
    const settled = decide(claimed, [want('master', 'a')], published, ME, T0, 20);
    expect(settled.decision.upToDate).toHaveLength(1);
    expect(settled.state.targets['keystone master']!.published).toMatchObject({
      sha: 'a',
      run: 'run-1',
    });
    // Finished without it (failed, cancelled, or its builds never started): failed once, retried later.
    const lost = new Map<number, RunView>([
      [1, { done: true, at: '2026-12-01T00:00:00Z', artifacts: new Set() }],
    ]);
    const failed = decide(claimed, [want('master', 'a')], lost, ME, T0 + HOUR / 2, 20);
    expect(failed.decision.waiting[0]!.why).toMatch(
      /failed once \(run-1\); tried again after 2026-12-01T01:00:00/,
    );
    expect(
      decide(claimed, [want('master', 'a')], lost, ME, T0 + HOUR, 20).decision.build,
    ).toHaveLength(1);
  });

  it('waits 1, 2, 4 ... hours after failures of the same build, and builds a new commit at once', () => {
    let state: BuildState = { version: 2, targets: {} };
    let now = T0;
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const run = { runId: 10 + i, runUrl: `run-${10 + i}` };
      const built = decide(state, [want('master', 'a')], new Map(), run, now, 20);
      expect(built.decision.build).toHaveLength(1);
      state = recordOwn(built.state, run, new Map(), now).state;
      // The run has finished: the next decision settles its claim (counted once).
      const view = new Map<number, RunView>([
        [run.runId, { done: true, at: new Date(now).toISOString(), artifacts: new Set() }],
      ]);
      let next = now;
      while (decide(state, [want('master', 'a')], view, ME, next, 20).decision.build.length === 0)
        next += HOUR / 4;
      waits.push((next - now) / HOUR);
      state = decide(state, [want('master', 'a')], view, ME, now, 20).state;
      now = next;
    }
    expect(waits).toEqual([1, 2, 4, 8]);
    expect(decide(state, [want('master', 'b')], new Map(), ME, T0, 20).decision.build).toHaveLength(
      1,
    );
  });

  it("a re-run's earlier attempt that published another build does not make this build published", () => {
    // Re-runs keep a run's earlier artifacts: the marker names the build, not the branch.
    const claimed: BuildState = {
      version: 2,
      targets: {
        'keystone master': {
          claim: { sha: 'b', constraints: 'c1', runId: 1, runUrl: 'run-1', since: '' },
        },
      },
    };
    const earlier = publishedMarker('keystone master', { sha: 'a', constraints: 'c1' });
    const view = new Map<number, RunView>([
      [1, { done: true, at: '2026-12-01T00:00:00Z', artifacts: new Set([earlier]) }],
    ]);
    const next = decide(claimed, [want('master', 'b')], view, ME, T0, 20).state;
    expect(next.targets['keystone master']).toMatchObject({ failure: { sha: 'b', count: 1 } });
    expect(next.targets['keystone master']!.published).toBeUndefined();
  });

  it('a failed run re-run after its failure was settled: waited on, then recorded by the re-run, never built twice', () => {
    const url = 'https://github.com/o/builds/actions/runs/5';
    const failed: BuildState = {
      version: 2,
      targets: {
        'keystone master': {
          failure: { sha: 'a', constraints: 'c1', at: '2026-12-01T00:00:00Z', run: url, count: 1 },
        },
      },
    };
    // Hours later, while the re-run (same run id) is going: waited on, not built again.
    const going = new Map<number, RunView>([[5, { done: false }]]);
    const later = decide(failed, [want('master', 'a')], going, ME, T0 + 5 * HOUR, 20);
    expect(later.decision.build).toEqual([]);
    expect(later.decision.waiting[0]!.why).toBe(`being re-run by ${url}`);
    // The re-run's record: published.
    const recorded = recordOwn(
      failed,
      { runId: 5, runUrl: url },
      new Map([['keystone master', { revisions: { amd64: 7 }, channel: 'latest/edge' }]]),
      T0 + 6 * HOUR,
    );
    expect(recorded.state.targets['keystone master']).toEqual({
      published: expect.objectContaining({ sha: 'a', revisions: { amd64: 7 } }),
    });
    // Or, had its record been lost too, the next plan settles it from the re-run's marker.
    const marker = publishedMarker('keystone master', { sha: 'a', constraints: 'c1' });
    const done = new Map<number, RunView>([
      [5, { done: true, at: '2026-12-01T06:00:00Z', artifacts: new Set([marker]) }],
    ]);
    const settled = decide(failed, [want('master', 'a')], done, ME, T0 + 7 * HOUR, 20);
    expect(settled.decision.upToDate).toHaveLength(1);
  });

  it("keeps a snap's state when its repository could not be listed this run", () => {
    const state: BuildState = {
      version: 2,
      targets: {
        'keystone master': { published: { sha: 'a', constraints: 'c1', at: '', run: null } },
      },
    };
    expect(decide(state, [], new Map(), ME, T0, 20).state.targets).toEqual({});
    expect(decide(state, [], new Map(), ME, T0, 20, new Set(['keystone'])).state.targets).toEqual(
      state.targets,
    );
  });

  it('builds at most max-builds a run; the rest wait for the next', () => {
    const wanted = ['master', 'stable/2025.1', 'stable/2025.2'].map((b) => want(b, 'a'));
    const { decision } = decide({ version: 2, targets: {} }, wanted, new Map(), ME, T0, 2);
    expect(decision.build).toHaveLength(2);
    expect(decision.waiting[0]!.why).toMatch(/max-builds/);
  });
});

describe('the status page', () => {
  it('shows every snap x branch x arch with its commit, constraints, revision, and failure', () => {
    const config = parseFleetConfig(
      'snaps:\n  keystone:\n    repository: o/snap-keystone\n    arches: amd64 arm64\n',
    );
    const state: BuildState = {
      version: 2,
      targets: {
        'keystone stable/2025.1': {
          published: {
            sha: 'a'.repeat(40),
            constraints: 'c'.repeat(40),
            at: '2026-12-01T00:00:00Z',
            run: 'https://github.com/o/builds/actions/runs/1',
            revisions: { amd64: 101, arm64: 102 },
            channel: '2025.1/edge',
          },
        },
        'keystone master': {
          failure: {
            sha: 'b'.repeat(40),
            constraints: 'c'.repeat(40),
            at: '2026-12-01T00:00:00Z',
            run: 'https://github.com/o/builds/actions/runs/2',
            count: 2,
          },
        },
      },
    };
    const options = {
      serverUrl: 'https://github.com',
      at: '2026-12-01T01:00:00Z',
      runUrl: 'https://github.com/o/builds/actions/runs/3',
    };
    const rows = statusRows(config, state, options);
    expect(rows.map((r) => `${r.branch} ${r.arch} ${r.state} ${r.revision ?? '-'}`)).toEqual([
      'master amd64 failed -',
      'master arm64 failed -',
      'stable/2025.1 amd64 published 101',
      'stable/2025.1 arm64 published 102',
    ]);
    const page = statusPage(rows, options);
    expect(page).toContain('https://github.com/o/snap-keystone/commit/' + 'a'.repeat(40));
    expect(page).toContain('https://github.com/o/builds/actions/runs/2');
    expect(page).not.toMatch(/<script/);
  });
});

/* ------------------------------------------------------------------------------------------ */

const TOKEN = 'ghs_buildRepositoryToken123456';
const TOOLKIT = 'openstack-snap-actions/openstack-snap-actions';
const CALLED_REF = `${TOOLKIT}/.github/workflows/snap.yml@v0`;
const PIN = '5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f';
const STORE_SECRET = 'store-credentials-fleet';
const caller = loadWorkflow(join(ROOT, 'examples/workflows/build-repository.yml'));
const called = loadWorkflow(join(ROOT, '.github/workflows/snap.yml'));

/**
 * GitHub, as the build repository's runs see it: the state file's contents API (a write needs
 * the blob it replaces, else 409), the refs API for its branch, each run's status and artifacts.
 */
interface World {
  /** Files on the state branch, by path (build-state.json, status.json, index.html). */
  files: Map<string, { sha: string; content: string }>;
  stateBranch: boolean;
  runs: Map<number, { done: boolean; at: string; artifacts: Map<string, string> }>;
}
let world: World;
let api: Awaited<ReturnType<typeof startGitHubApi>>;
let requirements: Awaited<ReturnType<typeof serveRequirements>>;
let daemon: Awaited<ReturnType<typeof startGitDaemon>>;
let repos: string;
let nextRun = 7000;

function handle(req: RecordedRequest): { status: number; body?: unknown } | undefined {
  const m = /^\/repos\/openstack-snaps\/builds(\/.*)?$/.exec(req.path);
  if (!m) return undefined;
  const rest = m[1] ?? '';
  if (req.method === 'GET' && rest === '') return { status: 200, body: { default_branch: 'main' } };
  if (req.method === 'GET' && rest === '/git/ref/heads/main')
    return { status: 200, body: { object: { sha: 'f'.repeat(40) } } };
  if (req.method === 'GET' && rest === '/git/ref/heads/osa-build-state')
    return world.stateBranch
      ? { status: 200, body: { object: { sha: 'e'.repeat(40) } } }
      : undefined;
  if (req.method === 'POST' && rest === '/git/refs') {
    if (world.stateBranch) return { status: 422, body: { message: 'Reference already exists' } };
    world.stateBranch = true;
    return { status: 201, body: {} };
  }
  if (rest.startsWith('/contents/')) {
    const path = rest.slice('/contents/'.length);
    const file = world.files.get(path);
    if (req.method === 'GET')
      return file && world.stateBranch && req.query.get('ref') === 'osa-build-state'
        ? { status: 200, body: { sha: file.sha, content: file.content } }
        : undefined;
    const body = req.body as { sha?: string; content: string; branch: string };
    if (!world.stateBranch || body.branch !== 'osa-build-state')
      return { status: 404, body: { message: 'Branch not found' } };
    // Like GitHub: updating a file needs the blob it replaces.
    if ((file?.sha ?? undefined) !== body.sha)
      return { status: 409, body: { message: 'sha does not match' } };
    world.files.set(path, { sha: `blob-${api.requests.length}`, content: body.content });
    return { status: 200, body: { content: { sha: world.files.get(path)!.sha } } };
  }
  const run = /^\/actions\/runs\/(\d+)(\/artifacts)?$/.exec(rest);
  if (req.method === 'GET' && run) {
    const found = world.runs.get(Number(run[1]));
    if (!found) return undefined;
    if (!run[2])
      return {
        status: 200,
        body: {
          id: Number(run[1]),
          status: found.done ? 'completed' : 'in_progress',
          updated_at: found.at,
        },
      };
    const names = Number(req.query.get('page') ?? '1') > 1 ? [] : [...found.artifacts.keys()];
    return {
      status: 200,
      body: { total_count: names.length, artifacts: names.map((name) => ({ name })) },
    };
  }
  return undefined;
}

const branchFile = (path: string): string =>
  Buffer.from(world.files.get(path)!.content, 'base64').toString('utf8');
const state = (): BuildState => JSON.parse(branchFile('build-state.json')) as BuildState;

/** A snap repository as the mirror leaves it: opendev's branches, no workflow of its own. */
function snapRepo(name: string, branches: string[]): string {
  const dir = initBare(join(repos, 'openstack-snaps', `${name}.git`));
  for (const branch of branches) addCommits(dir, branch, 2);
  return dir;
}

beforeAll(async () => {
  api = await startGitHubApi(handle, { token: TOKEN });
  requirements = await serveRequirements();
  repos = tempDir('osa-fleet-repos-');
  daemon = await startGitDaemon(repos);
});
afterAll(async () => {
  await api?.stop();
  await requirements?.stop();
  await daemon?.stop();
});
beforeEach(() => {
  world = { files: new Map(), stateBranch: false, runs: new Map() };
});

interface FleetRun {
  readonly runId: number;
  readonly jobs: Map<string, JobRun>;
  readonly steps: StepContext[];
  /** `<snap> <branch>` of each snap.yml call this run made. */
  readonly built: string[];
  readonly fleet: Record<string, Awaited<ReturnType<typeof runBundle>>>;
}

/**
 * One scheduled run of the example build repository workflow: the fleet, plan and matrix
 * actions run for real from their bundles (against the stand-in and git daemon); snapcraft and
 * the store are modelled (a build fails where `failing` says).
 */
async function fleetRun(
  fleetYml: string,
  options: { failing?: string[]; cancelDuring?: string; mirrorFails?: boolean } = {},
): Promise<FleetRun> {
  const runId = nextRun++;
  world.runs.set(runId, { done: false, at: new Date().toISOString(), artifacts: new Map() });
  const root = tempDir('osa-fleet-run-');
  const event = join(root, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({ repository: { fork: false, full_name: 'openstack-snaps/builds' } }),
  );
  const steps: StepContext[] = [];
  const fleet: FleetRun['fleet'] = {};
  const env = (workspace: string) => ({
    GITHUB_API_URL: api.url,
    GITHUB_SERVER_URL: daemon.url,
    GITHUB_REPOSITORY: 'openstack-snaps/builds',
    GITHUB_RUN_ID: String(runId),
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_REF_NAME: 'main',
    GITHUB_EVENT_PATH: event,
    GITHUB_WORKSPACE: workspace,
  });
  const model = async (step: StepContext): Promise<StepModel> => {
    steps.push(step);
    const workspace = join(
      root,
      step.job.replace(/[/[\]]/g, '_'),
      String((step.leg as { arch?: string }).arch ?? ''),
    );
    mkdirSync(join(workspace, 'tmp'), { recursive: true });
    const inputs = step.contexts.inputs as Record<string, Js>;
    const toolkit =
      /^(?:\$|openstack-snap-actions\/openstack-snap-actions)\/actions\/([\w-]+)/.exec(
        step.uses ?? '',
      )?.[1];
    if (step.uses?.startsWith('actions/checkout@')) {
      if (!step.with.path) writeFileSync(join(workspace, 'fleet.yml'), fleetYml);
      if (step.with.path === 'snap') {
        // The build checks out the mirrored repository at the commit the plan saw.
        const [owner, repo] = step.with.repository!.split('/');
        const dir = join(repos, owner!, `${repo}.git`);
        expect(git(dir, ['cat-file', '-t', step.with.ref!]).trim()).toBe('commit');
        cpSync(join(ROOT, 'test/snaps/core24-glance'), join(workspace, 'snap'), {
          recursive: true,
        });
        writeFileSync(join(workspace, 'checked-out'), step.with.ref!);
      }
      return {};
    }
    if (step.uses?.includes('/actions/mirror@'))
      return { outcome: options.mirrorFails ? 'failure' : 'success' };
    if (toolkit === 'fleet') {
      const result = await runBundle('fleet', { token: TOKEN, ...step.with }, env(workspace));
      fleet[`${step.job} ${step.with.step}`] = result;
      return { outcome: result.status === 0 ? 'success' : 'failure', outputs: result.outputs };
    }
    if (toolkit === 'plan' || toolkit === 'matrix') {
      const given =
        toolkit === 'plan'
          ? { ...step.with, 'requirements-repo': requirements.url }
          : { ...step.with, project: join(workspace, step.with.project!) };
      const result = await runBundle(toolkit, given, env(workspace));
      return { outcome: result.status === 0 ? 'success' : 'failure', outputs: result.outputs };
    }
    if (step.run?.includes('rev-parse HEAD'))
      return { outputs: { sha: readFileSync(join(workspace, 'checked-out'), 'utf8') } };
    const target = `${String(inputs['snap-name'])} ${String(inputs.branch)}`;
    if (toolkit === 'build') {
      const arch = step.with.arch!;
      return options.failing?.includes(target)
        ? { outcome: 'failure', outputs: { 'logs-dir': `/tmp/logs/${arch}` } }
        : { outputs: { snaps: `/tmp/snaps/${arch}/x.snap`, 'logs-dir': '' } };
    }
    if (toolkit === 'publish')
      return {
        outputs: {
          revisions: '{"amd64":101,"arm64":102}',
          released: 'true',
          channel: String(inputs.branch) === 'master' ? 'latest/edge' : '2025.1/edge',
          'snap-name': String(inputs['snap-name']),
        },
      };
    if (step.run?.includes('jq -n')) {
      const result = spawnSync('bash', ['-e', '-c', step.run], {
        env: { ...process.env, ...step.env, RUNNER_TEMP: join(workspace, 'tmp') },
        encoding: 'utf8',
      });
      return { outcome: result.status === 0 ? 'success' : 'failure' };
    }
    if (step.uses?.startsWith('actions/upload-artifact@')) {
      const file = join(workspace, 'tmp/published/published.json');
      const content =
        step.with.name!.startsWith('published-') && existsSync(file)
          ? readFileSync(file, 'utf8')
          : '';
      world.runs.get(runId)!.artifacts.set(step.with.name!, content);
      return {};
    }
    if (
      step.uses?.startsWith('actions/download-artifact@') &&
      step.with.pattern === 'published-fleet-*'
    ) {
      for (const [name, content] of world.runs.get(runId)!.artifacts)
        if (/^published-fleet-/.test(name)) {
          mkdirSync(join(workspace, step.with.path!, name), { recursive: true });
          writeFileSync(join(workspace, step.with.path!, name, 'published.json'), content);
        }
      return {};
    }
    return {};
  };
  const jobs = await simulate({
    caller,
    called: { [CALLED_REF]: called },
    github: {
      event_name: 'schedule',
      event: {},
      ref: 'refs/heads/main',
      ref_name: 'main',
      repository: 'openstack-snaps/builds',
      repository_owner: 'openstack-snaps',
      server_url: daemon.url,
      run_id: String(runId),
      token: '***github-token***',
    },
    // The example keeps every credential in an environment deployable from main only.
    secrets: {},
    environments: {
      mirror: { secrets: { MIRROR_TOKEN: 'mirror-token' }, refs: ['refs/heads/main'] },
      'snap-store': {
        secrets: { SNAPCRAFT_STORE_CREDENTIALS: STORE_SECRET },
        refs: ['refs/heads/main'],
      },
      launchpad: { secrets: { LAUNCHPAD_CREDENTIALS: 'lp' }, refs: ['refs/heads/main'] },
    },
    calledSha: PIN,
    cancelDuring: options.cancelDuring,
    model,
  });
  world.runs.get(runId)!.done = true;
  world.runs.get(runId)!.at = new Date().toISOString();
  const built = [...jobs.values()]
    .filter((j) => /^build\[\d+\]$/.test(j.id))
    .map(
      (j) => `${String(j.calledWith!.inputs['snap-name'])} ${String(j.calledWith!.inputs.branch)}`,
    )
    .sort();
  return { runId, jobs, steps, built, fleet };
}

const fleetFile = () =>
  [
    `requirements: ${requirements.url}`,
    'snaps:',
    '  keystone:',
    '    repository: openstack-snaps/snap-keystone',
    '    source: https://opendev.org/x/snap-keystone',
    '    arches: amd64 arm64',
    '  glance:',
    '    repository: openstack-snaps/snap-glance',
    "    branches: ['stable/*']",
    '    arches: amd64 arm64',
    '',
  ].join('\n');

describe('a build repository (examples/workflows/build-repository.yml) on GitHub’s parser', () => {
  // Each test has repositories of its own.
  let keystone: string;
  let suffix: number;
  beforeEach(() => {
    suffix = nextRun;
    keystone = snapRepo(`snap-keystone-${suffix}`, ['master', 'stable/2025.1', 'feature/x']);
    snapRepo(`snap-glance-${suffix}`, ['master', 'stable/2025.1']);
  });
  const file = () =>
    fleetFile()
      .replace('openstack-snaps/snap-keystone', `openstack-snaps/snap-keystone-${suffix}`)
      .replace('openstack-snaps/snap-glance', `openstack-snaps/snap-glance-${suffix}`);

  it('builds and publishes every release branch of mirrored repos that have no workflow, then nothing until one moves', async () => {
    const fleetYml = file();
    const first = await fleetRun(fleetYml);
    expect(first.built).toEqual([
      'glance stable/2025.1',
      'keystone master',
      'keystone stable/2025.1',
    ]);
    for (const branch of ['master', 'stable/2025.1'])
      expect(git(keystone, ['ls-tree', '-r', '--name-only', branch])).not.toContain('.github');
    // Each call builds the mirrored repository at the commit and constraints commit its plan saw.
    const targets = JSON.parse(first.fleet['plan plan']!.outputs.targets!) as Record<string, Js>[];
    for (const target of targets) {
      const call = [...first.jobs.values()].find(
        (j) =>
          j.calledWith?.inputs.repository === target.repository &&
          j.calledWith?.inputs.branch === target.branch,
      )!;
      const leg = call.id;
      const plan = first.jobs.get(`${leg}/plan`)!.outputs;
      expect(plan).toMatchObject({
        ref: target.branch,
        publish: 'true',
        sha: target.sha,
        'constraints-commit': target['constraints-commit'],
      });
      const checkouts = first.steps.filter(
        (s) => s.job.startsWith(`${leg}/`) && s.with.path === 'snap',
      );
      expect(checkouts.map((s) => [s.with.repository, s.with.ref])).toEqual(
        checkouts.map(() => [target.repository, expect.stringMatching(/^[0-9a-f]{40}$|^$/)]),
      );
      const publish = first.steps.find(
        (s) => s.job === `${leg}/publish` && s.uses === '$/actions/publish',
      )!;
      expect(publish.with).toMatchObject({
        repository: target.repository,
        sha: target.sha,
        'store-credentials': STORE_SECRET,
      });
      // The store's credentials reach that publish job and no other job.
      for (const job of first.jobs.values())
        for (const l of job.legs)
          expect([job.id, Object.values(l.secrets).includes(STORE_SECRET)]).toEqual([
            job.id,
            job.id.endsWith('/publish'),
          ]);
    }
    // The mirror job mirrored what fleet.yml names.
    expect(first.steps.find((s) => s.uses?.includes('/actions/mirror@'))!.with.repos).toBe(
      `https://opendev.org/x/snap-keystone -> ${daemon.url}/openstack-snaps/snap-keystone-${suffix}`,
    );
    expect(first.jobs.get('record')!.result).toBe('success');
    const recorded = state().targets;
    expect(Object.keys(recorded).sort()).toEqual([
      'glance stable/2025.1',
      'keystone master',
      'keystone stable/2025.1',
    ]);
    expect(recorded['keystone stable/2025.1']!.published).toMatchObject({
      revisions: { amd64: 101, arm64: 102 },
      channel: '2025.1/edge',
    });
    const page = readFileSync(
      join(first.fleet['record record']!.outputs['status-dir']!, 'index.html'),
      'utf8',
    );
    expect(page).toContain('keystone');

    // The status page, on the state branch for GitHub Pages to serve.
    expect(branchFile('index.html')).toContain('keystone');
    const writes = api.requests.filter((r) => r.method === 'PUT').length;
    const second = await fleetRun(fleetYml);
    expect(second.built).toEqual([]);
    // Its record still runs (the status page of the latest run), and writes nothing new.
    expect(second.jobs.get('record')!.result).toBe('success');
    expect(api.requests.filter((r) => r.method === 'PUT').length).toBe(writes);
    addCommits(keystone, 'stable/2025.1', 1);
    expect((await fleetRun(fleetYml)).built).toEqual(['keystone stable/2025.1']);
  });

  it('a failed build is recorded, waits out its hour, and is then built once; a new commit is built at once', async () => {
    const fleetYml = file();
    const first = await fleetRun(fleetYml, { failing: ['keystone master'] });
    expect(first.built).toHaveLength(3);
    expect(first.jobs.get('record')!.result).toBe('failure');
    expect(first.fleet['record record']!.outputs.failed).toBe('keystone master');
    expect(state().targets['keystone master']!.failure).toMatchObject({ count: 1 });
    expect((await fleetRun(fleetYml)).built).toEqual([]);
    // An hour later (the failure's time moved back), it is built again, once.
    const aged = state();
    const target = aged.targets['keystone master']!;
    world.files.get('build-state.json')!.content = Buffer.from(
      JSON.stringify({
        ...aged,
        targets: {
          ...aged.targets,
          'keystone master': {
            ...target,
            failure: { ...target.failure!, at: new Date(Date.now() - 2 * HOUR).toISOString() },
          },
        },
      }),
    ).toString('base64');
    expect((await fleetRun(fleetYml)).built).toEqual(['keystone master']);
    expect(state().targets['keystone master']!.published).toBeDefined();
    expect(state().targets['keystone master']!.failure).toBeUndefined();
  });

  it('a run that ended before its record: what it published is settled from its artifacts, what it did not is built again', async () => {
    const fleetYml = file();
    // The run is cancelled while its record job would run: its builds published, nothing recorded.
    const lost = await fleetRun(fleetYml, { cancelDuring: 'record' });
    expect(lost.built).toHaveLength(3);
    expect(Object.values(state().targets).every((t) => t.claim?.runId === lost.runId)).toBe(true);
    // A plan that claimed and then lost its builds (the run died before they started).
    addCommits(keystone, 'master', 1);
    const dead = await runBundle(
      'fleet',
      { token: TOKEN, step: 'plan', config: 'fleet.yml' },
      deadRunEnv(fleetYml),
    );
    expect(dead.status).toBe(0);
    expect((JSON.parse(dead.outputs.targets!) as { name: string }[]).map((t) => t.name)).toEqual([
      'keystone master',
    ]);
    const next = await fleetRun(fleetYml);
    // The lost run's three are published (settled from its markers), not built again; the dead
    // run's claim is a failure, so keystone master waits its hour.
    expect(next.built).toEqual([]);
    expect(state().targets['keystone stable/2025.1']!.published!.run).toContain(String(lost.runId));
    expect(state().targets['keystone master']!.failure).toMatchObject({ count: 1 });
  });

  it('a mirror run that failed (one repository unreachable) still builds what the plan claimed', async () => {
    const run = await fleetRun(file(), { mirrorFails: true });
    expect(run.jobs.get('mirror')!.result).toBe('failure');
    expect(run.built).toHaveLength(3);
    expect(Object.values(state().targets).every((t) => t.published)).toBe(true);
  });

  it('two racing runs build each changed snap branch once between them', async () => {
    const fleetYml = file();
    const [a, b] = await Promise.all([fleetRun(fleetYml), fleetRun(fleetYml)]);
    expect([...a.built, ...b.built].sort()).toEqual([
      'glance stable/2025.1',
      'keystone master',
      'keystone stable/2025.1',
    ]);
    expect(Object.values(state().targets).every((t) => t.published && !t.claim)).toBe(true);
  });
});

/** The environment of a run (id 6000+) whose plan ran and which then died: GitHub says completed. */
function deadRunEnv(fleetYml: string): Record<string, string> {
  const runId = 6000 + nextRun;
  world.runs.set(runId, { done: true, at: new Date().toISOString(), artifacts: new Map() });
  const workspace = tempDir('osa-fleet-dead-');
  writeFileSync(join(workspace, 'fleet.yml'), fleetYml);
  const event = join(workspace, 'event.json');
  writeFileSync(event, '{}');
  return {
    GITHUB_API_URL: api.url,
    GITHUB_SERVER_URL: daemon.url,
    GITHUB_REPOSITORY: 'openstack-snaps/builds',
    GITHUB_RUN_ID: String(runId),
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: event,
    GITHUB_WORKSPACE: workspace,
  };
}
