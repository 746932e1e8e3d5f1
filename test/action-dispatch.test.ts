import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGitHubApi } from './helpers/github-api.js';
import { runBundle } from './helpers/run-action.js';

const TOKEN = 'ghs_fleetToken1234567890';
const polls: Record<string, number> = {};
let api: Awaited<ReturnType<typeof startGitHubApi>>;

beforeAll(async () => {
  api = await startGitHubApi((req) => {
    const repo = /^\/repos\/openstack-snaps\/([^/]+)/.exec(req.path)?.[1];
    if (!repo) return undefined;
    if (req.method === 'GET' && req.path === `/repos/openstack-snaps/${repo}`)
      return { status: 200, body: { default_branch: 'master' } };
    if (req.method === 'POST' && req.path.endsWith('/actions/workflows/snap.yml/dispatches')) {
      return repo === 'snap-broken'
        ? { status: 422, body: { message: "Workflow does not have 'workflow_dispatch' trigger" } }
        : { status: 204 };
    }
    if (req.method === 'GET' && req.path.endsWith('/actions/workflows/snap.yml/runs')) {
      const n = (polls[repo] = (polls[repo] ?? 0) + 1);
      const done = n >= 2;
      return {
        status: 200,
        body: {
          total_count: 1,
          workflow_runs: [
            {
              html_url: `https://github.example/openstack-snaps/${repo}/actions/runs/${n}`,
              status: done ? 'completed' : 'in_progress',
              conclusion: done ? (repo === 'snap-nova' ? 'failure' : 'success') : null,
            },
          ],
        },
      };
    }
    return undefined;
  });
});
afterAll(async () => api?.stop());

describe('the dispatch action (fleet rebuild), against a GitHub REST stand-in on 127.0.0.1', () => {
  it('starts each rebuild from the default branch, waits for the runs, and names what failed', async () => {
    const run = await runBundle(
      'dispatch',
      {
        repos:
          'openstack-snaps/snap-keystone\nopenstack-snaps/snap-nova\nopenstack-snaps/snap-broken',
        branch: 'stable/2025.1',
        token: TOKEN,
      },
      { GITHUB_API_URL: api.url, OSA_POLL_MS: '10' },
    );
    expect(run.status).toBe(1);
    const results = JSON.parse(run.outputs.results!) as {
      repo: string;
      conclusion: string | null;
      error?: string;
    }[];
    expect(results.map((r) => [r.repo, r.conclusion, r.error ?? null])).toEqual([
      ['openstack-snaps/snap-keystone', 'success', null],
      ['openstack-snaps/snap-nova', 'failure', null],
      [
        'openstack-snaps/snap-broken',
        null,
        expect.stringMatching(/does not have 'workflow_dispatch' trigger/),
      ],
    ]);
    expect(run.outputs.failed).toBe('openstack-snaps/snap-nova openstack-snaps/snap-broken');
    const dispatches = api.requests.filter((r) => r.method === 'POST');
    expect(dispatches.map((r) => r.body)).toEqual([
      { ref: 'master', inputs: { branch: 'stable/2025.1', publish: 'true' } },
      { ref: 'master', inputs: { branch: 'stable/2025.1', publish: 'true' } },
      { ref: 'master', inputs: { branch: 'stable/2025.1', publish: 'true' } },
    ]);
    expect(run.summary).toContain('Rebuild of stable/2025.1');
    expect(run.stdout).toMatch(
      /::error::Rebuild of stable\/2025\.1 failed in openstack-snaps\/snap-nova \(failure\), openstack-snaps\/snap-broken/,
    );
    expect(
      run.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain(TOKEN);
  });

  it('refuses a branch with shell characters before any request', async () => {
    const before = api.requests.length;
    const run = await runBundle(
      'dispatch',
      { repos: 'openstack-snaps/snap-keystone', branch: 'stable/2025.1`id`', token: TOKEN },
      { GITHUB_API_URL: api.url },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/::error::.*not a branch or tag name/);
    expect(api.requests.length).toBe(before);
  });
});
