import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { runBundle } from './helpers/run-action.js';
import { describeWhen, SQUASHFS } from './helpers/system.js';
import { globMatcher } from '../src/platform/index.js';
import { serveRequirements } from './helpers/requirements-server.js';
import {
  asString,
  evalToken,
  eventsOf,
  get,
  items,
  keys,
  loadWorkflow,
  simulate,
  sourceOf,
  type JobRun,
  type Js,
  type Simulation,
  type StepContext,
  type StepModel,
  type WorkflowFile,
} from '../src/check/workflow-sim.js';

const TOOLKIT = 'openstack-snap-actions/openstack-snap-actions';
const CALLED_REF = `${TOOLKIT}/.github/workflows/snap.yml@v0`;
/** The commit the caller's `@v0` (or a full SHA) resolves to when the run starts. */
const PIN = '5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f';
const HEAD = 'c0ffee0000000000000000000000000000000001';
const STORE_SECRET = 'store-credentials-never-elsewhere';
const MIRROR_SECRET = 'mirror-token-never-elsewhere';
const DISPATCH_SECRET = 'dispatch-token-never-elsewhere';
const LAUNCHPAD_SECRET =
  '[1]\nconsumer_key = snapcraft\naccess_token = launchpad-token-only-remote-legs\n';

/**
 * Inputs of the third-party actions the workflows use, from their action.yml at the pinned
 * versions (actions/checkout v5.0.0, upload-artifact v5.0.0, download-artifact v5.0.0,
 * setup-node v5.0.0); the toolkit's own actions are read from actions/<name>/action.yml.
 */
const THIRD_PARTY: Record<string, { inputs: string[]; required: string[] }> = {
  'actions/checkout': {
    inputs: [
      'repository',
      'ref',
      'token',
      'ssh-key',
      'ssh-known-hosts',
      'ssh-strict',
      'ssh-user',
      'persist-credentials',
      'path',
      'clean',
      'filter',
      'sparse-checkout',
      'sparse-checkout-cone-mode',
      'fetch-depth',
      'fetch-tags',
      'show-progress',
      'lfs',
      'submodules',
      'set-safe-directory',
      'github-server-url',
    ],
    required: [],
  },
  'actions/upload-artifact': {
    inputs: [
      'name',
      'path',
      'if-no-files-found',
      'retention-days',
      'compression-level',
      'overwrite',
      'include-hidden-files',
    ],
    required: ['path'],
  },
  'actions/download-artifact': {
    inputs: [
      'name',
      'artifact-ids',
      'path',
      'pattern',
      'merge-multiple',
      'github-token',
      'repository',
      'run-id',
    ],
    required: [],
  },
  'actions/setup-node': {
    inputs: [
      'node-version',
      'node-version-file',
      'architecture',
      'check-latest',
      'registry-url',
      'scope',
      'token',
      'cache',
      'package-manager-cache',
      'cache-dependency-path',
      'mirror',
      'mirror-token',
      'always-auth',
    ],
    required: [],
  },
};

interface ActionMeta {
  inputs: string[];
  required: string[];
}

/** The action a `uses:` names, as a name this suite knows its inputs for. */
function actionName(uses: string): string {
  const toolkit =
    /^(?:\$|openstack-snap-actions\/openstack-snap-actions)\/actions\/([\w-]+)(?:@.*)?$/.exec(uses);
  if (toolkit) return `toolkit/${toolkit[1]}`;
  if (uses === './actions/build' || uses.startsWith('./actions/'))
    return `toolkit/${uses.slice(10)}`;
  return uses.replace(/@.*$/, '');
}

function actionMeta(name: string): ActionMeta {
  if (name.startsWith('toolkit/')) {
    const meta = parse(
      readFileSync(join(ROOT, 'actions', name.slice(8), 'action.yml'), 'utf8'),
    ) as {
      inputs?: Record<string, { required?: boolean; default?: string }>;
    };
    const inputs = meta.inputs ?? {};
    return {
      inputs: Object.keys(inputs),
      required: Object.entries(inputs)
        .filter(([, i]) => i.required && i.default === undefined)
        .map(([k]) => k),
    };
  }
  const known = THIRD_PARTY[name];
  if (!known) throw new Error(`no inputs known for ${name}`);
  return known;
}

interface Scenario {
  readonly name: string;
  readonly event: string;
  readonly ref: string;
  readonly baseRef?: string;
  readonly payload?: Record<string, Js>;
  readonly inputs?: Record<string, Js>;
  /** Fork pull requests get no secrets. */
  readonly secrets?: Record<string, string>;
  readonly failBuild?: string[];
  /** Build legs cancelled in their build step (a time limit reached). */
  readonly cancelBuild?: string[];
  readonly failSmoke?: string[];
  /** The run is cancelled while this job runs. */
  readonly cancelDuring?: string;
  /** The example caller with these lines uncommented (its remote-arches block). */
  readonly remote?: boolean;
  /** Extra `with:` lines for snap.yml in the caller. */
  readonly callerWith?: string;
  /**
   * The repository's deployment environments (default: the example's snap-store and launchpad,
   * holding the credentials, deployable from the release branches only).
   */
  readonly environments?: Simulation['environments'];
  /** The snap repo checked out (default: snap-keystone's master). */
  readonly project?: string;
  /**
   * Build legs run by the real build bundle (the stand-in snapcraft on PATH), with
   * openstack/requirements at this URL instead of opendev's: the only input changed.
   */
  readonly realBuild?: { readonly arches: string[]; readonly requirementsRepo: string };
}

interface Outcome {
  readonly triggered: boolean;
  readonly jobs: Map<string, JobRun>;
  readonly steps: (StepContext & { ran: true })[];
  readonly plan?: Record<string, string>;
  readonly realBuilds: Awaited<ReturnType<typeof runBundle>>[];
}

const caller = loadWorkflow(join(ROOT, 'examples/workflows/snap-repo.yml'));
// openstack/requirements for the plan, which resolves the constraints commit once for every leg
// (served on 127.0.0.1 in place of opendev's: the only input changed).
let planRequirements: Awaited<ReturnType<typeof serveRequirements>>;
beforeAll(async () => {
  planRequirements = await serveRequirements();
});
afterAll(async () => planRequirements?.stop());
/** The example caller as a heavy snap uses it: ppc64el on Launchpad (its commented lines on). */
function remoteCaller(extra = ''): WorkflowFile {
  const text = readFileSync(join(ROOT, 'examples/workflows/snap-repo.yml'), 'utf8').replace(
    'launchpad-accept-public-upload: true',
    `launchpad-accept-public-upload: true${extra}`,
  );
  if (!text.includes('\n      remote-arches: ppc64el'))
    throw new Error('the example lost its remote-arches lines');
  return loadWorkflow('snap-repo-remote.yml', text);
}
/** The deployment branches of the example's environments: the release branches. */
const RELEASE_REFS = [
  'refs/heads/master',
  'refs/heads/main',
  'refs/heads/stable/**',
  'refs/heads/unmaintained/**',
];
/** Where the example keeps the credentials: nowhere but these environments. */
const ENVIRONMENTS = {
  'snap-store': { secrets: { SNAPCRAFT_STORE_CREDENTIALS: STORE_SECRET }, refs: RELEASE_REFS },
  launchpad: { secrets: { LAUNCHPAD_CREDENTIALS: LAUNCHPAD_SECRET }, refs: RELEASE_REFS },
};
const called = loadWorkflow(join(ROOT, '.github/workflows/snap.yml'));
/** A core24 service snap built for amd64, arm64 and ppc64el (test/snaps/core24-glance, ppc64el for s390x). */
function core24Glance(): string {
  const dir = tempDir('osa-sim-core24-');
  cpSync(join(ROOT, 'test/snaps/core24-glance'), dir, { recursive: true });
  const file = join(dir, 'snap/snapcraft.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('  s390x:', '  ppc64el:'));
  if (!readFileSync(file, 'utf8').includes('  ppc64el:')) throw new Error('no ppc64el');
  return dir;
}
const project = core24Glance();

/** GitHub's branch filter globs: `*` within a segment, `**` across them. */
function branchMatches(patterns: string[], branch: string): boolean {
  return patterns.some((p) => globMatcher(p, 'a branch filter')(branch));
}

async function triggers(file: WorkflowFile, event: string, ref: string): Promise<boolean> {
  const events = await eventsOf(file);
  if (!(event in events)) return false;
  const filter = events[event] as { branches?: string[] } | null;
  if (event === 'push' && filter?.branches)
    return branchMatches(filter.branches, ref.replace(/^refs\/heads\//, ''));
  return true;
}

/** Runs a scenario through the example caller and snap.yml; plan and matrix run for real. */
async function run(scenario: Scenario, options: { direct?: boolean } = {}): Promise<Outcome> {
  const workspaceRoot = tempDir('osa-sim-');
  const refName = scenario.ref.replace(/^refs\/(heads|tags)\//, '');
  const payload = {
    repository: { fork: false, full_name: 'openstack-snaps/snap-keystone' },
    ...scenario.payload,
  };
  const eventFile = join(workspaceRoot, 'event.json');
  writeFileSync(eventFile, JSON.stringify(payload));
  const github: Record<string, Js> = {
    event_name: scenario.event,
    event: payload,
    ref: scenario.ref,
    ref_name: refName,
    base_ref: scenario.baseRef ?? '',
    sha: HEAD,
    repository: 'openstack-snaps/snap-keystone',
    repository_owner: 'openstack-snaps',
    server_url: 'https://github.com',
    workflow: 'Snap',
    token: '***github-token***',
  };
  const triggered = options.direct || (await triggers(caller, scenario.event, scenario.ref));
  const steps: Outcome['steps'] = [];
  const realBuilds: Outcome['realBuilds'] = [];
  let plan: Record<string, string> | undefined;
  // workflow_dispatch inputs as GitHub fills them: the caller's defaults, typed, then the given.
  const definitions = get(get(get(caller.root, 'on'), 'workflow_dispatch'), 'inputs');
  const dispatchDefaults = Object.fromEntries(
    keys(definitions).map((k) => {
      const definition = get(definitions, k);
      const value = sourceOf(get(definition, 'default'));
      return [k, sourceOf(get(definition, 'type')) === 'boolean' ? value === 'true' : value];
    }),
  );
  const model = async (step: StepContext): Promise<StepModel> => {
    steps.push({ ...step, ran: true });
    const leg = step.leg as { arch?: string };
    const workspace = join(workspaceRoot, step.job.replace(/\//g, '_'), String(leg.arch ?? ''));
    mkdirSync(workspace, { recursive: true });
    if (step.uses?.startsWith('actions/checkout@')) {
      const path = join(workspace, step.with.path || '.');
      if (step.with.repository === TOOLKIT) {
        // The toolkit, at whatever the workflow asked for: only the pinned commit is this tree.
        if (step.with.ref === PIN)
          cpSync(join(ROOT, 'actions'), join(path, 'actions'), { recursive: true });
      } else if (step.with.path === 'snap') {
        cpSync(scenario.project ?? project, path, { recursive: true });
      }
      return {};
    }
    if (step.uses?.startsWith('./')) {
      // A local action runs only if this job checked its directory out (as the runner needs).
      if (!step.localAction || !existsSync(join(workspace, step.uses, 'action.yml')))
        return { outcome: 'failure' };
    }
    const name = step.uses ? actionName(step.uses) : null;
    if (name === 'toolkit/plan' || name === 'toolkit/matrix') {
      const inputs =
        name === 'toolkit/matrix'
          ? { ...step.with, project: join(workspace, step.with.project!) }
          : {
              ...step.with,
              'requirements-repo': step.with['requirements-repo'] ? planRequirements.url : '',
            };
      const result = await runBundle(name.slice(8), inputs, {
        GITHUB_EVENT_NAME: scenario.event,
        GITHUB_REF_NAME: refName,
        GITHUB_BASE_REF: scenario.baseRef ?? '',
        GITHUB_EVENT_PATH: eventFile,
      });
      if (name === 'toolkit/plan') plan = result.outputs;
      return { outcome: result.status === 0 ? 'success' : 'failure', outputs: result.outputs };
    }
    if (step.run?.includes('rev-parse HEAD')) return { outputs: { sha: HEAD } };
    if (name === 'toolkit/build' && scenario.realBuild?.arches.includes(leg.arch ?? '')) {
      const result = await runBundle(
        'build',
        {
          ...step.with,
          project: join(workspace, step.with.project!),
          'requirements-repo': scenario.realBuild.requirementsRepo,
        },
        {
          PATH: `${join(ROOT, 'test/standins')}:${process.env.PATH}`,
          HOME: tempDir('osa-home-'),
          GITHUB_EVENT_NAME: scenario.event,
          GITHUB_REF_NAME: refName,
          GITHUB_EVENT_PATH: eventFile,
        },
      );
      realBuilds.push(result);
      return { outcome: result.status === 0 ? 'success' : 'failure', outputs: result.outputs };
    }
    if (name === 'toolkit/build') {
      // The action refuses a remote build without credentials or the opt-in (src/build/remote.ts).
      const remoteRefused =
        step.with.mode === 'remote' &&
        (!step.with['launchpad-credentials'] ||
          step.with['launchpad-accept-public-upload'] !== 'true' ||
          !/^\d+$/.test(step.with['launchpad-timeout'] ?? ''));
      const failed = remoteRefused || scenario.failBuild?.includes(leg.arch ?? '');
      if (scenario.cancelBuild?.includes(leg.arch ?? ''))
        return { outcome: 'cancelled', outputs: { 'logs-dir': `/tmp/logs/${leg.arch}` } };
      return {
        outcome: failed ? 'failure' : 'success',
        outputs: failed
          ? { 'logs-dir': `/tmp/logs/${leg.arch}` }
          : { snaps: `/tmp/snaps/${leg.arch}/keystone_27_${leg.arch}.snap`, 'logs-dir': '' },
      };
    }
    if (name === 'toolkit/smoke-test') {
      return {
        outcome: scenario.failSmoke?.includes(leg.arch ?? '') ? 'failure' : 'success',
        outputs: { junit: '/tmp/junit.xml' },
      };
    }
    if (name === 'toolkit/publish')
      return {
        outputs: {
          revisions: '{"amd64":11,"arm64":12,"ppc64el":13}',
          released: 'true',
          'snap-name': 'keystone',
          channel: '2025.1/edge',
        },
      };
    if (step.run && step.job.endsWith('/results')) {
      // The results job's own script decides, run as the runner would.
      const summary = join(workspace, 'summary.md');
      const result = spawnSync('bash', ['-e', '-c', step.run], {
        env: { ...process.env, ...step.env, GITHUB_STEP_SUMMARY: summary },
        encoding: 'utf8',
      });
      return {
        outcome: result.status === 0 ? 'success' : 'failure',
        outputs: { stdout: result.stdout },
      };
    }
    return {};
  };
  if (!triggered) return { triggered, jobs: new Map(), steps, realBuilds };
  const jobs = await simulate({
    caller: options.direct
      ? directCaller
      : scenario.remote
        ? remoteCaller(scenario.callerWith)
        : caller,
    called: { [CALLED_REF]: called },
    github,
    inputs: { ...dispatchDefaults, ...scenario.inputs },
    // Repository and organisation secrets: none, as the example keeps its credentials.
    secrets: scenario.secrets ?? {},
    environments: scenario.environments ?? ENVIRONMENTS,
    calledSha: PIN,
    cancelDuring: scenario.cancelDuring,
    model,
  });
  return { triggered, jobs, steps, plan, realBuilds };
}

/** A caller that calls snap.yml for any event (to see what snap.yml itself does with it). */
const directCaller = loadWorkflow(
  'direct.yml',
  `on: [workflow_run]\njobs:\n  snap:\n    uses: ${CALLED_REF}\n    secrets:\n      SNAPCRAFT_STORE_CREDENTIALS: \${{ secrets.SNAPCRAFT_STORE_CREDENTIALS }}\n`,
);

const push = (branch: string, extra: Partial<Scenario> = {}): Scenario => ({
  name: `push to ${branch}`,
  event: 'push',
  ref: `refs/heads/${branch}`,
  ...extra,
});
const pr = (fork: boolean): Scenario => ({
  name: fork ? 'pull request from a fork' : 'pull request in the repo',
  event: 'pull_request',
  ref: 'refs/pull/12/merge',
  baseRef: 'stable/2025.1',
  payload: { pull_request: { number: 12, head: { repo: { fork } } } },
  secrets: {},
});
const dispatch = (branch: string, publish: boolean): Scenario => ({
  name: `workflow_dispatch of ${branch}, publish ${publish}`,
  event: 'workflow_dispatch',
  ref: 'refs/heads/main',
  inputs: { branch, publish },
});

const publishes = (o: Outcome) => o.jobs.get('snap/publish')?.result === 'success';

/** The properties every scenario keeps, whatever the event. */
function expectHouseProperties(o: Outcome, scenario: Scenario): void {
  for (const step of o.steps) {
    // Every with: key exists in the action's action.yml, and every required input is given.
    if (step.uses) {
      const meta = actionMeta(actionName(step.uses));
      for (const key of Object.keys(step.with))
        expect({ uses: step.uses, key, known: meta.inputs.includes(key) }).toEqual({
          uses: step.uses,
          key,
          known: true,
        });
      for (const key of meta.required)
        expect({ uses: step.uses, key, given: !!step.with[key] }).toEqual({
          uses: step.uses,
          key,
          given: true,
        });
    }
    // No secret reaches a job other than publish.
    const seen = JSON.stringify([step.with, step.env]);
    if (!step.job.endsWith('/publish'))
      expect({ job: step.job, leaks: seen.includes(STORE_SECRET) }).toEqual({
        job: step.job,
        leaks: false,
      });
    // Launchpad's credentials reach only the build step of a remote leg.
    const remoteBuild =
      step.job.endsWith('/build') &&
      (step.leg as { mode?: string }).mode === 'remote' &&
      step.uses === '$/actions/build';
    if (!remoteBuild)
      expect({ job: step.job, uses: step.uses, leaks: seen.includes('launchpad-token') }).toEqual({
        job: step.job,
        uses: step.uses,
        leaks: false,
      });
    // The toolkit's actions come from the commit the caller pinned.
    if (step.uses?.startsWith('$/'))
      expect(step.localAction).toEqual({ dir: '$', repository: TOOLKIT, ref: PIN });
  }
  for (const job of o.jobs.values()) {
    for (const leg of job.legs) {
      // The credentials are in no job's secrets context but the one that runs in their
      // environment: the store's in publish, Launchpad's in a remote build leg.
      const context = Object.values(leg.secrets);
      if (!job.id.endsWith('/publish'))
        expect({ job: job.id, store: context.includes(STORE_SECRET) }).toEqual({
          job: job.id,
          store: false,
        });
      if (!(job.id.endsWith('/build') && leg.matrix.mode === 'remote') && !scenario.secrets)
        expect({ job: job.id, launchpad: context.includes(LAUNCHPAD_SECRET) }).toEqual({
          job: job.id,
          launchpad: false,
        });
      // Every leg builds and publishes the one commit the plan resolved.
      const snapCheckout = leg.steps.find(
        (s) => s.uses?.startsWith('actions/checkout@') && s.with.path === 'snap',
      );
      if (snapCheckout && !job.id.endsWith('/plan')) expect(snapCheckout.with.ref).toBe(HEAD);
      // Every leg reads its constraints at the one requirements commit the plan resolved.
      for (const build of leg.steps.filter((s) => s.ran && s.uses === '$/actions/build'))
        if (o.plan?.constraints === 'true') {
          expect(o.plan['constraints-commit']).toMatch(/^[0-9a-f]{40}$/);
          expect(build.with['constraints-commit']).toBe(o.plan['constraints-commit']);
        }
      // Every job that runs snapcraft installs it (setup is not turned off for the first such step).
      const first = leg.steps.find(
        (s) => s.ran && s.uses && ['toolkit/build', 'toolkit/publish'].includes(actionName(s.uses)),
      );
      if (first) expect(first.with.setup ?? 'auto').not.toBe('false');
      // Every job has a time limit within the hosted runner's six hours.
      if (job.id !== 'snap') expect(Number(leg.timeoutMinutes)).toBeGreaterThan(0);
      expect(Number(leg.timeoutMinutes ?? 0)).toBeLessThanOrEqual(360);
    }
  }
  // Artifact names are unique per arch and may be overwritten (re-runs of failed jobs).
  const uploads = o.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@'));
  const names = uploads.map((s) => s.with.name);
  expect(new Set(names).size).toBe(names.length);
  for (const upload of uploads) expect(upload.with.overwrite).toBe('true');
  // Publish only for trusted release events, never after a failed, cancelled or missing leg.
  const trusted = ['push', 'workflow_dispatch', 'schedule', 'repository_dispatch'].includes(
    scenario.event,
  );
  if (publishes(o)) {
    expect(trusted).toBe(true);
    expect(scenario.cancelDuring).toBeUndefined();
    const build = o.jobs.get('snap/build')!;
    expect(build.result).toBe('success');
    expect(build.legs.every((l) => l.result === 'success')).toBe(true);
    expect(['success', 'skipped']).toContain(o.jobs.get('snap/smoke')!.result);
    expect(o.jobs.get('snap/publish')!.secrets.SNAPCRAFT_STORE_CREDENTIALS).toBe(STORE_SECRET);
  }
}

describe('snap.yml as snap repos call it (examples/workflows/snap-repo.yml), on GitHub’s parser', () => {
  let fixtures: Record<string, Outcome>;
  const scenarios: Scenario[] = [
    pr(true),
    pr(false),
    push('master'),
    push('main'),
    push('stable/2025.1'),
    push('unmaintained/2023.1'),
    push('feature/uwsgi', { name: 'push to feature/uwsgi (not a trigger)' }),
    dispatch('stable/2024.1', true),
    dispatch('stable/2024.1', false),
    dispatch('feature/uwsgi', true),
    {
      name: 'merge_group',
      event: 'merge_group',
      ref: 'refs/heads/gh-readonly-queue/main/pr-12-abc',
      payload: { merge_group: { base_ref: 'refs/heads/main', head_sha: HEAD } },
    },
    { name: 'workflow_run', event: 'workflow_run', ref: 'refs/heads/main' },
    push('stable/2025.1', {
      name: 'push to stable/2025.1, the arm64 build fails',
      failBuild: ['arm64'],
    }),
    push('stable/2025.1', {
      name: 'push to stable/2025.1, cancelled during the builds',
      cancelDuring: 'snap/build',
    }),
    push('stable/2025.1', {
      name: 'push to stable/2025.1, the ppc64el leg reaches its time limit',
      cancelBuild: ['ppc64el'],
    }),
  ];

  beforeAll(async () => {
    fixtures = {};
    for (const scenario of scenarios) fixtures[scenario.name] = await run(scenario);
  }, 240000);

  it.each(scenarios.map((s) => [s.name, s] as const))(
    '%s: the house properties hold',
    (name, scenario) => {
      const o = fixtures[name]!;
      if (o.triggered) expectHouseProperties(o, scenario);
    },
  );

  it('pull requests (in the repo or from a fork) build every arch as its own check, and never publish', () => {
    for (const name of ['pull request from a fork', 'pull request in the repo']) {
      const o = fixtures[name]!;
      expect(o.plan).toMatchObject({ ref: 'stable/2025.1', publish: 'false', constraints: 'true' });
      // ppc64el would take about 8 hours under qemu: not built where the verdict is due in 55
      // minutes (release runs build it on Launchpad); each leg is held to those 55.
      expect(o.jobs.get('snap/build')!.legs.map((l) => [l.name, l.timeoutMinutes])).toEqual([
        ['build amd64', 55],
        ['build arm64', 55],
      ]);
      expect(o.jobs.get('snap/results')!.result).toBe('success');
      expect(o.jobs.get('snap/publish')!.result).toBe('skipped');
    }
    // The credentials are in environments a pull request's ref may not deploy to: inherit hands
    // on no credential, and no job of a pull request runs in an environment.
    for (const name of ['pull request from a fork', 'pull request in the repo']) {
      const o = fixtures[name]!;
      expect(Object.keys(o.jobs.get('snap')!.calledWith!.secrets)).toEqual(['GITHUB_TOKEN']);
      for (const job of o.jobs.values())
        expect(job.legs.map((l) => l.environment).filter(Boolean)).toEqual([]);
    }
  });

  it.each(['master', 'main', 'stable/2025.1', 'unmaintained/2023.1'])(
    'a push to %s builds the commit it pushed and publishes it',
    (branch) => {
      const o = fixtures[`push to ${branch}`]!;
      expect(o.plan).toMatchObject({ ref: branch, publish: 'true', constraints: 'true' });
      expect(publishes(o)).toBe(true);
      const publish = o.steps.find(
        (s) => s.job === 'snap/publish' && s.uses === '$/actions/publish',
      )!;
      expect(publish.with).toMatchObject({
        ref: branch,
        sha: HEAD,
        'snap-name': 'keystone',
        'store-credentials': STORE_SECRET,
      });
    },
  );

  it('a push to a branch the caller does not build starts nothing', () => {
    expect(fixtures['push to feature/uwsgi (not a trigger)']!.triggered).toBe(false);
  });

  it('a dispatch rebuilds the branch it names, and publishes only when asked', () => {
    const yes = fixtures['workflow_dispatch of stable/2024.1, publish true']!;
    expect(yes.plan).toMatchObject({
      ref: 'stable/2024.1',
      checkout: 'stable/2024.1',
      publish: 'true',
    });
    expect(publishes(yes)).toBe(true);
    const no = fixtures['workflow_dispatch of stable/2024.1, publish false']!;
    expect(no.jobs.get('snap')!.calledWith!.inputs).toMatchObject({
      branch: 'stable/2024.1',
      publish: false,
    });
    expect(publishes(no)).toBe(false);
    expect(no.jobs.get('snap/publish')!.result).toBe('skipped');
  });

  it('a dispatch of a feature branch builds it without release constraints, and does not publish', () => {
    const o = fixtures['workflow_dispatch of feature/uwsgi, publish true']!;
    expect(o.plan).toMatchObject({ ref: 'feature/uwsgi', publish: 'false', constraints: 'false' });
    const builds = o.steps.filter((s) => s.uses === '$/actions/build');
    expect(builds.map((s) => [s.with.mode, s.with.constraints])).toEqual([
      ['native', 'false'],
      ['native', 'false'],
      ['remote', 'false'],
    ]);
    expect(o.jobs.get('snap/results')!.result).toBe('success');
  });

  it('a merge queue builds like a pull request and gets no credentials', () => {
    const o = fixtures.merge_group!;
    expect(o.triggered).toBe(true);
    expect(o.plan).toMatchObject({ ref: 'main', publish: 'false' });
    expect(Object.keys(o.jobs.get('snap')!.calledWith!.secrets)).toEqual(['GITHUB_TOKEN']);
    expect(o.jobs.get('snap/publish')!.result).toBe('skipped');
    expect(o.jobs.get('snap/results')!.result).toBe('success');
  });

  it('workflow_run does not start the snap repo’s pipeline', () => {
    expect(fixtures.workflow_run!.triggered).toBe(false);
  });

  it('one failed build leg: every arch still reports, results fails, nothing is published', () => {
    const o = fixtures['push to stable/2025.1, the arm64 build fails']!;
    expect(o.jobs.get('snap/build')!.legs.map((l) => [l.matrix.arch, l.result])).toEqual([
      ['amd64', 'success'],
      ['arm64', 'failure'],
      ['ppc64el', 'success'],
    ]);
    const logs = o.steps.filter(
      (s) =>
        s.uses?.startsWith('actions/upload-artifact@') && s.with.name?.includes('-build-logs-'),
    );
    expect(logs.map((s) => s.with.name)).toEqual(['snap-build-logs-arm64']);
    expect(o.jobs.get('snap/results')!.result).toBe('failure');
    expect(publishes(o)).toBe(false);
  });

  it('a cancelled run publishes nothing', () => {
    const o = fixtures['push to stable/2025.1, cancelled during the builds']!;
    expect(o.jobs.get('snap/build')!.result).toBe('cancelled');
    expect(o.jobs.get('snap/smoke')!.result).toBe('skipped');
    // results (if: always()) still reports; publish (!cancelled()) does not run.
    expect(o.jobs.get('snap/results')!.result).not.toBe('skipped');
    expect(o.jobs.get('snap/publish')!.result).toBe('skipped');
  });

  it('a leg that reaches its time limit still uploads its logs; nothing publishes', () => {
    const o = fixtures['push to stable/2025.1, the ppc64el leg reaches its time limit']!;
    expect(o.jobs.get('snap/build')!.legs.map((l) => [l.matrix.arch, l.result])).toEqual([
      ['amd64', 'success'],
      ['arm64', 'success'],
      ['ppc64el', 'cancelled'],
    ]);
    const logs = o.steps.filter(
      (s) =>
        s.uses?.startsWith('actions/upload-artifact@') && s.with.name?.includes('-build-logs-'),
    );
    expect(logs.map((s) => s.with.name)).toEqual(['snap-build-logs-ppc64el']);
    expect(publishes(o)).toBe(false);
  });

  it('a release push builds ppc64el on Launchpad, driven from the amd64 runner, within its limit', () => {
    const o = fixtures['push to stable/2025.1']!;
    expect(
      o.jobs
        .get('snap/build')!
        .legs.map((l) => [l.matrix.arch, l.matrix.mode, l.runsOn, l.timeoutMinutes]),
    ).toEqual([
      ['amd64', 'native', 'ubuntu-24.04', 120],
      ['arm64', 'native', 'ubuntu-24.04-arm', 120],
      ['ppc64el', 'remote', 'ubuntu-24.04', 330],
    ]);
  });

  it('a merge queue gives its verdict within its 60 minutes: every leg at most 55', () => {
    const o = fixtures.merge_group!;
    const limits = o.jobs.get('snap/build')!.legs.map((l) => Number(l.timeoutMinutes));
    expect(limits).toEqual([55, 55]);
  });
});

describe('concurrency, as GitHub groups runs (one running and one pending per group)', () => {
  const group = (event: string, ref: string, inputs: Record<string, Js> = {}, pr?: number) =>
    asString(
      evalToken(
        get(get(caller.root, 'concurrency'), 'group'),
        {
          github: {
            event_name: event,
            ref,
            event: pr ? { pull_request: { number: pr } } : {},
          },
          inputs,
        },
        { success: true, failure: false, cancelled: false },
      ),
    );
  it('a dispatch that does not publish never displaces a pending push of the branch', () => {
    const push = group('push', 'refs/heads/stable/2025.1');
    expect(
      group('workflow_dispatch', 'refs/heads/main', { branch: 'stable/2025.1', publish: false }),
    ).not.toBe(push);
    // One that publishes queues with the pushes: it builds the branch's tip, the pushed commit or later.
    expect(
      group('workflow_dispatch', 'refs/heads/main', { branch: 'stable/2025.1', publish: true }),
    ).toBe(push);
    expect(
      group('workflow_dispatch', 'refs/heads/main', { branch: 'stable/2024.1', publish: true }),
    ).not.toBe(push);
    expect(group('pull_request', 'refs/pull/12/merge', {}, 12)).not.toBe(push);
  });
  it("the publish job's group names the snap and the artifact prefix: two calls in one run never displace each other", () => {
    const publish = get(get(get(called.root, 'jobs'), 'publish'), 'concurrency');
    const text = sourceOf(get(publish, 'group'));
    expect(text).toContain('inputs.snap-name');
    expect(text).toContain('inputs.artifact-prefix');
  });
});

// These legs build a real .snap (the build bundle with the stand-in snapcraft): squashfs-tools.
describeWhen(SQUASHFS, 'snap.yml building snaps that pin their own versions')(
  'snap.yml on a release branch, for snaps that pin their own versions',
  () => {
    let requirements: Awaited<ReturnType<typeof serveRequirements>>;
    beforeAll(async () => {
      requirements = await serveRequirements();
    });
    afterAll(async () => requirements?.stop());

    it.each([
      [
        'a uv snap (core26)',
        'core26-cinder-volume-uv',
        'stable/2026.1',
        /No part installs with pip/,
      ],
      [
        'a snap whose pip part reads an exported lock (core24)',
        'core24-hypervisor-pins',
        'stable/2025.1',
        /jinja2: snap pins 3\.1\.6, 2025\.1 constraints say 3\.1\.5 \(requirements\.txt:6\): dropped/,
      ],
    ])(
      '%s: plan, constraints and the amd64 build pass, and the summary says what the constraints did',
      async (_what, snap, branch, said) => {
        const o = await run(
          push(branch, {
            project: join(ROOT, 'test/snaps', snap),
            realBuild: { arches: ['amd64'], requirementsRepo: requirements.url },
          }),
        );
        expect(o.plan).toMatchObject({ ref: branch, constraints: 'true', publish: 'true' });
        expect(o.realBuilds).toHaveLength(1);
        const [build] = o.realBuilds;
        expect(build!.stdout).not.toContain('::error::');
        expect(build!.status).toBe(0);
        expect(build!.summary).toMatch(/What was done:|Look at:/);
        expect(build!.summary).toMatch(said);
        expect(o.jobs.get('snap/publish')?.result).toBe('success');
      },
      120000,
    );
  },
);

/** A core22 snap built for amd64, arm64 and ppc64el (test/snaps/core22-keystone, plus ppc64el). */
function core22Keystone(): string {
  const dir = tempDir('osa-sim-core22-');
  cpSync(join(ROOT, 'test/snaps/core22-keystone'), dir, { recursive: true });
  const file = join(dir, 'snap/snapcraft.yaml');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(
      '    build-for: [arm64]\n',
      '    build-for: [arm64]\n  - build-on: [ppc64el]\n    build-for: [ppc64el]\n',
    ),
  );
  if (!readFileSync(file, 'utf8').includes('build-for: [ppc64el]')) throw new Error('no ppc64el');
  return dir;
}

describe('snap.yml with ppc64el on Launchpad (remote-arches), as a heavy snap calls it', () => {
  let fixtures: Record<string, Outcome>;
  const names = [
    'remote ppc64el: push to stable/2025.1',
    'remote ppc64el: push, the launchpad environment has no LAUNCHPAD_CREDENTIALS',
    'remote ppc64el: pull request in the repo',
    'remote ppc64el: pull request from a fork, remote-fallback skip',
    'remote ppc64el: push, the Launchpad build fails',
    'remote ppc64el: pull request in a repo that also keeps LAUNCHPAD_CREDENTIALS as a repository secret',
  ];
  const legs = (o: Outcome) =>
    o.jobs
      .get('snap/build')!
      .legs.map((l) => [l.matrix.arch, l.matrix.mode, l.runsOn, l.timeoutMinutes, l.result]);
  const buildStep = (o: Outcome, arch: string) =>
    o.steps.find(
      (s) =>
        s.job === 'snap/build' &&
        s.uses === '$/actions/build' &&
        (s.leg as { arch?: string }).arch === arch,
    );
  beforeAll(async () => {
    fixtures = {};
    const heavy = core22Keystone();
    for (const name of names) {
      const found = [
        push('stable/2025.1', { name: names[0]!, remote: true }),
        push('stable/2025.1', {
          name: names[1]!,
          remote: true,
          environments: { ...ENVIRONMENTS, launchpad: { secrets: {}, refs: RELEASE_REFS } },
        }),
        { ...pr(false), name: names[2]!, remote: true },
        {
          ...pr(true),
          name: names[3]!,
          remote: true,
          callerWith: '\n      remote-fallback: skip',
        },
        push('stable/2025.1', { name: names[4]!, remote: true, failBuild: ['ppc64el'] }),
        {
          ...pr(false),
          name: names[5]!,
          remote: true,
          // secrets: inherit hands a repository secret to every job's secrets context.
          secrets: { LAUNCHPAD_CREDENTIALS: LAUNCHPAD_SECRET },
        },
      ].find((s) => s.name === name)!;
      const scenario = { ...found, project: heavy };
      fixtures[name] = await run(scenario);
      expectHouseProperties(fixtures[name], scenario);
    }
  }, 120000);

  it('a release push builds ppc64el on Launchpad with the credentials, the other legs without them, and publishes all three', () => {
    const o = fixtures[names[0]!]!;
    // Only the remote leg runs in the launchpad environment, only publish in snap-store.
    expect(o.jobs.get('snap/build')!.legs.map((l) => l.environment)).toEqual([
      null,
      null,
      'launchpad',
    ]);
    expect(o.jobs.get('snap/publish')!.legs.map((l) => l.environment)).toEqual(['snap-store']);
    expect(legs(o)).toEqual([
      ['amd64', 'native', 'ubuntu-24.04', 120, 'success'],
      ['arm64', 'native', 'ubuntu-24.04-arm', 120, 'success'],
      ['ppc64el', 'remote', 'ubuntu-24.04', 330, 'success'],
    ]);
    expect(buildStep(o, 'ppc64el')!.with).toMatchObject({
      mode: 'remote',
      'launchpad-credentials': LAUNCHPAD_SECRET,
      'launchpad-accept-public-upload': 'true',
      // The wait on Launchpad leaves 20 of the job's 330 minutes for setup and download.
      'launchpad-timeout': String((330 - 20) * 60),
    });
    for (const arch of ['amd64', 'arm64'])
      expect(buildStep(o, arch)!.with).toMatchObject({
        mode: 'native',
        'launchpad-credentials': '',
        'launchpad-timeout': '',
      });
    // The plan learns only that credentials exist.
    const matrix = o.steps.find((s) => s.job === 'snap/plan' && s.with['remote-arches'])!;
    expect(matrix.with).toMatchObject({ 'remote-arches': 'ppc64el', 'remote-credentials': 'true' });
    expect(publishes(o)).toBe(true);
    const download = o.steps.find(
      (s) => s.job === 'snap/publish' && s.uses?.startsWith('actions/download-artifact@'),
    )!;
    expect(download.with.pattern).toBe(`snap-${HEAD}-*`);
    expect(
      o.steps
        .filter((s) => s.uses?.startsWith('actions/upload-artifact@') && s.job === 'snap/build')
        .map((s) => s.with.name),
    ).toEqual([`snap-${HEAD}-amd64`, `snap-${HEAD}-arm64`, `snap-${HEAD}-ppc64el`]);
  });

  it('a release push whose launchpad environment lacks LAUNCHPAD_CREDENTIALS: the remote leg, the only job that could see it, stops; nothing publishes', () => {
    // The plan cannot see an environment's secret (only the jobs that run in it can): the
    // remote leg finds it missing, and the build action refuses with what to do.
    const o = fixtures[names[1]!]!;
    expect(o.jobs.get('snap/plan')!.result).toBe('success');
    const ppc = o.jobs.get('snap/build')!.legs.find((l) => l.matrix.arch === 'ppc64el')!;
    expect([ppc.environment, ppc.result]).toEqual(['launchpad', 'failure']);
    expect(buildStep(o, 'ppc64el')!.with['launchpad-credentials']).toBe('');
    expect(o.jobs.get('snap/results')!.result).toBe('failure');
    expect(publishes(o)).toBe(false);
  });

  it('a pull request never builds remotely, nor emulates what would outrun it: ppc64el is skipped, and results passes in the native legs’ time', () => {
    const emulated = fixtures[names[2]!]!;
    // secrets: inherit hands on what the repository keeps, which is no credential.
    expect(Object.keys(emulated.jobs.get('snap')!.calledWith!.secrets)).toEqual(['GITHUB_TOKEN']);
    expect(legs(emulated)).toEqual([
      ['amd64', 'native', 'ubuntu-24.04', 55, 'success'],
      ['arm64', 'native', 'ubuntu-24.04-arm', 55, 'success'],
    ]);
    expect(emulated.jobs.get('snap/results')!.result).toBe('success');
    const skipped = fixtures[names[3]!]!;
    expect(legs(skipped).map((l) => l[0])).toEqual(['amd64', 'arm64']);
    expect(skipped.jobs.get('snap/results')!.result).toBe('success');
    expect(publishes(skipped)).toBe(false);
  });

  it('a pull request that is handed the secret anyway still builds nothing on Launchpad, and no step sees it', () => {
    const o = fixtures[names[5]!]!;
    expect(o.jobs.get('snap')!.calledWith!.secrets.LAUNCHPAD_CREDENTIALS).toBe(LAUNCHPAD_SECRET);
    const matrix = o.steps.find((s) => s.job === 'snap/plan' && s.with['remote-arches'])!;
    expect(matrix.with['remote-credentials']).toBe('true');
    expect(legs(o).map((l) => l[0])).toEqual(['amd64', 'arm64']);
    // expectHouseProperties (run for every scenario above) found no step with the token.
    expect(JSON.stringify(o.steps.map((s) => [s.with, s.env]))).not.toContain('launchpad-token');
  });

  it('a failed Launchpad build: its logs are uploaded, results fails, nothing is published', () => {
    const o = fixtures[names[4]!]!;
    expect(legs(o)[2]).toEqual(['ppc64el', 'remote', 'ubuntu-24.04', 330, 'failure']);
    expect(
      o.steps
        .filter(
          (s) => s.uses?.startsWith('actions/upload-artifact@') && s.with.name?.includes('logs'),
        )
        .map((s) => s.with.name),
    ).toEqual(['snap-build-logs-ppc64el']);
    expect(o.jobs.get('snap/results')!.result).toBe('failure');
    expect(publishes(o)).toBe(false);
  });
});

describe('where the credentials live: deployment environments, on GitHub’s rules', () => {
  const steal = (environment: string) =>
    loadWorkflow(
      'steal.yml',
      `on: [push]\njobs:\n  steal:\n    runs-on: ubuntu-24.04\n    timeout-minutes: 5\n    environment: ${environment}\n    steps:\n      - run: echo "\${{ secrets.SNAPCRAFT_STORE_CREDENTIALS }}\${{ secrets.RELEASE_TOKEN }}"\n`,
    );
  const pushTo = (ref: string): Record<string, Js> => ({
    event_name: 'push',
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
    sha: HEAD,
    repository: 'openstack-snaps/snap-keystone',
    event: {},
  });

  it('a workflow pushed on another branch that names the environment gets nothing: its job is refused before any step', async () => {
    for (const ref of ['refs/heads/evil', 'refs/heads/stable-2025.1-x']) {
      const steps: StepContext[] = [];
      const o = await simulate({
        caller: steal('snap-store'),
        github: pushTo(ref),
        secrets: {},
        environments: ENVIRONMENTS,
        model: (step) => (steps.push(step), {}),
      });
      expect(o.get('steal')!.result).toBe('failure');
      expect(steps).toEqual([]);
    }
    // From a release branch the same job would see it: the policy is what holds it back.
    const o = await simulate({
      caller: steal('snap-store'),
      github: pushTo('refs/heads/stable/2025.1'),
      secrets: {},
      environments: ENVIRONMENTS,
      model: () => ({}),
    });
    expect(o.get('steal')!.legs[0]!.secrets.SNAPCRAFT_STORE_CREDENTIALS).toBe(STORE_SECRET);
  });

  it('called with a secrets mapping instead of inherit, publish gets no store credentials: why the example inherits', async () => {
    const mapping = loadWorkflow(
      'mapping.yml',
      readFileSync(join(ROOT, 'examples/workflows/snap-repo.yml'), 'utf8').replace(
        '    secrets: inherit',
        '    secrets:\n      SNAPCRAFT_STORE_CREDENTIALS: ${{ secrets.SNAPCRAFT_STORE_CREDENTIALS }}',
      ),
    );
    const steps: StepContext[] = [];
    await simulate({
      caller: mapping,
      called: { [CALLED_REF]: called },
      github: { ...pushTo('refs/heads/stable/2025.1'), workflow: 'Snap' },
      inputs: { branch: '', publish: true },
      secrets: {},
      environments: ENVIRONMENTS,
      calledSha: PIN,
      model: (step): StepModel => {
        steps.push(step);
        if (step.uses === '$/actions/plan')
          return { outputs: { publish: 'true', ref: 'stable/2025.1', constraints: 'false' } };
        if (step.uses === '$/actions/matrix')
          return {
            outputs: {
              'has-builds': 'true',
              matrix: JSON.stringify({ include: [{ arch: 'amd64', runner: 'ubuntu-24.04' }] }),
            },
          };
        return {};
      },
    });
    const publish = steps.find((s) => s.uses === '$/actions/publish')!;
    expect(publish.with['store-credentials']).toBe('');
  });

  it('RELEASE_TOKEN, in the release environment (tags v*.*.* only), reaches the tag job and nothing else', async () => {
    const release = loadWorkflow(join(ROOT, '.github/workflows/release.yml'));
    const environments = {
      release: { secrets: { RELEASE_TOKEN: 'release-token-x' }, refs: ['refs/tags/v*.*.*'] },
    };
    const o = await simulate({
      caller: release,
      github: pushTo('refs/tags/v0.4.0'),
      secrets: {},
      environments,
      model: () => ({}),
    });
    expect(o.get('tag')!.legs[0]!.environment).toBe('release');
    expect(o.get('tag')!.legs[0]!.secrets.RELEASE_TOKEN).toBe('release-token-x');
    expect(o.get('verify')!.legs[0]!.secrets.RELEASE_TOKEN).toBeUndefined();
    // Anyone who can push a branch can run a workflow there; it cannot deploy to release.
    const stolen = await simulate({
      caller: steal('release'),
      github: pushTo('refs/heads/feature'),
      secrets: {},
      environments,
      model: () => ({}),
    });
    expect(stolen.get('steal')!.result).toBe('failure');
  });
});

describe('snap.yml for events no caller should route to it', () => {
  it('workflow_run: the plan refuses, results says the plan failed, nothing publishes', async () => {
    const o = await run(
      { name: 'direct workflow_run', event: 'workflow_run', ref: 'refs/heads/main' },
      { direct: true },
    );
    expect(o.jobs.get('snap/plan')!.result).toBe('failure');
    expect(o.jobs.get('snap/build')!.result).toBe('skipped');
    expect(o.jobs.get('snap/publish')!.result).toBe('skipped');
    const results = o.steps.find((s) => s.job === 'snap/results')!;
    expect(results.env.PLAN).toBe('failure');
    expect(o.jobs.get('snap/results')!.result).toBe('failure');
  }, 60000);

  it('a private copy of the toolkit: no job checks the toolkit out, every toolkit action runs from the commit the caller pinned', async () => {
    // `uses: $/actions/<name>` is the workflow's own repository at the running commit: the runner
    // fetches it as it fetched the workflow, so a private or internal copy needs no token of the
    // caller's, and a caller's pin (a tag moved later, a SHA) holds for every step.
    const o = await simulate({
      caller: loadWorkflow('c.yml', `on: [push]\njobs:\n  snap:\n    uses: ${CALLED_REF}\n`),
      called: { [CALLED_REF]: called },
      github: {
        event_name: 'push',
        ref: 'refs/heads/master',
        ref_name: 'master',
        sha: HEAD,
        repository: 'o/r',
        event: {},
      },
      secrets: {},
      calledSha: PIN,
      model: (step): StepModel =>
        step.uses === '$/actions/plan'
          ? { outputs: { publish: 'false', ref: 'master', constraints: 'false' } }
          : step.uses === '$/actions/matrix'
            ? {
                outputs: {
                  'has-builds': 'true',
                  matrix: JSON.stringify({ include: [{ arch: 'amd64', runner: 'ubuntu-24.04' }] }),
                },
              }
            : {},
    });
    const ran = [...o.values()].flatMap((j) => j.legs.flatMap((l) => l.steps.filter((s) => s.ran)));
    const toolkit = ran.filter((s) => s.uses?.startsWith('$/'));
    expect(toolkit.map((s) => s.uses)).toEqual(
      expect.arrayContaining(['$/actions/plan', '$/actions/matrix', '$/actions/build']),
    );
    for (const step of toolkit)
      expect(step.resolvedFrom).toEqual({ repository: TOOLKIT, ref: PIN });
    expect(ran.filter((s) => s.with.repository === TOOLKIT || s.uses?.startsWith('./'))).toEqual(
      [],
    );
    expect(readFileSync(join(ROOT, '.github/workflows/snap.yml'), 'utf8')).not.toMatch(
      /job\.workflow_sha|uses: \.\/|uses: openstack-snap-actions\//,
    );
  });
});

describe('static rules over every workflow and example', () => {
  const files = [
    ...readdirSync(join(ROOT, '.github/workflows')).map((f) => join(ROOT, '.github/workflows', f)),
    ...readdirSync(join(ROOT, 'examples/workflows')).map((f) =>
      join(ROOT, 'examples/workflows', f),
    ),
  ];
  it.each(files.map((f) => [f.slice(ROOT.length + 1), f]))(
    '%s: parses, every job has a timeout, every with: key exists, no toolkit action floats inside the toolkit',
    (rel, file) => {
      const workflow = loadWorkflow(file);
      const jobs = get(workflow.root, 'jobs');
      for (const id of keys(jobs)) {
        const job = get(jobs, id);
        if (get(job, 'uses')) continue; // a reusable workflow's own jobs carry their limits
        expect({ job: id, timeout: sourceOf(get(job, 'timeout-minutes')) !== '' }).toEqual({
          job: id,
          timeout: true,
        });
        for (const step of items(get(job, 'steps'))) {
          const uses = sourceOf(get(step, 'uses'));
          if (!uses) continue;
          if (rel.startsWith('.github/')) expect(uses).not.toMatch(/^openstack-snap-actions\//);
          const meta = actionMeta(actionName(uses));
          for (const key of keys(get(step, 'with')))
            expect({ uses, key, known: meta.inputs.includes(key) }).toEqual({
              uses,
              key,
              known: true,
            });
        }
      }
      expect(readFileSync(file, 'utf8')).not.toMatch(
        /always\(\)[^\n]*publish|publish[^\n]*always\(\)/,
      );
    },
  );

  it('the root action.yml floats on no tag either', () => {
    expect(readFileSync(join(ROOT, 'action.yml'), 'utf8')).not.toMatch(/uses:/);
  });
});

describe('the example mirror and fleet rebuild workflows', () => {
  const mirror = loadWorkflow(join(ROOT, 'examples/workflows/mirror.yml'));
  const fleet = loadWorkflow(join(ROOT, 'examples/workflows/fleet-rebuild.yml'));
  const simulateMirror = (mirrorOutcome: 'success' | 'failure', cancelDuring?: string) => {
    const steps: StepContext[] = [];
    return simulate({
      caller: mirror,
      called: { './.github/workflows/fleet-rebuild.yml': fleet },
      github: {
        event_name: 'schedule',
        ref: 'refs/heads/main',
        ref_name: 'main',
        sha: HEAD,
        repository: 'openstack-snaps/admin',
        event: {},
      },
      secrets: { MIRROR_TOKEN: MIRROR_SECRET, DISPATCH_TOKEN: DISPATCH_SECRET },
      cancelDuring,
      model: (step) => {
        steps.push(step);
        return step.uses?.includes('/actions/mirror@')
          ? { outcome: mirrorOutcome, outputs: { changes: '[]' } }
          : {};
      },
    }).then((jobs) => ({ jobs, steps }));
  };

  it('rebuilds by state after every mirror run, a failed one included, but not after a cancel', async () => {
    const failed = await simulateMirror('failure');
    expect(failed.jobs.get('mirror')!.result).toBe('failure');
    expect(failed.jobs.get('rebuild/rebuild')!.result).toBe('success');
    const dispatch = failed.steps.find((s) => s.uses?.includes('/actions/dispatch@'))!;
    // No branch: the state decides; the requirements mirror is what it reads.
    expect(dispatch.with.branch).toBe('');
    expect(dispatch.with['requirements-repo']).toBe(
      'https://github.com/openstack-snaps/requirements',
    );
    expect(dispatch.with.token).toBe(DISPATCH_SECRET);
    const cancelled = await simulateMirror('success', 'mirror');
    expect(cancelled.jobs.get('rebuild')!.result).toBe('skipped');
  });

  it('never dispatches to the requirements repo, and gives each token only where its scope is used: pushes the mirror token, dispatches the dispatch token', async () => {
    const { steps } = await simulateMirror('success');
    const mirrorStep = steps.find((s) => s.uses?.includes('/actions/mirror@'))!;
    expect(mirrorStep.with.repos).toMatch(/openstack-snaps\/requirements dispatch=none$/m);
    expect(mirrorStep.with).toMatchObject({
      token: MIRROR_SECRET,
      'dispatch-token': DISPATCH_SECRET,
    });
    for (const step of steps) {
      const seen = JSON.stringify([step.with, step.env]);
      expect({ uses: step.uses, mirror: seen.includes(MIRROR_SECRET) }).toEqual({
        uses: step.uses,
        mirror: !!step.uses?.includes('/actions/mirror@'),
      });
      expect({ uses: step.uses, dispatch: seen.includes(DISPATCH_SECRET) }).toEqual({
        uses: step.uses,
        dispatch: !!step.uses && /\/actions\/(mirror|dispatch)@/.test(step.uses),
      });
    }
  });

  it('no run waits in a concurrency group behind a rebuild: GitHub would cancel all but the newest pending one, ending most mirror runs "cancelled"', () => {
    // Overlapping rebuilds are safe by their claims (test/action-dispatch.test.ts: five racing runs).
    for (const file of [mirror, fleet])
      for (const id of keys(get(file.root, 'jobs')))
        if (id !== 'mirror')
          expect([file.path, id, get(get(get(file.root, 'jobs'), id), 'concurrency')]).toEqual([
            file.path,
            id,
            undefined,
          ]);
    expect(get(fleet.root, 'concurrency')).toBeUndefined();
  });

  it('rebuilds one branch by hand when asked', async () => {
    const steps: StepContext[] = [];
    await simulate({
      caller: fleet,
      github: {
        event_name: 'workflow_dispatch',
        ref: 'refs/heads/main',
        ref_name: 'main',
        sha: HEAD,
        repository: 'openstack-snaps/admin',
        event: {},
      },
      inputs: { branch: 'stable/2025.1' },
      secrets: { DISPATCH_TOKEN: DISPATCH_SECRET },
      model: (step) => {
        steps.push(step);
        return {};
      },
    });
    expect(steps[0]!.with).toMatchObject({ branch: 'stable/2025.1', token: DISPATCH_SECRET });
  });
});

// The simulator follows GitHub's own rules; these pin the ones the suite leans on.
describe('the job-graph evaluator itself', () => {
  it('refuses a call github.com would refuse: a string for a boolean input, an undeclared input or secret', async () => {
    const call = (withText: string, secrets = '') =>
      simulate({
        caller: loadWorkflow(
          'c.yml',
          `on: [push]\njobs:\n  snap:\n    uses: ${CALLED_REF}\n    with:\n${withText}${secrets}`,
        ),
        called: { [CALLED_REF]: called },
        github: { event_name: 'push', ref: 'refs/heads/master' },
        secrets: {},
        model: () => ({}),
      });
    await expect(call("      publish: 'true'\n")).rejects.toThrow(
      /input 'publish' of .* is boolean, given "true"/,
    );
    await expect(call('      publish: ${{ inputs.publish }}\n')).rejects.toThrow(
      /is boolean, given null/,
    );
    await expect(call('      nonsense: 1\n')).rejects.toThrow(/has no input 'nonsense'/);
    await expect(call('      publish: true\n', '    secrets:\n      TOKEN: x\n')).rejects.toThrow(
      /declares no secret 'TOKEN'/,
    );
  });

  it('skips a job whose need failed unless its if says otherwise, and runs always() after a cancel', async () => {
    const file = loadWorkflow(
      'w.yml',
      'on: [push]\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: fail\n  b:\n    needs: a\n    runs-on: x\n    steps:\n      - run: ok\n  c:\n    needs: a\n    if: always()\n    runs-on: x\n    steps:\n      - run: ok\n  d:\n    needs: a\n    if: ${{ !cancelled() }}\n    runs-on: x\n    steps:\n      - run: ok\n',
    );
    const jobs = await simulate({
      caller: file,
      github: { event_name: 'push' },
      secrets: {},
      model: (s) => (s.run === 'fail' ? { outcome: 'failure' } : {}),
    });
    expect([...jobs.values()].map((j) => [j.id, j.result])).toEqual([
      ['a', 'failure'],
      ['b', 'skipped'],
      ['c', 'success'],
      ['d', 'success'],
    ]);
    const cancelled = await simulate({
      caller: file,
      github: { event_name: 'push' },
      secrets: {},
      cancelDuring: 'a',
      model: () => ({}),
    });
    expect([...cancelled.values()].map((j) => [j.id, j.result])).toEqual([
      ['a', 'cancelled'],
      ['b', 'skipped'],
      ['c', 'success'],
      ['d', 'skipped'],
    ]);
  });
});
