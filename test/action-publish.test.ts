import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { listFiles, ROOT, tempDir } from './helpers/fixtures.js';
import { runBundle, visibleOutput } from './helpers/run-action.js';
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
  return runBundle(
    'publish',
    { 'retry-delay': '0', ...inputs },
    {
      PATH: `${join(ROOT, 'test/standins')}:${process.env.PATH}`,
      STANDIN_ARGV_LOG: argvLog,
      RUNNER_TEMP: runnerTemp,
      GITHUB_EVENT_NAME: 'push',
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

  describe('refuses, with one error and no store request', () => {
    const cases: [string, Record<string, string>, Record<string, string>, RegExp][] = [
      [
        'a pull request',
        {},
        { GITHUB_EVENT_NAME: 'pull_request' },
        /publish does not run for pull_request events/,
      ],
      [
        'pull_request_target',
        {},
        { GITHUB_EVENT_NAME: 'pull_request_target' },
        /publish does not run for pull_request_target/,
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
