import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../scripts/lib/git-fixtures.mjs';
import { tempDir } from './helpers/fixtures.js';
import { startGitHubApi, type RecordedRequest } from './helpers/github-api.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { runBundle } from './helpers/run-action.js';

const TOKEN = 'ghs_fleetToken1234567890';
const STATE_TOKEN = 'ghs_stateToken0987654321';

/**
 * A GitHub stand-in with what fleet rebuilds touch: repositories and their branches, workflow
 * dispatches (with return_run_details, or GHES-style 204s), runs that finish after some polls, a
 * secondary rate limit, and the contents and git refs API for the state file. Snap repos answer
 * only TOKEN, the admin repo only STATE_TOKEN, like tokens scoped to them.
 */
interface World {
  branches: Record<string, string[]>;
  /** Repos that answer like GHES: no run details, and runs found by listing. */
  ghes: Set<string>;
  /** Repos whose dispatches GitHub refuses. */
  broken: Set<string>;
  /** Repos whose runs fail. */
  failing: Set<string>;
  /** Repos whose runs do not finish while this is set. */
  slow: Set<string>;
  /** Answer the next dispatch with a secondary rate limit. */
  limitNext: boolean;
  runs: { id: number; repo: string; polls: number; created: string; branch: string }[];
  state: { sha: string; content: string } | null;
  stateBranch: boolean;
}
let world: World;
let requests: RecordedRequest[];
let api: Awaited<ReturnType<typeof startGitHubApi>>;
let requirements: Awaited<ReturnType<typeof serveRequirements>>;

function handle(
  req: RecordedRequest,
): { status: number; body?: unknown; headers?: Record<string, string> } | undefined {
  const admin = /^\/repos\/openstack-snaps\/admin(\/.*)?$/.exec(req.path);
  if (admin) {
    if (req.authorization !== `token ${STATE_TOKEN}`)
      return { status: 401, body: { message: 'Bad credentials' } };
    const rest = admin[1] ?? '';
    if (req.method === 'GET' && rest === '')
      return { status: 200, body: { default_branch: 'main' } };
    if (req.method === 'GET' && rest === '/git/ref/heads/main')
      return { status: 200, body: { object: { sha: 'f'.repeat(40) } } };
    if (req.method === 'GET' && rest === '/git/ref/heads/osa-fleet-state')
      return world.stateBranch
        ? { status: 200, body: { object: { sha: 'e'.repeat(40) } } }
        : undefined;
    if (req.method === 'POST' && rest === '/git/refs') {
      world.stateBranch = true;
      return { status: 201, body: {} };
    }
    if (rest === '/contents/fleet-state.json') {
      if (req.method === 'GET')
        return world.state && world.stateBranch
          ? { status: 200, body: { sha: world.state.sha, content: world.state.content } }
          : undefined;
      const body = req.body as { sha?: string; content: string; branch: string };
      if (!world.stateBranch || body.branch !== 'osa-fleet-state')
        return { status: 404, body: { message: 'Branch not found' } };
      // Like GitHub: updating a file needs the blob SHA it replaces.
      if ((world.state?.sha ?? undefined) !== body.sha)
        return { status: 409, body: { message: 'sha does not match' } };
      world.state = { sha: `blob-${requests.length}`, content: body.content };
      return { status: 200, body: { content: { sha: world.state.sha } } };
    }
    return undefined;
  }
  const match = /^\/repos\/openstack-snaps\/([^/]+)(\/.*)?$/.exec(req.path);
  if (!match) return undefined;
  if (req.authorization !== `token ${TOKEN}`)
    return { status: 401, body: { message: 'Bad credentials' } };
  const [, repo, rest = ''] = match as unknown as [string, string, string];
  if (req.method === 'GET' && rest === '')
    return { status: 200, body: { default_branch: 'master' } };
  const branch = /^\/branches\/(.+)$/.exec(rest);
  if (req.method === 'GET' && branch)
    return world.branches[repo]?.includes(branch[1]!)
      ? { status: 200, body: { name: branch[1] } }
      : undefined;
  if (req.method === 'POST' && rest === '/actions/workflows/snap.yml/dispatches') {
    if (world.limitNext) {
      world.limitNext = false;
      return {
        status: 403,
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        },
        headers: { 'retry-after': '1' },
      };
    }
    if (world.broken.has(repo))
      return {
        status: 422,
        body: { message: "Workflow does not have 'workflow_dispatch' trigger" },
      };
    const body = req.body as {
      ref: string;
      inputs: Record<string, string>;
      return_run_details?: boolean;
    };
    if (world.ghes.has(repo) && body.return_run_details !== undefined)
      return {
        status: 422,
        body: { message: 'Invalid request. "return_run_details" is not a permitted key.' },
      };
    const run = {
      id: 1000 + world.runs.length,
      repo,
      polls: 0,
      created: new Date().toISOString(),
      branch: body.ref,
    };
    world.runs.push(run);
    if (world.ghes.has(repo)) return { status: 204 };
    return {
      status: 200,
      body: {
        workflow_run_id: run.id,
        run_url: `https://api.github.example/repos/openstack-snaps/${repo}/actions/runs/${run.id}`,
        html_url: `https://github.example/openstack-snaps/${repo}/actions/runs/${run.id}`,
      },
    };
  }
  // A run finishes after it has been looked at twice, through its own endpoint or a listing.
  const view = (run: World['runs'][number]) => {
    run.polls++;
    const done = run.polls >= 2 && !world.slow.has(run.repo);
    return {
      id: run.id,
      html_url: `https://github.example/openstack-snaps/${run.repo}/actions/runs/${run.id}`,
      created_at: run.created,
      head_branch: run.branch,
      status: done ? 'completed' : 'in_progress',
      conclusion: done ? (world.failing.has(run.repo) ? 'failure' : 'success') : null,
    };
  };
  const runId = /^\/actions\/runs\/(\d+)$/.exec(rest);
  if (req.method === 'GET' && runId) {
    const run = world.runs.find((r) => r.id === Number(runId[1]) && r.repo === repo);
    return run ? { status: 200, body: view(run) } : undefined;
  }
  if (req.method === 'GET' && rest === '/actions/workflows/snap.yml/runs') {
    const since = Date.parse((req.query.get('created') ?? '>=1970-01-01').slice(2));
    const runs = world.runs.filter((r) => r.repo === repo && Date.parse(r.created) >= since);
    return { status: 200, body: { total_count: runs.length, workflow_runs: runs.map(view) } };
  }
  return undefined;
}

beforeAll(async () => {
  api = await startGitHubApi((req) => handle(req));
  requests = api.requests;
  requirements = await serveRequirements();
});
afterAll(async () => {
  await api?.stop();
  await requirements?.stop();
});
beforeEach(() => {
  world = {
    branches: {},
    ghes: new Set(),
    broken: new Set(),
    failing: new Set(),
    slow: new Set(),
    limitNext: false,
    runs: [],
    state: null,
    stateBranch: false,
  };
  requests.length = 0;
});

function dispatchRun(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const event = join(tempDir('osa-event-'), 'event.json');
  writeFileSync(
    event,
    JSON.stringify({ repository: { fork: false, full_name: 'openstack-snaps/admin' } }),
  );
  return runBundle(
    'dispatch',
    { token: TOKEN, ...inputs },
    {
      GITHUB_API_URL: api.url,
      GITHUB_REPOSITORY: 'openstack-snaps/admin',
      GITHUB_EVENT_NAME: 'schedule',
      GITHUB_EVENT_PATH: event,
      OSA_POLL_MS: '10',
      ...env,
    },
  );
}

describe('the dispatch action (fleet rebuilds), against a GitHub REST stand-in on 127.0.0.1', () => {
  it('starts every rebuild before waiting for any, follows each exact run, and names what failed', async () => {
    world.ghes.add('snap-glance');
    world.broken.add('snap-broken');
    world.failing.add('snap-nova');
    world.limitNext = true;
    const run = await dispatchRun({
      repos: ['snap-keystone', 'snap-nova', 'snap-glance', 'snap-broken']
        .map((r) => `openstack-snaps/${r}`)
        .join('\n'),
      branch: 'stable/2025.1',
    });
    expect(run.status).toBe(1);
    const results = JSON.parse(run.outputs.results!) as {
      repo: string;
      conclusion: string | null;
      runUrl: string | null;
      error?: string;
    }[];
    expect(results.map((r) => [r.repo, r.conclusion, r.error ?? null])).toEqual([
      ['openstack-snaps/snap-keystone', 'success', null],
      ['openstack-snaps/snap-nova', 'failure', null],
      ['openstack-snaps/snap-glance', 'success', null],
      [
        'openstack-snaps/snap-broken',
        null,
        expect.stringMatching(/does not have 'workflow_dispatch' trigger/),
      ],
    ]);
    // Each result is its own run: the one GitHub named, or (GHES) the one found by listing.
    expect(results.slice(0, 3).map((r) => r.runUrl)).toEqual(
      [1000, 1001, 1002].map(
        (id, i) =>
          `https://github.example/openstack-snaps/${['snap-keystone', 'snap-nova', 'snap-glance'][i]}/actions/runs/${id}`,
      ),
    );
    // Every dispatch came before the first poll; the rate-limited one was retried after waiting.
    const order = requests.map((r) => `${r.method} ${r.path}`);
    const lastDispatch = order.map((o) => o.endsWith('/dispatches')).lastIndexOf(true);
    const firstPoll = order.findIndex((o) => /\/runs(\/\d+)?$/.test(o));
    expect(firstPoll).toBeGreaterThan(0);
    expect(lastDispatch).toBeLessThan(firstPoll);
    // Waiting costs one listing per repository a round, not a request per run.
    expect(order.filter((o) => /\/actions\/runs\/\d+$/.test(o))).toEqual([]);
    expect(
      order.filter(
        (o) =>
          o === 'POST /repos/openstack-snaps/snap-keystone/actions/workflows/snap.yml/dispatches',
      ),
    ).toHaveLength(2);
    expect(run.stdout).toContain('GitHub secondary rate limit on POST');
    expect(run.outputs.failed).toBe('openstack-snaps/snap-nova openstack-snaps/snap-broken');
    expect(run.stdout).toMatch(
      /::error::dispatch: Rebuild of stable\/2025\.1 failed in openstack-snaps\/snap-nova stable\/2025\.1 \(failure\), openstack-snaps\/snap-broken/,
    );
    expect(
      run.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain(TOKEN);
  });

  it('rebuilds what requirements changed since each snap last built, remembers successes, and retries failures next time', async () => {
    world.branches = {
      'snap-keystone': ['master', 'stable/2025.1', 'unmaintained/2024.1'],
      'snap-nova': ['master', 'stable/2025.1'],
    };
    world.failing.add('snap-nova');
    const tip = (branch: string) =>
      git(requirements.path, ['rev-parse', `refs/heads/${branch}`]).trim();
    // keystone's stable/2025.1 already built against the current tip.
    world.state = {
      sha: 'blob-0',
      content: Buffer.from(
        JSON.stringify({
          version: 1,
          snaps: {
            'openstack-snaps/snap-keystone': {
              'stable/2025.1': { commit: tip('stable/2025.1'), run: null, at: 'then' },
            },
          },
        }),
      ).toString('base64'),
    };
    world.stateBranch = true;
    const inputs = {
      repos: 'openstack-snaps/snap-keystone\nhttps://github.com/openstack-snaps/snap-nova',
      'requirements-repo': requirements.url,
      'requirements-branches': 'stable/2025.1 unmaintained/2024.1',
      'state-token': STATE_TOKEN,
    };
    const first = await dispatchRun(inputs);
    expect(first.status).toBe(1); // nova failed
    const rebuilt = (
      JSON.parse(first.outputs.results!) as { repo: string; branch: string; conclusion: string }[]
    ).map((r) => `${r.repo} ${r.branch} ${r.conclusion}`);
    expect(rebuilt).toEqual([
      'openstack-snaps/snap-keystone unmaintained/2024.1 success',
      'openstack-snaps/snap-nova stable/2025.1 failure',
    ]);
    expect(first.summary).toContain('never rebuilt against');
    const saved = JSON.parse(Buffer.from(world.state!.content, 'base64').toString('utf8')) as {
      snaps: Record<string, Record<string, { commit: string }>>;
    };
    expect(saved.snaps['openstack-snaps/snap-keystone']).toEqual({
      'stable/2025.1': expect.objectContaining({ commit: tip('stable/2025.1') }),
      'unmaintained/2024.1': expect.objectContaining({ commit: tip('unmaintained/2024.1') }),
    });
    expect(saved.snaps['openstack-snaps/snap-nova']).toBeUndefined();

    // The next run (nova fixed) rebuilds only nova's stable/2025.1.
    world.failing.clear();
    requests.length = 0;
    const second = await dispatchRun(inputs);
    expect(second.status).toBe(0);
    expect((JSON.parse(second.outputs.results!) as { repo: string }[]).map((r) => r.repo)).toEqual([
      'openstack-snaps/snap-nova',
    ]);
    const third = await dispatchRun(inputs);
    expect(JSON.parse(third.outputs.results!)).toEqual([]);
    expect(third.summary).toContain('Nothing to rebuild.');
  });

  it('follows a rebuild that outlasts its run in the next run, instead of starting it again', async () => {
    world.branches = { 'snap-glance': ['stable/2025.1'] };
    world.slow.add('snap-glance');
    const inputs = {
      repos: 'openstack-snaps/snap-glance',
      'requirements-repo': requirements.url,
      'requirements-branches': 'stable/2025.1',
      'state-token': STATE_TOKEN,
      'timeout-minutes': '0.002',
    };
    const first = await dispatchRun(inputs);
    // Still running is not a failure: it is marked, and followed next time.
    expect(first.status).toBe(0);
    expect(first.summary).toContain('running; the next run follows it');
    const state = () =>
      JSON.parse(Buffer.from(world.state!.content, 'base64').toString('utf8')) as {
        snaps: Record<string, Record<string, { commit?: string; pending?: { runId: number } }>>;
      };
    expect(state().snaps['openstack-snaps/snap-glance']!['stable/2025.1']).toEqual({
      pending: expect.objectContaining({ runId: 1000 }),
    });

    world.slow.clear();
    requests.length = 0;
    const second = await dispatchRun({ ...inputs, 'timeout-minutes': '5' });
    expect(second.status).toBe(0);
    expect(requests.filter((r) => r.method === 'POST' && r.path.endsWith('/dispatches'))).toEqual(
      [],
    );
    expect(second.summary).toContain('started earlier for');
    expect(state().snaps['openstack-snaps/snap-glance']!['stable/2025.1']).toEqual({
      commit: git(requirements.path, ['rev-parse', 'refs/heads/stable/2025.1']).trim(),
      run: 'https://github.example/openstack-snaps/snap-glance/actions/runs/1000',
      at: expect.any(String),
    });
  });

  it('dispatches each rebuild once when five runs race, and none gives up writing the state', async () => {
    world.branches = {
      'snap-keystone': ['stable/2025.1', 'unmaintained/2024.1'],
      'snap-nova': ['stable/2025.1'],
    };
    world.slow.add('snap-keystone');
    world.slow.add('snap-nova');
    const inputs = {
      repos: 'openstack-snaps/snap-keystone\nopenstack-snaps/snap-nova',
      'requirements-repo': requirements.url,
      'requirements-branches': 'stable/2025.1 unmaintained/2024.1',
      'state-token': STATE_TOKEN,
      'timeout-minutes': '0.002',
    };
    const runs = await Promise.all([1, 2, 3, 4, 5].map(() => dispatchRun(inputs)));
    expect(runs.map((r) => r.status)).toEqual([0, 0, 0, 0, 0]);
    const dispatched = requests
      .filter((r) => r.method === 'POST' && r.path.endsWith('/dispatches'))
      .map(
        (r) =>
          `${r.path.split('/')[3]} ${(r.body as { inputs: { branch: string } }).inputs.branch}`,
      )
      .sort();
    expect(dispatched).toEqual([
      'snap-keystone stable/2025.1',
      'snap-keystone unmaintained/2024.1',
      'snap-nova stable/2025.1',
    ]);
    // No run gave up on a refused write. How many writes met and were refused, and whether a late
    // run found its record already there (a step that changes nothing writes nothing), depends on
    // timing: CI once saw four writes from five runs.
    for (const run of runs) expect(`${run.stdout}${run.stderr}`).not.toMatch(/cannot write/);
    const state = JSON.parse(Buffer.from(world.state!.content, 'base64').toString('utf8')) as {
      snaps: Record<string, Record<string, { pending?: { runId: number | null } }>>;
    };
    expect(
      Object.values(state.snaps).flatMap((b) => Object.values(b).map((s) => s.pending?.runId)),
    ).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
  });

  it('creates the state branch the first time', async () => {
    world.branches = { 'snap-keystone': ['stable/2025.1'] };
    const run = await dispatchRun({
      repos: 'openstack-snaps/snap-keystone',
      'requirements-repo': requirements.url,
      'requirements-branches': 'stable/2025.1',
      'state-token': STATE_TOKEN,
    });
    expect(run.status).toBe(0);
    expect(
      requests.some(
        (r) => r.method === 'POST' && r.path === '/repos/openstack-snaps/admin/git/refs',
      ),
    ).toBe(true);
    expect(world.state).not.toBeNull();
  });

  it.each([
    [
      { repos: '../users', branch: 'stable/2025.1' },
      {},
      /'\.\.\/users' is not a snap repository: write owner\/name/,
    ],
    [
      { repos: 'https://evil.example/openstack-snaps/snap-nova', branch: 'stable/2025.1' },
      {},
      /is not a snap repository/,
    ],
    [
      { repos: 'openstack-snaps/snap-keystone', branch: 'stable/2025.1`id`' },
      {},
      /not a branch or tag name/,
    ],
    [{ repos: 'openstack-snaps/snap-keystone' }, {}, /Give 'branch' .* or 'requirements-repo'/],
    [
      { repos: 'openstack-snaps/snap-keystone', branch: 'stable/2025.1' },
      { GITHUB_EVENT_NAME: 'workflow_run' },
      /dispatch does not run for 'workflow_run' events/,
    ],
  ])('refuses %j before any request', async (inputs, env, message) => {
    const run = await dispatchRun(inputs, env);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(requests).toHaveLength(0);
  });
});
