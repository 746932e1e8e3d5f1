import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { git } from '../scripts/lib/git-fixtures.mjs';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { runBundle, visibleOutput } from './helpers/run-action.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';

// The build action's remote mode against the STAND-IN snapcraft remote-build and Launchpad
// (test/standins/snapcraft-remote-build.mjs): neither can run here.

const withSnaps = describeWhen(SQUASHFS, 'remote build tests with real .snap files');

const TOKEN = 'lp-access-token-Zq81';
const SECRET = 'lp-access-secret-Yw42';
const CREDENTIALS = `[1]\nconsumer_key = snapcraft\nconsumer_secret = \naccess_token = ${TOKEN}\naccess_secret = ${SECRET}\n`;

let server: Awaited<ReturnType<typeof serveRequirements>>;
beforeAll(async () => {
  server = await serveRequirements();
});
afterAll(async () => server?.stop());

const commit = (dir: string, message: string) =>
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', message]);

/**
 * test/snaps/core24-glance (platforms amd64, arm64, s390x; a `<<:` merge of its python part; CRLF)
 * as actions/checkout leaves it: a shallow clone. Its .gitignore leaves snap/local/ out, as some
 * repos do for local build files, so the constraints travel only if the action sees to it.
 */
function checkout(): { dir: string; head: string } {
  const origin = tempDir('osa-remote-origin-');
  cpSync(join(ROOT, 'test/snaps/core24-glance'), origin, { recursive: true });
  // plugins/ is ignored but tracked (added with --force): it travels in snapcraft's own copy of
  // the repository, and the glance part's python-packages needs it.
  writeFileSync(join(origin, '.gitignore'), 'snap/local/\n*.snap\nplugins/\n');
  git(origin, ['init', '--quiet', '--initial-branch=stable/2025.1']);
  git(origin, ['add', '.']);
  git(origin, ['add', '--force', 'plugins']);
  commit(origin, 'glance 2025.1');
  const dir = join(tempDir('osa-remote-checkout-'), 'snap');
  git(ROOT, ['clone', '--quiet', '--depth=1', `file://${origin}`, dir]);
  expect(existsSync(join(dir, '.git/shallow'))).toBe(true);
  return { dir, head: git(dir, ['rev-parse', 'HEAD']).trim() };
}

function launchpad() {
  const dir = tempDir('osa-launchpad-');
  const pushEvent = join(dir, 'event.json');
  writeFileSync(pushEvent, JSON.stringify({ repository: { fork: false, full_name: 'o/glance' } }));
  const argvLog = join(dir, 'argv.log');
  // The stand-in's scratch space (its builders' trees), to see that nothing is left there.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  return {
    dir,
    argvLog,
    /** What is left in the scratch space once a run has ended. */
    leftovers: () => readdirSync(tmp),
    env: (extra: Record<string, string> = {}) => ({
      PATH: `${join(ROOT, 'test/standins')}:${process.env.PATH}`,
      TMPDIR: tmp,
      HOME: tempDir('osa-home-'),
      GITHUB_REF_NAME: 'stable/2025.1',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: pushEvent,
      STANDIN_LAUNCHPAD_DIR: dir,
      STANDIN_LAUNCHPAD_TOKEN: TOKEN,
      STANDIN_LAUNCHPAD_SECRET: SECRET,
      STANDIN_ARGV_LOG: argvLog,
      ...extra,
    }),
    /** The repositories snapcraft pushed to "Launchpad". */
    pushed: () => (existsSync(join(dir, 'git')) ? readdirSync(join(dir, 'git')) : []),
    requests: () =>
      existsSync(join(dir, 'requests.log'))
        ? readFileSync(join(dir, 'requests.log'), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as { credentialsFile: string; mode: number | null })
        : [],
  };
}

const remoteInputs = (project: string, extra: Record<string, string> = {}) => ({
  project,
  arch: 's390x',
  mode: 'remote',
  setup: 'false',
  cache: 'false',
  'launchpad-credentials': CREDENTIALS,
  'launchpad-accept-public-upload': 'true',
  ...extra,
});

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

withSnaps('the build action on Launchpad (mode: remote), from its bundle', () => {
  it('sends a tree with the constraints (and what git tracks, nothing else), builds s390x from what it pushed, checks the snap, and shows no credential', async () => {
    const { dir, head } = checkout();
    writeFileSync(join(dir, 'NOTES.md'), 'left by an earlier step\n');
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(dir, { constraints: 'true', 'requirements-repo': server.url }),
      lp.env(),
    );
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({ name: 'osa-glance', version: '2025.1', arch: 's390x' });
    expect(
      execFileSync('unsquashfs', ['-cat', run.outputs.snap!, 'meta/snap.yaml'], {
        encoding: 'utf8',
      }),
    ).toMatch(/architectures:\n {2}- s390x/);
    const manifest = JSON.parse(run.outputs.manifest!) as {
      mode: string;
      constraints: { ref: string; commit: string };
    };
    expect(manifest).toMatchObject({ mode: 'remote', constraints: { ref: 'stable/2025.1' } });
    expect(run.summary).toContain('on Launchpad (snapcraft 9.0.0 (stand-in) remote-build)');

    // What reached Launchpad: one commit naming its source, with the rewritten snapcraft.yaml and
    // the constraints file (which the project's .gitignore leaves out) byte for byte.
    const [repo, ...more] = lp.pushed();
    expect(more).toEqual([]);
    const gitDir = join(lp.dir, 'git', repo!);
    const show = (path: string) => git(gitDir, ['show', `main:${path}`]);
    expect(show('snap/local/upper-constraints.txt')).toBe(
      readFileSync(join(dir, 'snap/local/upper-constraints.txt'), 'utf8'),
    );
    // snapcraft.yaml as constrained, its platforms cut to the one Launchpad is to build (it builds
    // every platform declared, and snapcraft refuses --build-for beside them).
    const constrained = readFileSync(join(dir, 'snap/snapcraft.yaml'), 'utf8');
    expect(constrained).toContain('python-constraints');
    expect(show('snap/snapcraft.yaml')).toBe(
      constrained.replace(
        'platforms:\r\n  amd64:\r\n  arm64:\r\n  s390x:\r\n',
        'platforms: {"s390x": {build-on: [s390x], build-for: [s390x]}}\r\n',
      ),
    );
    expect(show('plugins/glance-snap-hooks/pyproject.toml')).toContain('glance');
    // An untracked file stays on the runner, and the log says so; the list sent is in the summary.
    expect(() => show('NOTES.md')).toThrow();
    expect(run.stdout).toMatch(
      /Sending \d+ files to Launchpad \(public\): what git tracks, the constraints; not sent, as git does not track it: NOTES\.md\n/,
    );
    expect(run.summary).toMatch(/Sent to Launchpad \(public\): \d+ files/);
    expect(run.summary).toContain('<td>snap/local/upper-constraints.txt</td>');
    expect(git(gitDir, ['log', '-1', '--format=%B', 'main'])).toContain(`Source: ${head}`);
    expect(git(gitDir, ['log', '-1', '--format=%B', 'main'])).toContain(
      `Constraints: openstack/requirements stable/2025.1 ${manifest.constraints.commit}`,
    );
    // The builder installed with that very file (the stand-in's pip logs its hash).
    const logs = readdirSync(join(run.outputs['logs-dir']!, 'launchpad'));
    expect(logs).toEqual([
      expect.stringMatching(/^snapcraft-osa-glance-[0-9a-f]{32}_s390x_.*\.txt$/),
    ]);
    expect(readFileSync(join(run.outputs['logs-dir']!, 'launchpad', logs[0]!), 'utf8')).toContain(
      `pip: constraints snap/local/upper-constraints.txt sha256=${sha256(join(dir, 'snap/local/upper-constraints.txt'))}`,
    );

    // The credentials: a 0600 file snapcraft found through XDG_DATA_HOME, gone after the run;
    // never on argv, in the log, the outputs or the summary.
    const [request] = lp.requests();
    expect(request!.mode).toBe(0o600);
    expect(request!.credentialsFile).toMatch(
      /\/tmp\/osa-remote-[^/]+\/data\/snapcraft\/launchpad-credentials$/,
    );
    expect(existsSync(request!.credentialsFile)).toBe(false);
    expect(readFileSync(lp.argvLog, 'utf8').trim().split('\n')).toEqual([
      '--version',
      'remote-build --launchpad-accept-public-upload --launchpad-timeout=18600',
    ]);
    for (const text of [...visibleOutput(run), readFileSync(lp.argvLog, 'utf8')])
      for (const secret of [TOKEN, SECRET]) expect(text).not.toContain(secret);
    expect(run.stdout).toContain(`::add-mask::${TOKEN}`);
    // The checkout itself is left as it was, but for the constraints the action applied.
    expect(git(dir, ['log', '--format=%H'])).toBe(`${head}\n`);
  }, 60000);

  it.each([
    [
      { 'launchpad-accept-public-upload': 'false' },
      /uploads the project to Launchpad, where it is public: set 'launchpad-accept-public-upload: true'/,
    ],
    [
      { 'launchpad-credentials': '' },
      /needs Launchpad credentials \('launchpad-credentials' is empty\)\. Create them on your machine: run `snapcraft remote-build/,
    ],
    [
      { 'launchpad-credentials': `access_token = ${TOKEN}\n` },
      /not a launchpadlib credentials file .*consumer_key, access_secret missing/,
    ],
    [
      { 'launchpad-timeout': '0' },
      /'launchpad-timeout' must be a whole number of seconds, at least 1/,
    ],
    [{ mode: 'cloud' }, /'mode' must be native, emulated, remote or empty, not 'cloud'/],
    [{ emulate: 'true' }, /'emulate: true' and 'mode: remote' disagree/],
  ])('refuses %j before anything reaches Launchpad', async (over, message) => {
    const lp = launchpad();
    const run = await runBundle('build', remoteInputs(checkout().dir, over), lp.env());
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(lp.pushed()).toEqual([]);
    expect(existsSync(lp.argvLog)).toBe(false);
    for (const text of visibleOutput(run)) expect(text).not.toContain(SECRET);
  });

  it('refuses a base the remote builder does not take, before anything runs', async () => {
    const lp = launchpad();
    const dir = tempDir('osa-remote-core20-');
    cpSync(join(ROOT, 'test/snaps/core20-openstackclients'), dir, { recursive: true });
    const run = await runBundle('build', remoteInputs(dir, { arch: 'ppc64el' }), lp.env());
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /has base core20; remote builds need core22, core24, core26.*build this arch emulated/,
    );
    expect(lp.pushed()).toEqual([]);
  });

  it('stops the login launchpadlib starts for refused credentials (it would wait 15 minutes) and says how to make them', async () => {
    const lp = launchpad();
    const started = Date.now();
    const run = await runBundle(
      'build',
      remoteInputs(checkout().dir),
      lp.env({ STANDIN_LAUNCHPAD_TOKEN: 'another-token' }),
    );
    expect(Date.now() - started).toBeLessThan(30000);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /::error::Launchpad refused the credentials .*it was stopped\)\. Create them on your machine/,
    );
    expect(lp.pushed()).toEqual([]);
    expect(run.outputs.snap).toBeUndefined();
  });

  it('fails a leg whose Launchpad build failed, with the build log’s last lines, though snapcraft exits 0', async () => {
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(checkout().dir),
      lp.env({ STANDIN_LAUNCHPAD_FAIL: 'osc-lib' }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('Build completed.');
    expect(run.stdout).toMatch(
      /::error::build: The s390x build failed on Launchpad; the build log is in the logs\. Last lines:.*Failed to run the build script for part 'osc-lib'/,
    );
    const logsDir = run.outputs['logs-dir']!;
    expect(readdirSync(logsDir).sort()).toEqual([
      'build-output.log',
      'launchpad',
      'snapcraft-logs',
    ]);
    expect(readdirSync(join(logsDir, 'launchpad'))).toHaveLength(1);
    expect(run.summary).toContain('s390x: build failed');
    expect(lp.leftovers()).toEqual([]);
  });

  it("copies snapcraft's own log into the logs artifact with the credentials replaced (an HTTP trace carries both)", async () => {
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(checkout().dir),
      lp.env({ STANDIN_LAUNCHPAD_FAIL: 'osc-lib', STANDIN_LOG_HTTP: '1' }),
    );
    expect(run.status).toBe(1);
    const dir = join(run.outputs['logs-dir']!, 'snapcraft-logs');
    const text = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
    expect(text).toContain('oauth_signature_method="PLAINTEXT"');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(SECRET);
    expect(text).toContain('oauth_token="***"');
  });

  it('fails a build that outlasts launchpad-timeout, saying what to change', async () => {
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(checkout().dir, { 'launchpad-timeout': '2' }),
      lp.env({ STANDIN_LAUNCHPAD_SECONDS: '60' }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /The s390x build on Launchpad did not finish in 2 s \('launchpad-timeout'\); Launchpad may still be building snapcraft-osa-glance-[0-9a-f]+.*remote-timeout-minutes/,
    );
    // The evidence is where the workflow uploads it from.
    expect(readFileSync(join(run.outputs['logs-dir']!, 'build-output.log'), 'utf8')).toContain(
      'Timed out waiting for build.',
    );
  }, 30000);

  it('refuses a snap from Launchpad that carries another arch’s binaries, as any build', async () => {
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(checkout().dir),
      lp.env({ STANDIN_LAUNCHPAD_ELF: 'amd64' }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /osa-glance_2025\.1_s390x\.snap says s390x but carries binaries of another architecture: bin\/service \(amd64\)/,
    );
  });

  it('sends what a link inside the project points at, and refuses a link that leaves it (it would send a runner file)', async () => {
    const inside = checkout().dir;
    mkdirSync(join(inside, 'docs'));
    symlinkSync('../snap/snapcraft.yaml', join(inside, 'docs/snapcraft-link.yaml'));
    git(inside, ['add', 'docs']);
    commit(inside, 'a link to the snapcraft.yaml');
    const lp = launchpad();
    const ok = await runBundle('build', remoteInputs(inside), lp.env());
    expect(ok.status).toBe(0);
    const gitDir = join(lp.dir, 'git', lp.pushed()[0]!);
    // The link reached snapcraft as written (inside the tree); snapcraft's copy of the tree
    // (shutil.copytree) sends what it points at.
    expect(git(gitDir, ['show', 'main:docs/snapcraft-link.yaml'])).toBe(
      git(gitDir, ['show', 'main:snap/snapcraft.yaml']),
    );

    const outside = checkout().dir;
    mkdirSync(join(outside, 'docs'));
    symlinkSync('/etc/hostname', join(outside, 'docs/hostname'));
    git(outside, ['add', 'docs']);
    commit(outside, 'a link out of the project');
    const refused = await runBundle('build', remoteInputs(outside), launchpad().env());
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(
      '::error::docs/hostname links to /etc/hostname, outside the project: Launchpad gets only the project',
    );
  });

  it('refuses a part whose source is outside the project (Launchpad gets only the project)', async () => {
    const repo = tempDir('osa-remote-subdir-');
    const dir = join(repo, 'snaps/glance');
    cpSync(checkout().dir, dir, { recursive: true });
    const file = join(dir, 'snap/snapcraft.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /source: https:\/\/github.com\/openstack\/osc-lib[^\r\n]*/,
        'source: ../common',
      ),
    );
    const lp = launchpad();
    const run = await runBundle('build', remoteInputs(dir), lp.env());
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /part 'osc-lib' has source '\.\.\/common', outside the project directory.*move the project to the repository's top level, or build s390x emulated/,
    );
    expect(lp.pushed()).toEqual([]);
  });

  it('passes --build-for for a snapcraft.yaml that declares no architectures', async () => {
    const { dir } = checkout();
    const file = join(dir, 'snap/snapcraft.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('platforms:\r\n  amd64:\r\n  arm64:\r\n  s390x:\r\n', ''),
    );
    const lp = launchpad();
    const run = await runBundle('build', remoteInputs(dir), lp.env());
    expect(run.status).toBe(0);
    expect(readFileSync(lp.argvLog, 'utf8')).toContain('--build-for=s390x');
    expect(run.outputs.arch).toBe('s390x');
  });

  it('sends by the repository’s own rules: a project in a subdirectory keeps the root’s ignores, and names are never pathspecs', async () => {
    const origin = tempDir('osa-remote-mono-');
    const dir = join(origin, 'snaps/glance');
    cpSync(join(ROOT, 'test/snaps/core24-glance'), dir, { recursive: true });
    writeFileSync(join(origin, '.gitignore'), '*.secret\n');
    writeFileSync(join(dir, ':colon.txt'), 'a tracked name git could read as magic\n');
    writeFileSync(join(dir, 'd[12].txt'), 'tracked, with a glob in its name\n');
    git(origin, ['init', '--quiet', '--initial-branch=main']);
    git(origin, ['add', '--', 'snaps', '.gitignore']);
    commit(origin, 'monorepo');
    writeFileSync(join(dir, 'token.secret'), 'left by an earlier step\n');
    writeFileSync(join(dir, 'd1.txt'), 'untracked, matched by the glob above\n');
    const lp = launchpad();
    const run = await runBundle('build', remoteInputs(dir), lp.env());
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    const gitDir = join(lp.dir, 'git', lp.pushed()[0]!);
    const sent = git(gitDir, ['ls-tree', '-r', '--name-only', 'main']).trim().split('\n');
    expect(sent).toEqual(expect.arrayContaining([':colon.txt', 'd[12].txt']));
    expect(sent).not.toContain('token.secret');
    expect(sent).not.toContain('d1.txt');
  });
});

withSnaps('what a remote build sends to Launchpad (public), and what it leaves behind', () => {
  /** The committed glance checkout, changed by `change` and committed again. */
  function committed(change: (dir: string) => void): string {
    const { dir } = checkout();
    change(dir);
    git(dir, ['add', '--all']);
    commit(dir, 'changed');
    return dir;
  }
  const sentFiles = (lp: ReturnType<typeof launchpad>): string[] =>
    git(join(lp.dir, 'git', lp.pushed()[0]!), ['ls-tree', '-r', '--name-only', 'main'])
      .trim()
      .split('\n');

  it('a clone inside the project sends nothing untracked: none of its files, ignored ones least of all', async () => {
    const { dir } = checkout();
    const tools = join(dir, 'tools');
    mkdirSync(tools);
    git(tools, ['init', '--quiet']);
    writeFileSync(join(tools, '.gitignore'), '.env\ndeploy.key\n');
    writeFileSync(join(tools, 'run.sh'), '#!/bin/sh\n');
    git(tools, ['add', '.']);
    commit(tools, 'tools');
    writeFileSync(join(tools, '.env'), 'OS_PASSWORD=hunter2\n');
    writeFileSync(join(tools, 'deploy.key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n');
    const lp = launchpad();
    const run = await runBundle('build', remoteInputs(dir), lp.env());
    expect(run.status).toBe(0);
    expect(sentFiles(lp).filter((f) => f.startsWith('tools/'))).toEqual([]);
    expect(run.stdout).toMatch(/not sent, as git does not track them: .*tools\/\.env/);
  });

  it('a clone committed into the project (a gitlink) sends what it tracks, never what its .gitignore leaves out', async () => {
    const { dir } = checkout();
    const tools = join(dir, 'tools');
    mkdirSync(tools);
    git(tools, ['init', '--quiet']);
    writeFileSync(join(tools, '.gitignore'), '.env\ndeploy.key\n');
    writeFileSync(join(tools, 'run.sh'), '#!/bin/sh\n');
    git(tools, ['add', '.']);
    commit(tools, 'tools');
    git(dir, ['add', 'tools']);
    commit(dir, 'tools as a gitlink');
    writeFileSync(join(tools, '.env'), 'OS_PASSWORD=hunter2\n');
    writeFileSync(join(tools, 'deploy.key'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n');
    const lp = launchpad();
    const run = await runBundle('build', remoteInputs(dir), lp.env());
    expect(run.stdout).not.toContain('::error::');
    expect(
      sentFiles(lp)
        .filter((f) => f.startsWith('tools/'))
        .sort(),
    ).toEqual(['tools/.gitignore', 'tools/run.sh']);
  });

  it('untracked credentials left in the workspace stay there; what launchpad-include names goes', async () => {
    const { dir } = checkout();
    const secrets = ['.env', 'credentials.json', 'id_rsa', 'gha-creds-5f2a.json'];
    for (const f of secrets) writeFileSync(join(dir, f), 'secret\n');
    writeFileSync(join(dir, 'generated.txt'), 'made by an earlier step\n');
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(dir, { 'launchpad-include': 'generated.txt' }),
      lp.env(),
    );
    expect(run.stdout).not.toContain('::error::');
    const sent = sentFiles(lp);
    for (const f of secrets) expect(sent).not.toContain(f);
    expect(sent).toContain('generated.txt');
    expect(run.summary).toMatch(
      /<td>generated\.txt<\/td><td>[\d.]+ (B|KiB)<\/td><td>launchpad-include<\/td>/,
    );
  });

  it.each([
    ['config/deploy.pem', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n', 'a private key'],
    ['.env', 'OS_PASSWORD=x\n', 'an environment file'],
    ['keys/id_ed25519', 'x\n', 'an SSH private key'],
    [
      'lp.cfg',
      '[1]\nconsumer_key = x\naccess_token = y\naccess_secret = z\n',
      'launchpadlib credentials',
    ],
  ])(
    'a tracked %s is refused before anything is uploaded, saying how to allow it',
    async (path, content, why) => {
      const dir = committed((d) => {
        mkdirSync(join(d, path, '..'), { recursive: true });
        writeFileSync(join(d, path), content);
      });
      const lp = launchpad();
      const run = await runBundle('build', remoteInputs(dir), lp.env());
      expect(run.status).toBe(1);
      expect(run.stdout).toContain(
        `::error::A remote build would send a file that looks like credentials to Launchpad, where the project is public: ${path} (${why}). Remove it from the repository (and revoke what leaked), or, if it is not secret, list it in 'launchpad-allow'.`,
      );
      expect(lp.pushed()).toEqual([]);
      expect(lp.requests()).toEqual([]);
    },
  );

  it('a tracked file that only looks like one goes when launchpad-allow names it; .env.example is not one', async () => {
    const dir = committed((d) => {
      writeFileSync(join(d, 'test-ca.pem'), '-----BEGIN EC PRIVATE KEY-----\nfor the tests\n');
      writeFileSync(join(d, '.env.example'), 'OS_PASSWORD=\n');
    });
    const lp = launchpad();
    const run = await runBundle(
      'build',
      remoteInputs(dir, { 'launchpad-allow': 'test-ca.pem' }),
      lp.env(),
    );
    expect(run.stdout).not.toContain('::error::');
    expect(sentFiles(lp)).toEqual(expect.arrayContaining(['test-ca.pem', '.env.example']));
  });

  it.each([
    ['pull_request_target', {}],
    ['workflow_run', {}],
    ['issue_comment', {}],
    ['pull_request', {}],
    ['push', { repository: { fork: true, full_name: 'someone/glance' } }],
  ])('refuses %s (payload %j) before anything reaches Launchpad', async (event, payload) => {
    const { dir } = checkout();
    const lp = launchpad();
    const eventFile = join(tempDir(), 'event.json');
    writeFileSync(eventFile, JSON.stringify(payload));
    const run = await runBundle(
      'build',
      remoteInputs(dir),
      lp.env({ GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: eventFile }),
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /::error::A remote build \(it uploads the project to Launchpad with its credentials\) does not run (for|in a fork)/,
    );
    expect(lp.pushed()).toEqual([]);
    expect(lp.requests()).toEqual([]);
  });

  /** Starts a 60-second remote build, and calls `then` once snapcraft is running. */
  async function cancelled(
    then: (action: import('node:child_process').ChildProcess, snapcraftPid: number) => void,
    runnerTemp: string,
  ) {
    const { dir } = checkout();
    const lp = launchpad();
    let snapcraftPid = 0;
    const run = await runBundle(
      'build',
      remoteInputs(dir),
      lp.env({ RUNNER_TEMP: runnerTemp, STANDIN_LAUNCHPAD_SECONDS: '60' }),
      {
        started: (action) => {
          const poll = setInterval(() => {
            const scratch = existsSync(runnerTemp)
              ? readdirSync(runnerTemp).find((e) => e.startsWith('osa-remote-'))
              : undefined;
            const pidFile = scratch && join(runnerTemp, scratch, 'snapcraft.pid');
            if (!pidFile || !existsSync(pidFile) || lp.requests().length === 0) return;
            clearInterval(poll);
            snapcraftPid = Number(readFileSync(pidFile, 'utf8'));
            then(action, snapcraftPid);
          }, 50);
        },
      },
    );
    return { run, snapcraftPid, lp };
  }
  // Running: in the process table and not a zombie (here no init may reap what the action left).
  const alive = (pid: number): boolean => {
    const stat = `/proc/${pid}/stat`;
    return existsSync(stat) && readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
  };
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('a cancel (the runner’s SIGINT or SIGTERM) stops snapcraft and removes the tree and the credentials', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const runnerTemp = tempDir('osa-runner-temp-');
      const started = Date.now();
      const { run, snapcraftPid, lp } = await cancelled(
        (action) => action.kill(signal),
        runnerTemp,
      );
      expect(Date.now() - started).toBeLessThan(30000);
      expect(run.status).toBe(signal === 'SIGINT' ? 130 : 143);
      await settle();
      expect(snapcraftPid).toBeGreaterThan(1);
      expect(alive(snapcraftPid)).toBe(false);
      expect(readdirSync(runnerTemp).filter((e) => e.startsWith('osa-remote-'))).toEqual([]);
      expect(existsSync(lp.requests()[0]!.credentialsFile)).toBe(false);
    }
  }, 90000);

  it('killed outright (SIGKILL), the post step stops snapcraft and removes what is left', async () => {
    const runnerTemp = tempDir('osa-runner-temp-');
    const { snapcraftPid, lp } = await cancelled((action) => action.kill('SIGKILL'), runnerTemp);
    await settle();
    // SIGKILL gives the action no chance: snapcraft runs on, the credentials are on disk.
    expect(alive(snapcraftPid)).toBe(true);
    expect(existsSync(lp.requests()[0]!.credentialsFile)).toBe(true);
    const post = await runBundle('build', {}, { RUNNER_TEMP: runnerTemp, STATE_isPost: 'true' });
    expect(post.status).toBe(0);
    expect(post.stdout).toMatch(/stopped snapcraft \(process group \d+\)/);
    await settle();
    expect(alive(snapcraftPid)).toBe(false);
    expect(readdirSync(runnerTemp).filter((e) => e.startsWith('osa-remote-'))).toEqual([]);
    // A post step with nothing to do says nothing and never fails.
    const again = await runBundle('build', {}, { RUNNER_TEMP: runnerTemp, STATE_isPost: 'true' });
    expect(again.status).toBe(0);
  }, 90000);
});
