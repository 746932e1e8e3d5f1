import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listFiles, ROOT, tempDir } from './helpers/fixtures.js';
import { runBundle, visibleOutput } from './helpers/run-action.js';
import { startGitHubApi } from './helpers/github-api.js';
import { standinMachine } from './helpers/machine.js';
import { startSnapStore } from './helpers/snap-store.js';
import { makeBuild } from './helpers/snaps.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';

const withSnaps = describeWhen(SQUASHFS, 'publish action tests with real .snap files');

// What `snapcraft export-login` prints is a base64 blob; this one is fake but shaped alike.
const CREDENTIALS = Buffer.from(
  '{"t":"u1-macaroon","v":{"r":"MDAxY2xvY2F0aW9uIG5ldmVyLXByaW50","d":"discharge"}}',
).toString('base64');
let store: Awaited<ReturnType<typeof startSnapStore>>;

beforeAll(async () => {
  store = await startSnapStore({
    accounts: { [CREDENTIALS]: { snaps: ['keystone', 'glance'] } },
    tracks: { keystone: ['latest', '2025.1'], glance: ['latest', '2026.1'] },
  });
});
afterAll(async () => store?.stop());

/** Runs the publish bundle with the stand-in snapcraft first on PATH and the store's URLs. */
function publishRun(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const argvLog = join(tempDir('osa-argv-'), 'argv.log');
  writeFileSync(argvLog, '');
  const runnerTemp = tempDir('osa-runner-temp-');
  const event = join(runnerTemp, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({ repository: { fork: false, full_name: 'openstack-snaps/snap-keystone' } }),
  );
  return runBundle(
    'publish',
    { 'retry-delay': '0', ...inputs },
    {
      PATH: `${join(ROOT, 'test/standins')}:${process.env.PATH}`,
      STANDIN_ARGV_LOG: argvLog,
      RUNNER_TEMP: runnerTemp,
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: event,
      GITHUB_REF_NAME: 'stable/2025.1',
      ...store.env,
      ...env,
    },
  ).then((run) => ({ ...run, argv: readFileSync(argvLog, 'utf8'), runnerTemp }));
}

withSnaps('the publish action, from its bundle (stand-in snapcraft, store on 127.0.0.1)', () => {
  it('publishes a push to stable/2025.1 on 2025.1/edge, and the credentials show up nowhere', async () => {
    const files = makeBuild('keystone', '27.0.0', ['amd64', 'arm64'], { build: 'bundle' });
    const run = await publishRun({
      snaps: `${dirname(files[0]!)}/*.snap`,
      'store-credentials': CREDENTIALS,
    });
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    expect(run.outputs).toMatchObject({
      'snap-name': 'keystone',
      channel: '2025.1/edge',
      released: 'true',
    });
    const revisions = JSON.parse(run.outputs.revisions!) as Record<string, number>;
    expect(Object.keys(revisions)).toEqual(['amd64', 'arm64']);
    expect(store.released('keystone')).toMatchObject({
      '2025.1/edge|amd64': revisions.amd64,
      '2025.1/edge|arm64': revisions.arm64,
    });
    expect(run.summary).toContain('keystone → 2025.1/edge (released)');
    expect(run.argv).toMatch(/^upload .*keystone_27\.0\.0_amd64\.snap$/m);

    const visible = [
      ...visibleOutput(run),
      run.argv,
      ...listFiles(run.runnerTemp).map((f) => readFileSync(join(run.runnerTemp, f), 'latin1')),
    ];
    for (const text of visible) expect(text.includes(CREDENTIALS)).toBe(false);
    expect(run.stdout).toContain(`::add-mask::${CREDENTIALS}`);
    // They did reach the store, through the environment only.
    expect(store.log.some((r) => r.authorization === `Macaroon ${CREDENTIALS}`)).toBe(true);
  });

  it('promotes the revisions of a passing build from edge to beta', async () => {
    const files = makeBuild('glance', '30.0.0', ['amd64'], { build: 'promote' });
    const published = await publishRun(
      { snaps: files[0]!, 'store-credentials': CREDENTIALS },
      { GITHUB_REF_NAME: 'stable/2026.1' },
    );
    expect(published.outputs.channel).toBe('2026.1/edge');
    const promoted = await publishRun(
      {
        'promote-revisions': published.outputs.revisions!,
        'snap-name': 'glance',
        risk: 'beta',
        'store-credentials': CREDENTIALS,
      },
      { GITHUB_REF_NAME: 'stable/2026.1' },
    );
    expect(promoted.status).toBe(0);
    expect(promoted.outputs.channel).toBe('2026.1/beta');
    const revision = (JSON.parse(published.outputs.revisions!) as Record<string, number>).amd64;
    expect(store.released('glance')).toMatchObject({
      '2026.1/edge|amd64': revision,
      '2026.1/beta|amd64': revision,
    });
  });

  it('says what it would upload in a dry run, without credentials', async () => {
    const files = makeBuild('keystone', '27.1.0', ['amd64', 'ppc64el']);
    const before = store.log.length;
    const run = await publishRun(
      { snaps: files.join('\n'), 'dry-run': 'true' },
      { GITHUB_REF_NAME: 'master' },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /would upload .*keystone_27\.1\.0_ppc64el\.snap \(keystone 27\.1\.0 ppc64el\) and release it to latest\/edge/,
    );
    expect(run.summary).toContain('Dry run: keystone → latest/edge');
    expect(store.log.length).toBe(before);
  });

  it('dry-runs anywhere, a pull request included: it touches no store', async () => {
    const files = makeBuild('keystone', '27.1.1', ['amd64']);
    const run = await publishRun(
      { snaps: files[0]!, 'dry-run': 'true' },
      { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: '' },
    );
    expect(run.stdout).not.toContain('::error::');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.outputs.result!)).toMatchObject({ status: 'dry-run' });
  });

  it("installs snapcraft for the snaps' base on a GitHub-hosted runner, and says so", async () => {
    const machine = standinMachine();
    const files = makeBuild('keystone', '27.4.0', ['amd64']);
    const run = await publishRun(
      { snaps: files[0]!, 'store-credentials': CREDENTIALS },
      {
        RUNNER_ENVIRONMENT: 'github-hosted',
        PATH: `${machine.bin}:${join(ROOT, 'test/standins')}:${process.env.PATH}`,
        MACHINE_LOG: machine.log,
      },
    );
    expect(run.status).toBe(0);
    // The test snaps are core24: the current stable snapcraft uploads them.
    expect(machine.commands()).toEqual([
      'snap wait system seed.loaded',
      'snap install snapcraft --classic --channel=latest/stable',
    ]);
    expect(run.stdout).toContain('Prepare the runner (snapcraft latest/stable)');
    expect(run.outputs.released).toBe('true');
  });

  it('uploads nothing when the branch has moved past the commit this run built', async () => {
    const built = 'a'.repeat(40);
    const newer = 'b'.repeat(40);
    const token = 'ghs_publishGuardToken0123';
    let tip = newer;
    const api = await startGitHubApi(
      (req) =>
        req.path === '/repos/openstack-snaps/snap-keystone/git/ref/heads/stable/2025.1'
          ? { status: 200, body: { ref: 'refs/heads/stable/2025.1', object: { sha: tip } } }
          : undefined,
      { token },
    );
    try {
      const files = makeBuild('keystone', '27.5.0', ['amd64']);
      const before = store.log.length;
      const env = { GITHUB_REPOSITORY: 'openstack-snaps/snap-keystone', GITHUB_API_URL: api.url };
      const inputs = { snaps: files[0]!, 'store-credentials': CREDENTIALS, sha: built };
      const moved = await publishRun({ ...inputs, 'github-token': token }, env);
      expect(moved.status).toBe(0);
      expect(moved.stdout).toContain(
        `::warning::Not published: stable/2025.1 has moved on to ${newer.slice(0, 12)} since this run built ${built.slice(0, 12)}: the newer run publishes.`,
      );
      expect(JSON.parse(moved.outputs.result!)).toMatchObject({ status: 'superseded' });
      expect(moved.outputs.released).toBe('false');
      expect(store.log.length).toBe(before);

      tip = built;
      const current = await publishRun({ ...inputs, 'github-token': token }, env);
      expect(current.status).toBe(0);
      expect(current.outputs.released).toBe('true');
      expect(api.requests.filter((r) => r.path.includes('/git/ref/'))).toHaveLength(3);

      // The guard reads the branch with the token; a stand-in that checks it refuses without.
      const wrong = await publishRun({ ...inputs, 'github-token': 'ghs_wrong' }, env);
      expect(wrong.status).toBe(1);
      expect(wrong.stdout).toMatch(/::error::.*Bad credentials/);
    } finally {
      await api.stop();
    }
  });

  describe('refuses, with one error and no store request', () => {
    const cases: [string, Record<string, string>, Record<string, string>, RegExp][] = [
      ...[
        'pull_request',
        'pull_request_target',
        'merge_group',
        'workflow_run',
        'pull_request_review',
        'pull_request_review_comment',
        'issue_comment',
      ].map((event): [string, Record<string, string>, Record<string, string>, RegExp] => [
        `a ${event} event`,
        {},
        { GITHUB_EVENT_NAME: event },
        new RegExp(`publish does not run for '${event}' events: only push, workflow_dispatch`),
      ]),
      [
        'an unreadable event payload',
        {},
        { GITHUB_EVENT_PATH: '/nonexistent/event.json' },
        /publish cannot read the event payload \(GITHUB_EVENT_PATH\)/,
      ],
      [
        'a snap name the store would not have',
        { 'snap-name': 'Keystone;reboot' },
        {},
        /'snap-name' \('Keystone;reboot'\) is not a snap name/,
      ],
      [
        'a snap name that argv would read as an option',
        { 'snap-name': '--help', 'promote-revisions': '{"amd64": 1}' },
        {},
        /'snap-name' \('--help'\) is not a snap name/,
      ],
      [
        'a snap name without a letter',
        { 'snap-name': '123', 'promote-revisions': '{"amd64": 1}' },
        {},
        /'snap-name' \('123'\) is not a snap name/,
      ],
      [
        'a promotion revision that is not a positive whole number',
        { 'promote-revisions': '{"amd64": 1e21}', 'snap-name': 'keystone' },
        {},
        /'promote-revisions' must be JSON of architecture to revision \(a positive whole number\)/,
      ],
      [
        'missing credentials',
        { 'store-credentials': '' },
        {},
        /No store credentials: pass secrets\.SNAPCRAFT_STORE_CREDENTIALS/,
      ],
      [
        'a branch with shell characters',
        {},
        { GITHUB_REF_NAME: 'stable/2025.1$(reboot)' },
        /not a branch or tag name/,
      ],
      [
        'no snaps',
        { snaps: '/nonexistent/*.snap' },
        {},
        /No file matches '\/nonexistent\/\*\.snap'/,
      ],
    ];
    it.each(cases)('%s', async (_name, inputs, env, message) => {
      const files = makeBuild('keystone', '27.2.0', ['amd64']);
      const before = store.log.length;
      const run = await publishRun(
        { snaps: files[0]!, 'store-credentials': CREDENTIALS, ...inputs },
        env,
      );
      expect(run.status).toBe(1);
      const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error::'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(store.log.length).toBe(before);
      expect(run.argv).toBe('');
    });

    it('a fork', async () => {
      const event = join(tempDir(), 'event.json');
      writeFileSync(
        event,
        JSON.stringify({ repository: { fork: true, full_name: 'someone/snap-keystone' } }),
      );
      const run = await publishRun(
        { snaps: makeBuild('keystone', '27.3.0', ['amd64'])[0]!, 'store-credentials': CREDENTIALS },
        { GITHUB_EVENT_PATH: event },
      );
      expect(run.status).toBe(1);
      expect(run.stdout).toMatch(
        /::error::publish does not run in a fork \(someone\/snap-keystone\)/,
      );
    });
  });
});
