import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { addCommits, git, initBare, refsOf, startGitDaemon } from '../scripts/lib/git-fixtures.mjs';
import { startGitHttpServer, type GitHttpServer } from '../scripts/lib/git-http-server.mjs';
import { listFiles, tempDir } from './helpers/fixtures.js';
import { startGitHubApi } from './helpers/github-api.js';
import { runBundle, visibleOutput } from './helpers/run-action.js';

const TOKEN = 'ghp_neverPrintThis0123456789abcdef';
const BASE64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

let root: string;
let daemon: { url: string; stop(): Promise<void> };
let http: GitHttpServer;
/** An upstream over HTTP without auth, as opendev's. */
let open: GitHttpServer;
let api: Awaited<ReturnType<typeof startGitHubApi>>;

beforeAll(async () => {
  root = tempDir('osa-amirror-');
  daemon = await startGitDaemon(root);
  http = await startGitHttpServer({ root, token: TOKEN });
  open = await startGitHttpServer({ root });
  api = await startGitHubApi((req) => {
    if (req.method === 'GET' && /^\/repos\/github\/[^/]+$/.test(req.path))
      return { status: 200, body: { default_branch: 'main' } };
    if (req.method === 'POST' && req.path.endsWith('/actions/workflows/snap.yml/dispatches')) {
      const body = req.body as { inputs?: Record<string, string> };
      // Like GitHub: an input the workflow does not declare is a 422.
      if (body.inputs && Object.keys(body.inputs).some((k) => k !== 'branch'))
        return { status: 422, body: { message: 'Unexpected inputs provided' } };
      return { status: 204 };
    }
    return undefined;
  });
});
afterAll(async () => {
  await daemon?.stop();
  await http?.stop();
  await open?.stop();
  await api?.stop();
});

function upstream(name: string): string {
  const dir = initBare(join(root, 'opendev', `${name}.git`));
  addCommits(dir, 'master', 3);
  addCommits(dir, 'stable/2025.1', 2, { from: 'refs/heads/master', tag: '31.0.0' });
  initBare(join(root, 'github', `${name}.git`));
  return dir;
}

/** A `git` earlier on PATH that logs every argv, then runs the real git. */
function gitRecorder(): { bin: string; log: string } {
  const bin = tempDir('osa-gitwrap-');
  const log = join(bin, 'argv.log');
  const realGit = '/usr/bin/git';
  writeFileSync(
    join(bin, 'git'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec ${realGit} "$@"\n`,
  );
  chmodSync(join(bin, 'git'), 0o755);
  return { bin, log };
}

/** The mirror runs on a trusted event (a schedule) of a repository that is not a fork. */
function mirrorRun(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const event = join(tempDir('osa-event-'), 'event.json');
  writeFileSync(event, JSON.stringify({ repository: { fork: false, full_name: 'o/admin' } }));
  return runBundle('mirror', inputs, {
    GITHUB_EVENT_NAME: 'schedule',
    GITHUB_EVENT_PATH: event,
    ...env,
  });
}

describe('the mirror action, from its bundle', () => {
  it('mirrors, reports, dispatches builds of changed release branches, and never shows the token', async () => {
    const keystone = upstream('keystone');
    upstream('glance');
    const recorder = gitRecorder();
    const runnerTemp = tempDir('osa-runner-temp-');
    const run = await mirrorRun(
      {
        repos: [
          `${daemon.url}/opendev/keystone.git -> ${http.url}/github/keystone.git`,
          `${daemon.url}/opendev/glance.git -> ${http.url}/github/glance.git`,
        ].join('\n'),
        token: TOKEN,
        'dispatch-workflow': 'snap.yml',
        'dispatch-branches': 'stable/*',
        'dispatch-input': 'branch',
        cache: 'false',
      },
      {
        PATH: `${recorder.bin}:${process.env.PATH}`,
        RUNNER_TEMP: runnerTemp,
        GITHUB_API_URL: api.url,
      },
    );
    expect(run.stdout).not.toMatch(/::error::/);
    expect(run.status).toBe(0);
    expect(refsOf(join(root, 'github/keystone.git'))).toBe(refsOf(keystone));

    const changes = JSON.parse(run.outputs.changes!) as {
      destination: string;
      status: string;
      created: { ref: string }[];
    }[];
    expect(changes.map((c) => [c.destination, c.status, c.created.length])).toEqual([
      [`${http.url}/github/keystone.git`, 'mirrored', 3],
      [`${http.url}/github/glance.git`, 'mirrored', 3],
    ]);
    expect(run.outputs.changed).toBe('true');
    expect(run.outputs['failed-repos']).toBe('');
    expect(JSON.parse(run.outputs.dispatched!)).toEqual([
      { repository: 'github/keystone', branch: 'stable/2025.1', ok: true },
      { repository: 'github/glance', branch: 'stable/2025.1', ok: true },
    ]);
    const dispatches = api.requests.filter((r) => r.method === 'POST');
    expect(dispatches.map((r) => r.body)).toEqual([
      { ref: 'main', inputs: { branch: 'stable/2025.1' } },
      { ref: 'main', inputs: { branch: 'stable/2025.1' } },
    ]);
    expect(dispatches[0]!.authorization).toBe(`token ${TOKEN}`);
    expect(run.summary).toContain('<th>Updated (forced)</th>');

    // The token: masked (only ::add-mask:: carries it), and nowhere else.
    const shown = visibleOutput(run);
    const argv = readFileSync(recorder.log, 'utf8');
    expect(argv).toMatch(/push --atomic --porcelain/);
    const files = listFiles(runnerTemp).map((f) =>
      readFileSync(join(runnerTemp, f)).toString('latin1'),
    );
    for (const secret of [TOKEN, BASE64]) {
      for (const text of [...shown, argv, ...files]) expect(text.includes(secret)).toBe(false);
      expect(run.stdout).toContain(`::add-mask::${secret}`);
    }
  });

  it('relays http(s) pairs in-process from its bundle: no git fetch or push, the token only to the destination and never shown', async () => {
    const octavia = upstream('octavia');
    const recorder = gitRecorder();
    const runnerTemp = tempDir('osa-runner-temp-');
    const inputs = {
      repos: `${open.url}/opendev/octavia.git -> ${http.url}/github/octavia.git`,
      token: TOKEN,
      cache: 'false',
    };
    const env = { PATH: `${recorder.bin}:${process.env.PATH}`, RUNNER_TEMP: runnerTemp };
    const first = await mirrorRun(inputs, env);
    expect(first.status).toBe(0);
    addCommits(octavia, 'stable/2025.1', 2);
    const start = open.requests.length;
    const second = await mirrorRun(inputs, env);
    expect(second.status).toBe(0);
    expect(refsOf(join(root, 'github/octavia.git'))).toBe(refsOf(octavia));
    expect(JSON.parse(second.outputs.changes!)).toEqual([
      expect.objectContaining({
        status: 'mirrored',
        updated: [expect.objectContaining({ ref: 'refs/heads/stable/2025.1', forced: false })],
      }),
    ]);
    expect(second.summary).toContain('from the source to the destination, no copy');
    // git was asked only whether it would reach the hosts another way.
    const argv = readFileSync(recorder.log, 'utf8').trim().split('\n');
    expect(argv.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual([
      'config --get-regexp',
      'config --get-regexp',
    ]);
    expect(open.requests.slice(start).some((r) => r.sentAuth)).toBe(false);
    const files = listFiles(runnerTemp).map((f) =>
      readFileSync(join(runnerTemp, f)).toString('latin1'),
    );
    for (const run of [first, second])
      for (const secret of [TOKEN, BASE64])
        for (const text of [...visibleOutput(run), ...files, argv.join('\n')])
          expect(text.includes(secret)).toBe(false);
  });

  it('dispatches per repository, only what the destination accepted, and not where the push starts the workflow itself', async () => {
    // cinder carries its own workflow on stable/2025.1: the push starts it.
    const cinder = upstream('cinder');
    const work = tempDir('osa-cinder-work-');
    git(work, ['clone', '--quiet', '--branch', 'stable/2025.1', cinder, '.']);
    mkdirSync(join(work, '.github/workflows'), { recursive: true });
    writeFileSync(join(work, '.github/workflows/snap.yml'), 'on: push\n');
    git(work, ['add', '.github']);
    git(work, ['commit', '--quiet', '-m', 'Build on GitHub']);
    git(work, ['push', '--quiet', 'origin', 'stable/2025.1']);
    // heat's destination has refs upstream never had: deleting them all is refused.
    upstream('heat');
    const heatDestination = join(root, 'github/heat.git');
    for (let i = 0; i < 6; i++) addCommits(heatDestination, `stable/old-${i}`, 1);
    // requirements has no snap.yml anywhere: dispatching to it would 404.
    const requirements = upstream('requirements');
    const before = api.requests.length;
    const run = await mirrorRun(
      {
        repos: [
          `${daemon.url}/opendev/cinder.git -> ${http.url}/github/cinder.git`,
          `${daemon.url}/opendev/heat.git -> ${http.url}/github/heat.git`,
          `${daemon.url}/opendev/requirements.git -> ${http.url}/github/requirements.git dispatch=none`,
        ].join('\n'),
        token: TOKEN,
        'dispatch-workflow': 'snap.yml',
        'dispatch-input': 'branch',
        cache: 'false',
      },
      { GITHUB_API_URL: api.url },
    );
    expect(run.status).toBe(1); // heat was refused
    expect(refsOf(join(root, 'github/requirements.git'))).toBe(refsOf(requirements));
    expect(JSON.parse(run.outputs.dispatched!)).toEqual([
      {
        repository: 'github/cinder',
        branch: 'master',
        ok: true,
      },
      {
        repository: 'github/cinder',
        branch: 'stable/2025.1',
        ok: true,
        skipped: 'the pushed commit has .github/workflows/snap.yml, so the push starts it',
      },
    ]);
    const posts = api.requests.slice(before).filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path)).toEqual([
      '/repos/github/cinder/actions/workflows/snap.yml/dispatches',
    ]);
    const changes = JSON.parse(run.outputs.changes!) as {
      destination: string;
      status: string;
      created: unknown[];
      deleted: unknown[];
    }[];
    const heat = changes.find((c) => c.destination.endsWith('/heat.git'))!;
    expect(heat).toMatchObject({ status: 'refused', created: [], deleted: [] });
    expect(run.outputs['changed-repos']!.split(' ').sort()).toEqual([
      `${http.url}/github/cinder.git`,
      `${http.url}/github/requirements.git`,
    ]);
  });

  it('pushes nothing for an event that could carry a fork’s code', async () => {
    upstream('barbican');
    const run = await mirrorRun(
      {
        repos: `${daemon.url}/opendev/barbican.git -> ${http.url}/github/barbican.git`,
        token: TOKEN,
      },
      { GITHUB_EVENT_NAME: 'pull_request' },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/::error::mirror does not run for 'pull_request' events/);
    expect(refsOf(join(root, 'github/barbican.git'))).toBe('');
  });

  it('fails the job at the end naming each failed repo, after mirroring the rest', async () => {
    upstream('nova');
    const run = await mirrorRun({
      repos: `${daemon.url}/opendev/nova.git -> ${http.url}/github/nova.git\n${daemon.url}/opendev/missing.git -> ${http.url}/github/missing.git`,
      token: TOKEN,
      cache: 'false',
    });
    expect(run.status).toBe(1);
    expect(run.outputs['failed-repos']).toBe(`${http.url}/github/missing.git`);
    expect(run.stdout).toMatch(/::error::.*github\/missing\.git: failed: cannot list the source/);
    expect(refsOf(join(root, 'github/nova.git'))).not.toBe('');
  });

  it('reports no change and starts no build when the push itself fails', async () => {
    upstream('placement');
    const requests = api.requests.length;
    http.faults.failReceivePack = true;
    try {
      const run = await mirrorRun(
        {
          repos: `${daemon.url}/opendev/placement.git -> ${http.url}/github/placement.git`,
          token: TOKEN,
          cache: 'false',
          'dispatch-workflow': 'snap.yml',
        },
        { GITHUB_API_URL: api.url },
      );
      expect(run.status).toBe(1);
      expect(run.outputs).toMatchObject({ changed: 'false', 'changed-repos': '' });
      expect(run.outputs['failed-repos']).toBe(`${http.url}/github/placement.git`);
      expect(JSON.parse(run.outputs.changes!)).toEqual([
        expect.objectContaining({ status: 'failed', created: [], updated: [], deleted: [] }),
      ]);
    } finally {
      http.faults.failReceivePack = false;
    }
    expect(api.requests.length).toBe(requests);
    expect(refsOf(join(root, 'github/placement.git'))).toBe('');
  });

  it("keeps a first mirror's copy in cache-dir until the destination has it; once it has, a fresh runner begins from the destination and stores nothing", async () => {
    const neutron = upstream('neutron');
    const cacheDir = tempDir('osa-cache-dir-');
    const inputs = {
      repos: `${daemon.url}/opendev/neutron.git -> ${http.url}/github/neutron.git`,
      token: TOKEN,
      'cache-dir': cacheDir,
    };
    // A first mirror that did not land (a dry run): its copy is kept for the next try.
    expect((await mirrorRun({ ...inputs, 'dry-run': 'true' })).status).toBe(0);
    expect(readdirSync(cacheDir)).toEqual([expect.stringMatching(/^neutron-[0-9a-f]+\.git$/)]);
    const first = await mirrorRun(inputs);
    expect(first.summary).toContain('restored from cache');
    expect(refsOf(join(root, 'github/neutron.git'))).toBe(refsOf(neutron));
    addCommits(neutron, 'stable/2025.1', 1);
    const second = await mirrorRun(inputs);
    expect(JSON.parse(second.outputs.changes!)).toEqual([
      expect.objectContaining({
        status: 'mirrored',
        updated: [expect.objectContaining({ ref: 'refs/heads/stable/2025.1', forced: false })],
      }),
    ]);
    expect(second.summary).toContain('began from the destination, fetched');
    expect(refsOf(join(root, 'github/neutron.git'))).toBe(refsOf(neutron));
  });

  it.each([
    [
      { refs: 'refs/pull/*' },
      /'refs' pattern 'refs\/pull\/\*' is not under refs\/heads\/ or refs\/tags\//,
    ],
    [{ concurrency: '0' }, /'concurrency' must be a whole number from 1 to 32/],
    [{ 'dispatch-workflow': 'snap.yml' }, /Dispatching builds needs a token/],
    [
      { 'dispatch-workflow': 'snap.yml', token: TOKEN, 'dispatch-branches': 'stable/[2025' },
      /'dispatch-branches' pattern 'stable\/\[2025' is not a glob pattern/,
    ],
    [{ refs: 'refs/heads/[a' }, /'refs' pattern 'refs\/heads\/\[a' is not a glob pattern/],
    [
      { repos: 'https://ghp_secret0123@opendev.org/a.git -> https://github.com/o/a.git' },
      /credentials in its URL \('https:\/\/\*\*\*@opendev.org\/a.git'\); remove them/,
    ],
    [
      { repos: 'https://opendev.org/a.git -> -oProxyCommand=x@h:p' },
      /repos entry 1 destination starts with '-'/,
    ],
    [{ repos: 'https://opendev.org/a.git -> ssh://-oProxyCommand=id/x' }, /host starting with '-'/],
    [{ 'dispatch-workflow': '../../etc/x.yml', token: TOKEN }, /is not a workflow file name/],
    [
      { repos: `${'git://x'}/a.git -> ${'git://y'}/a.git dispatch=../x` },
      /repos entry 1 dispatch \('\.\.\/x'\) is not a workflow file name/,
    ],
    [
      { repos: 'https://user:pw@example.com/a.git -> https://github.com/o/a.git' },
      /credentials in its URL.*pass the token through the 'token' input/,
    ],
  ])('refuses bad input %j with one error and touches nothing', async (inputs, message) => {
    mkdirSync(join(root, 'untouched'), { recursive: true });
    const run = await mirrorRun({
      repos: `${daemon.url}/opendev/x.git -> ${http.url}/github/x.git`,
      ...inputs,
    });
    expect(run.status).toBe(1);
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    expect(run.stdout).not.toContain('::group::');
  });

  it('reads and writes only inside the workspace and the runner temp, and never quotes a repos file', async () => {
    const base = tempDir('osa-confine-');
    const workspace = join(base, 'workspace');
    mkdirSync(join(base, 'outside'), { recursive: true });
    mkdirSync(workspace, { recursive: true });
    const secretLine = 'db_password_hunter2 -> https://github.com/o/a.git\n';
    writeFileSync(join(base, 'outside/secret.yaml'), secretLine);
    writeFileSync(join(workspace, 'repos.yaml'), secretLine);
    symlinkSync(join(base, 'outside'), join(workspace, 'link'));
    const repos = `${daemon.url}/opendev/x.git -> ${http.url}/github/x.git`;
    const cases: [Record<string, string>, RegExp][] = [
      [{ repos: '../outside/secret.yaml' }, /'repos' \('.*secret.yaml'\) is outside the workspace/],
      [{ repos: 'link/secret.yaml' }, /'repos' \('.*secret.yaml'\) is outside the workspace/],
      [{ repos: 'repos.yaml' }, /repos.yaml: repos entry 1 source is not a git URL/],
      [
        { repos, 'cache-dir': '../outside-cache' },
        /'cache-dir' \('..\/outside-cache'\) is outside/,
      ],
    ];
    for (const [inputs, message] of cases) {
      const run = await mirrorRun(inputs, { GITHUB_WORKSPACE: workspace });
      expect(run.status).toBe(1);
      const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error::'));
      expect(errors).toEqual([expect.stringMatching(message)]);
      expect(visibleOutput(run)).not.toContain('hunter2');
    }
    expect(readdirSync(base).sort()).toEqual(['outside', 'workspace']);
  });
});
