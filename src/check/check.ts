import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ConfigurationError, exec, globMatcher } from '../platform/index.js';
import { releaseTarget, SeriesTable } from '../release/index.js';
import {
  eventsOf,
  get,
  keys,
  loadWorkflow,
  simulate,
  sourceOf,
  type JobRun,
  type Js,
  type StepContext,
  type StepModel,
  type WorkflowFile,
} from './workflow-sim.js';

/** What the checker is given: a snap repo's workflow, and the toolkit it calls. */
export interface CheckOptions {
  /** The workflow file (`.github/workflows/snap.yml` of the snap repo). */
  readonly workflow: string;
  /** The snap project the workflow builds (its snapcraft.yaml); default the repository's root. */
  readonly snap?: string;
  /** This toolkit's own tree: its snap.yml, and its action bundles the plan and matrix run from. */
  readonly toolkit: string;
}

/** One event, as the workflow would meet it. */
export interface EventReport {
  readonly event: string;
  readonly triggered: boolean;
  /** The status checks the run reports (`snap / build amd64`), with each leg's runner and limit. */
  readonly checks: string[];
  /** What the matrix said it leaves out, and why (notices). */
  readonly notices: string[];
  /** Where it publishes (`2025.1/edge`), or why not. */
  readonly publish: string;
  /** Whether the run would fail before building (the plan or matrix refusing), and why. */
  readonly refused: string | null;
}

const TOOLKIT = 'openstack-snap-actions/openstack-snap-actions';
const RELEASE_SAMPLES = ['master', 'main', 'stable/2025.1', 'unmaintained/2023.1', 'feature/x'];

/**
 * What a snap repo's workflow does on each event, found by running it on GitHub's own parser and
 * expression evaluator with this toolkit's plan and matrix actions (their bundles, as a runner
 * runs them) and its snapcraft.yaml: which checks report, on which runners and how, what is left
 * out, and where it publishes. Inputs, secrets and types github.com would refuse are refused here,
 * with the input it most likely meant.
 */
export async function checkWorkflow(options: CheckOptions): Promise<EventReport[]> {
  const file = loadWorkflow(options.workflow);
  const repoRoot = resolve(dirname(options.workflow), '../..');
  const called = calledWorkflows(file, repoRoot, options.toolkit);
  const snapDir = resolve(options.snap ?? repoRoot);
  if (!['snap/snapcraft.yaml', 'snapcraft.yaml'].some((f) => existsSync(join(snapDir, f))))
    throw new ConfigurationError(
      `${snapDir} has no snap/snapcraft.yaml or snapcraft.yaml: give the snap project (--snap DIR).`,
    );
  const events = await eventsOf(file);
  const reports: EventReport[] = [];
  const filter = (event: string) => events[event] as { branches?: string[] } | null | undefined;
  if ('pull_request' in events) {
    const base = RELEASE_SAMPLES.find((b) => matches(filter('push')?.branches, b)) ?? 'main';
    reports.push(await run('pull_request', { base }));
  }
  if ('merge_group' in events) reports.push(await run('merge_group', { base: 'main' }));
  if ('push' in events)
    for (const branch of RELEASE_SAMPLES)
      if (matches(filter('push')?.branches, branch)) reports.push(await run('push', { branch }));
  if ('workflow_dispatch' in events) reports.push(await run('workflow_dispatch', {}));
  if ('schedule' in events) reports.push(await run('schedule', {}));
  return reports;

  async function run(event: string, at: { branch?: string; base?: string }): Promise<EventReport> {
    const dispatchInputs = defaults(file, 'workflow_dispatch');
    const ref =
      event === 'pull_request'
        ? 'refs/pull/1/merge'
        : event === 'merge_group'
          ? 'refs/heads/gh-readonly-queue/main/pr-1-0000000'
          : `refs/heads/${at.branch ?? 'main'}`;
    if (event === 'workflow_dispatch' && 'branch' in dispatchInputs)
      dispatchInputs.branch = 'stable/2025.1';
    const name =
      event === 'workflow_dispatch'
        ? `workflow_dispatch (branch: ${String(dispatchInputs.branch ?? 'the default branch')})`
        : event === 'push'
          ? `push to ${at.branch}`
          : event === 'pull_request'
            ? `pull_request to ${at.base}`
            : event;
    const work = mkdtempSync(join(tmpdir(), 'osa-check-'));
    try {
      const payload =
        event === 'merge_group'
          ? { merge_group: { base_ref: `refs/heads/${at.base}` } }
          : event === 'pull_request'
            ? { pull_request: { number: 1, head: { repo: { fork: false } } } }
            : {};
      const eventFile = join(work, 'event.json');
      writeFileSync(
        eventFile,
        JSON.stringify({ repository: { fork: false, full_name: 'owner/repo' }, ...payload }),
      );
      const notices: string[] = [];
      let refused: string | null = null;
      const model = async (step: StepContext): Promise<StepModel> => {
        const action = /^(?:\$|[\w-]+\/[\w-]+)\/actions\/(plan|matrix)(?:@.*)?$/.exec(
          step.uses ?? '',
        )?.[1];
        if (action) {
          const inputs: Record<string, string> = { ...step.with };
          // Offline: no requirements commit (each leg would resolve it), the snap as checked out.
          if (action === 'plan') inputs['requirements-repo'] = '';
          if (action === 'matrix')
            inputs.project = join(snapDir, (inputs.project ?? 'snap').replace(/^snap\/?/, ''));
          const result = await runBundle(options.toolkit, action, inputs, {
            GITHUB_EVENT_NAME: event,
            GITHUB_REF_NAME: ref.replace(/^refs\/(heads|tags)\//, ''),
            GITHUB_BASE_REF: event === 'pull_request' ? (at.base ?? '') : '',
            GITHUB_EVENT_PATH: eventFile,
            GITHUB_REPOSITORY: 'owner/repo',
          });
          notices.push(...result.notices);
          if (!result.ok && !refused) refused = `${action}: ${result.error}`;
          return { outcome: result.ok ? 'success' : 'failure', outputs: result.outputs };
        }
        if (step.run?.includes('rev-parse HEAD')) return { outputs: { sha: 'f'.repeat(40) } };
        if (/\/actions\/build$/.test(step.uses ?? '') || step.uses?.endsWith('actions/build'))
          return { outputs: { snaps: '/tmp/x.snap', 'logs-dir': '' } };
        if (step.uses?.endsWith('actions/publish'))
          return { outputs: { released: 'true', revisions: '{}', channel: '' } };
        return {};
      };
      const jobs = await simulate({
        caller: file,
        called,
        github: {
          event_name: event,
          event: payload as Js,
          ref,
          ref_name: ref.replace(/^refs\/(heads|tags)\//, ''),
          base_ref: at.base ?? '',
          sha: 'f'.repeat(40),
          repository: 'owner/repo',
          repository_owner: 'owner',
          server_url: 'https://github.com',
          workflow: 'Snap',
          token: '***',
        },
        inputs: event === 'workflow_dispatch' ? dispatchInputs : {},
        // Every secret the workflow names, as if set: what the run does with them is the question.
        secrets: Object.fromEntries(
          [...file.text.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map(([, n]) => [n!, 'x']),
        ),
        calledSha: 'f'.repeat(40),
        model,
      });
      return {
        event: name,
        triggered: true,
        checks: checkNames(jobs),
        notices: [...new Set(notices)],
        publish: publishing(jobs, at.branch ?? String(dispatchInputs.branch ?? 'main')),
        refused,
      };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

/** The workflows a caller calls: its repository's own by path, this toolkit's by reference. */
function calledWorkflows(
  file: WorkflowFile,
  repoRoot: string,
  toolkit: string,
): Record<string, WorkflowFile> {
  const called: Record<string, WorkflowFile> = {};
  for (const id of keys(get(file.root, 'jobs'))) {
    const uses = sourceOf(get(get(get(file.root, 'jobs'), id), 'uses'));
    if (!uses) continue;
    const path = uses.startsWith('./')
      ? join(repoRoot, uses)
      : uses.startsWith(`${TOOLKIT}/.github/workflows/`)
        ? join(toolkit, uses.slice(TOOLKIT.length + 1).replace(/@.*$/, ''))
        : null;
    if (!path)
      throw new ConfigurationError(
        `job '${id}' calls ${uses}, which this checker cannot read: it knows this repository's workflows and ${TOOLKIT}'s.`,
      );
    if (!existsSync(path))
      throw new ConfigurationError(
        `job '${id}' calls ${uses}, which is not in ${uses.startsWith('./') ? 'this repository' : 'the toolkit'}: ${uses.startsWith('./') ? 'copy that file too' : 'check the path'}.`,
      );
    called[uses] = loadWorkflow(path);
  }
  return called;
}

/** workflow_dispatch inputs as GitHub fills them from their defaults. */
function defaults(file: WorkflowFile, event: string): Record<string, Js> {
  const definitions = get(get(get(file.root, 'on'), event), 'inputs');
  return Object.fromEntries(
    keys(definitions).map((k) => {
      const definition = get(definitions, k);
      const value = sourceOf(get(definition, 'default'));
      return [k, sourceOf(get(definition, 'type')) === 'boolean' ? value === 'true' : value];
    }),
  );
}

/** GitHub's branch filters (`*` within a segment, `**` across them); no filter takes every branch. */
function matches(patterns: string[] | undefined, branch: string): boolean {
  return !patterns || patterns.some((p) => globMatcher(p, 'a branch filter')(branch));
}

/** The status checks as GitHub names them: `<caller job> / <job>`, each leg with its runner. */
function checkNames(jobs: Map<string, JobRun>): string[] {
  const names: string[] = [];
  for (const job of jobs.values()) {
    const [caller, inner] = job.id.split('/');
    if (!inner) continue;
    for (const leg of job.legs) {
      const how = [
        [leg.runsOn].flat().join(','),
        typeof leg.matrix.mode === 'string' ? leg.matrix.mode : null,
        `${String(leg.timeoutMinutes ?? 360)} min`,
        leg.environment ? `environment ${leg.environment}` : null,
      ].filter(Boolean);
      names.push(`${caller} / ${leg.name} (${how.join(', ')})`);
    }
    if (job.result === 'skipped') names.push(`${caller} / ${inner} (skipped)`);
  }
  return names;
}

/** Where a run publishes, from its publish job and the release its branch is. */
function publishing(jobs: Map<string, JobRun>, branch: string): string {
  const publish = [...jobs.values()].find((j) => j.id.endsWith('/publish'));
  if (!publish || publish.result === 'skipped') return 'does not publish';
  const step = publish.legs[0]?.steps.find((s) => s.ran && s.uses?.endsWith('actions/publish'));
  const risk = step?.with.risk || 'edge';
  try {
    const { track } = releaseTarget(step?.with.ref || branch, { table: new SeriesTable() });
    const environment = publish.legs[0]?.environment;
    return `publishes to ${track}/${risk}${environment ? ` (in environment ${environment})` : ''}`;
  } catch {
    return 'publishes';
  }
}

/** Runs one of the toolkit's action bundles as a runner would, with the inputs and event. */
async function runBundle(
  toolkit: string,
  name: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
): Promise<{ ok: boolean; outputs: Record<string, string>; notices: string[]; error: string }> {
  const work = mkdtempSync(join(tmpdir(), `osa-check-${name}-`));
  try {
    const output = join(work, 'output');
    writeFileSync(output, '');
    // The runner makes the summary file before a step starts; @actions/core refuses a missing one.
    writeFileSync(join(work, 'summary'), '');
    const result = await exec([process.execPath, join(toolkit, 'dist', name, 'index.js')], {
      cwd: work,
      dropEnv: /^(INPUT_|GITHUB_|RUNNER_)/,
      env: {
        ...env,
        ...Object.fromEntries(
          Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
        ),
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: join(work, 'summary'),
        RUNNER_TEMP: work,
      },
    });
    const outputs = Object.fromEntries(
      [...readFileSync(output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)].map(
        ([, k, , v]) => [k!, v!],
      ),
    );
    const lines = result.stdout.split('\n');
    const unescape = (text: string) => text.replace(/%0A/g, ' ').replace(/%25/g, '%');
    return {
      ok: result.code === 0,
      outputs,
      notices: lines
        .filter((l) => l.startsWith('::notice') || l.startsWith('::warning'))
        .map((l) => unescape(l.slice(l.indexOf('::', 2) + 2))),
      error: unescape(
        lines.find((l) => l.startsWith('::error'))?.replace(/^::error[^:]*::/, '') ??
          `exit ${result.code}`,
      ),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
