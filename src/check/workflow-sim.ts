/**
 * A job-graph evaluator for GitHub Actions workflows, on GitHub's own parser and expression
 * evaluator (@actions/workflow-parser, @actions/expressions): for one event it decides which jobs
 * and steps of a caller workflow and the reusable workflow it calls would run, with which inputs,
 * secrets and matrix legs, and what each `with:` evaluates to. Steps run through a model the
 * scenario gives (the toolkit's plan and matrix actions run for real, from their bundles, in a
 * workspace laid out as the runner lays it out); everything is recorded for assertions.
 *
 * What it follows of github.com (docs.github.com, "Workflow syntax" and "Expressions"): job `if`
 * defaults to success() and is wrapped in success() && (...) unless it calls a status function;
 * a job whose needs failed or were skipped is skipped unless its `if` says otherwise; success()
 * at job level means every job in the needs closure succeeded; step `if` defaults to success()
 * over the previous steps; a called workflow sees the caller's github context, its own `inputs`
 * (typed, with defaults) and only the secrets passed to it; `job.workflow_repository` and
 * `job.workflow_sha` name the called workflow's repository and the commit the caller pinned, which
 * is where a `uses: $/<path>` action comes from.
 */
import {
  convertWorkflowTemplate,
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token';
import { readFileSync } from 'node:fs';
import { ConfigurationError, globMatcher } from '../platform/index.js';

export type Js = null | boolean | number | string | Js[] | { [key: string]: Js };
export type Result = 'success' | 'failure' | 'cancelled' | 'skipped';

/** A workflow file, parsed by GitHub's parser (its errors fail the load). */
export interface WorkflowFile {
  readonly path: string;
  readonly text: string;
  readonly root: MappingToken;
}

export function loadWorkflow(path: string, text = readFileSync(path, 'utf8')): WorkflowFile {
  const parsed = parseWorkflow({ name: path, content: text }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors();
  if (errors.length > 0 || !parsed.value || !isMapping(parsed.value)) {
    throw new ConfigurationError(
      `${path}: ${errors.map((e) => e.message).join('; ') || 'not a workflow'}`,
    );
  }
  return { path, text, root: parsed.value };
}

/** The workflow's triggers as GitHub's converter reads them (branch filters and all). */
export async function eventsOf(file: WorkflowFile): Promise<Record<string, unknown>> {
  const parsed = parseWorkflow(
    { name: file.path, content: file.text },
    new NoOperationTraceWriter(),
  );
  const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
  if (template.errors?.length)
    throw new ConfigurationError(`${file.path}: ${template.errors[0]!.Message}`);
  return template.events as Record<string, unknown>;
}

export function get(map: TemplateToken | undefined, key: string): TemplateToken | undefined {
  if (!map || !isMapping(map)) return undefined;
  for (const pair of map) if (isString(pair.key) && pair.key.value === key) return pair.value;
  return undefined;
}

export function keys(map: TemplateToken | undefined): string[] {
  if (!map || !isMapping(map)) return [];
  return [...map].map((pair) => (isString(pair.key) ? pair.key.value : String(pair.key)));
}

export function items(seq: TemplateToken | undefined): TemplateToken[] {
  return seq && isSequence(seq) ? [...seq] : [];
}

/** The text of a scalar as written (an expression's source), for static checks. */
export function sourceOf(token: TemplateToken | undefined): string {
  if (!token) return '';
  if (isBasicExpression(token)) return token.source ?? token.expression;
  if (isString(token)) return token.value;
  if (isBoolean(token) || isNumber(token)) return String(token.value);
  if (isMapping(token))
    return [...token].map((p) => `${sourceOf(p.key)}: ${sourceOf(p.value)}`).join('\n');
  if (isSequence(token)) return [...token].map(sourceOf).join('\n');
  return '';
}

/** How status functions answer where an expression is evaluated. */
export interface Status {
  readonly success: boolean;
  readonly failure: boolean;
  readonly cancelled: boolean;
}

const CONTEXTS = [
  'github',
  'inputs',
  'vars',
  'needs',
  'matrix',
  'strategy',
  'steps',
  'job',
  'jobs',
  'secrets',
  'env',
  'runner',
];

const toData = (value: Js): data.ExpressionData =>
  JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
const fromData = (value: data.ExpressionData): Js =>
  JSON.parse(JSON.stringify(value, data.replacer) ?? 'null') as Js;

/** Evaluates one expression (without `${{ }}`) in the contexts, with the status functions. */
export function evaluate(expr: string, contexts: Record<string, Js>, status: Status): Js {
  const functions = new Map(
    (
      [
        ['always', () => true],
        ['success', () => status.success],
        ['failure', () => status.failure],
        ['cancelled', () => status.cancelled],
      ] as [string, () => boolean][]
    ).map(([name, fn]) => [
      name,
      { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(fn()) },
    ]),
  );
  const lexed = new Lexer(expr).lex();
  const ast = new Parser(lexed.tokens, CONTEXTS, [...functions.values()]).parse();
  const dict = new data.Dictionary(
    ...CONTEXTS.map((name) => ({ key: name, value: toData(contexts[name] ?? {}) })),
  );
  return fromData(new Evaluator(ast, dict, functions).evaluate());
}

/** A token evaluated to plain data. */
export function evalToken(
  token: TemplateToken | undefined,
  contexts: Record<string, Js>,
  status: Status,
): Js {
  if (!token) return null;
  if (isBasicExpression(token)) return evaluate(token.expression, contexts, status);
  if (isString(token) || isBoolean(token) || isNumber(token)) return token.value;
  if (isMapping(token))
    return Object.fromEntries(
      [...token].map((p) => [sourceOf(p.key), evalToken(p.value, contexts, status)]),
    );
  if (isSequence(token)) return [...token].map((t) => evalToken(t, contexts, status));
  return null;
}

/** What an input or `with` value becomes: GitHub passes strings to actions. */
export function asString(value: Js): string {
  if (value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function truthy(value: Js): boolean {
  return !(value === false || value === null || value === 0 || value === '');
}

const STATUS_CALL = /\b(success|failure|cancelled|always)\s*\(/;

/** An `if:` as GitHub reads it: implicit ${{ }}, and success() && (...) without a status call. */
export function ifExpression(token: TemplateToken | undefined): string {
  if (!token) return 'success()';
  let text = isBasicExpression(token) ? token.expression : sourceOf(token);
  text = text
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
    .trim();
  return STATUS_CALL.test(text) ? text : `success() && (${text})`;
}

/** One step as it ran (or did not). */
export interface StepRun {
  readonly index: number;
  readonly id: string | null;
  readonly uses: string | null;
  readonly run: string | null;
  readonly ran: boolean;
  readonly with: Record<string, string>;
  readonly env: Record<string, string>;
  readonly outcome: Result;
  readonly outputs: Record<string, string>;
  /** For `./` actions: where the workspace directory came from (a checkout step). */
  readonly resolvedFrom?: { repository: string; ref: string } | null;
}

/** One leg of a job (a matrix entry, or the job itself). */
export interface LegRun {
  readonly matrix: Record<string, Js>;
  /** The deployment environment the leg ran in (its `environment:`), if any. */
  readonly environment: string | null;
  /** The secrets context the leg's steps saw (an environment's included). */
  readonly secrets: Record<string, string>;
  readonly name: string;
  readonly runsOn: Js;
  readonly timeoutMinutes: Js;
  readonly steps: StepRun[];
  readonly result: Result;
}

export interface JobRun {
  /** caller job id, or `caller/called` for jobs of a reusable workflow. */
  readonly id: string;
  readonly result: Result;
  readonly legs: LegRun[];
  readonly outputs: Record<string, string>;
  /** The secrets context this job saw (called workflows see only what the caller passed). */
  readonly secrets: Record<string, string>;
  /** For a reusable workflow job: the inputs and secrets it called with. */
  readonly calledWith?: { inputs: Record<string, Js>; secrets: Record<string, string> };
}

/** What a scenario's model says about one step that runs. */
export interface StepModel {
  outcome?: Result;
  outputs?: Record<string, string>;
}

export interface StepContext {
  readonly job: string;
  readonly leg: Record<string, Js>;
  readonly uses: string | null;
  readonly run: string | null;
  readonly with: Record<string, string>;
  readonly env: Record<string, string>;
  readonly id: string | null;
  readonly contexts: Record<string, Js>;
  /**
   * Where a repository-local action comes from: the workspace directory a `./` action lives in,
   * when the job checked it out, or `$` for a `$/` action (the workflow's own repository).
   */
  readonly localAction?: { dir: string; repository: string; ref: string };
}

export interface Simulation {
  /** The caller workflow and, by `uses:` reference, the reusable workflows it calls. */
  readonly caller: WorkflowFile;
  readonly called?: Readonly<Record<string, WorkflowFile>>;
  readonly github: Record<string, Js>;
  readonly inputs?: Record<string, Js>;
  readonly secrets: Record<string, string>;
  readonly vars?: Record<string, string>;
  /** The commit `job.workflow_sha` names for a called workflow (the caller's pin resolved). */
  readonly calledSha?: string;
  /** The run is cancelled while this job runs (its id, `caller/called` for called jobs). */
  readonly cancelDuring?: string;
  /**
   * The repository's deployment environments: their secrets, and the refs allowed to deploy to
   * them (deployment branch and tag policies, as full-ref glob patterns; none means any ref).
   */
  readonly environments?: Readonly<
    Record<string, { readonly secrets: Record<string, string>; readonly refs?: readonly string[] }>
  >;
  /** The outcome and outputs of a step that runs; default success, no outputs. */
  readonly model: (step: StepContext) => Promise<StepModel> | StepModel;
}

/** Runs the caller workflow's jobs (and called workflows' jobs) for one event. */
export async function simulate(sim: Simulation): Promise<Map<string, JobRun>> {
  const runs = new Map<string, JobRun>();
  const state = { cancelled: false };
  await runJobs(
    sim,
    state,
    sim.caller,
    '',
    {
      github: sim.github,
      inputs: sim.inputs ?? {},
      vars: sim.vars ?? {},
      secrets: { GITHUB_TOKEN: '***github-token***', ...sim.secrets },
      job: {},
    },
    runs,
  );
  return runs;
}

interface RunState {
  /** The run has been cancelled (from the job named by cancelDuring on). */
  cancelled: boolean;
}

async function runJobs(
  sim: Simulation,
  state: RunState,
  file: WorkflowFile,
  prefix: string,
  base: Record<string, Js>,
  runs: Map<string, JobRun>,
  environmentSecrets = true,
): Promise<Record<string, JobRun>> {
  const jobs = get(file.root, 'jobs');
  const ids = keys(jobs);
  const done: Record<string, JobRun> = {};
  const needsOf = (id: string): string[] => {
    const needs = get(get(jobs, id), 'needs');
    if (!needs) return [];
    return isSequence(needs) ? items(needs).map(sourceOf) : [sourceOf(needs)];
  };
  const closure = (id: string, seen = new Set<string>()): Set<string> => {
    for (const need of needsOf(id)) if (!seen.has(need)) closure(need, seen.add(need));
    return seen;
  };
  const pending = [...ids];
  while (pending.length > 0) {
    const index = pending.findIndex((id) => needsOf(id).every((n) => done[n]));
    if (index < 0) throw new ConfigurationError(`${file.path}: a cycle or an unknown job in needs`);
    const id = pending.splice(index, 1)[0]!;
    const job = get(jobs, id)!;
    const ancestors = [...closure(id)].map((n) => done[n]!);
    const needs = Object.fromEntries(
      needsOf(id).map((n) => [n, { result: done[n]!.result, outputs: done[n]!.outputs }]),
    );
    const status: Status = {
      success: !state.cancelled && ancestors.every((a) => a.result === 'success'),
      failure: ancestors.some((a) => a.result === 'failure'),
      cancelled: state.cancelled,
    };
    const contexts = { ...base, needs };
    const runIt = truthy(evaluate(ifExpression(get(job, 'if')), contexts, status));
    const fullId = prefix ? `${prefix}/${id}` : id;
    let run: JobRun;
    if (!runIt) {
      run = {
        id: fullId,
        result: 'skipped',
        legs: [],
        outputs: {},
        secrets: asStrings(base.secrets ?? {}),
      };
    } else if (get(job, 'uses') && get(get(job, 'strategy'), 'matrix')) {
      // A matrix of calls: each leg calls the workflow with its own matrix context; its jobs are
      // `<job>[<leg>]/<called job>`. The job fails if a leg did (fail-fast aside).
      const never: Status = { success: true, failure: false, cancelled: false };
      const matrix = evalToken(get(get(job, 'strategy'), 'matrix'), contexts, never) as Record<
        string,
        Js
      >;
      const legs = await Promise.all(
        expandMatrix(matrix).map((leg, i) =>
          runCalled(sim, state, job, `${fullId}[${i}]`, { ...contexts, matrix: leg }, runs),
        ),
      );
      run = {
        id: fullId,
        result: calledResult(legs.map((l) => l.result)),
        legs: [],
        outputs: legs.at(-1)?.outputs ?? {},
        secrets: asStrings(base.secrets ?? {}),
      };
      for (const leg of legs) runs.set(leg.id, leg);
    } else if (get(job, 'uses')) {
      run = await runCalled(sim, state, job, fullId, contexts, runs);
    } else if (sim.cancelDuring === fullId) {
      state.cancelled = true;
      run = {
        id: fullId,
        result: 'cancelled',
        legs: [],
        outputs: {},
        secrets: asStrings(base.secrets ?? {}),
      };
    } else {
      run = await runJob(sim, state, job, fullId, contexts, environmentSecrets);
    }
    done[id] = run;
    runs.set(fullId, run);
  }
  return done;
}

function asStrings(value: Js): Record<string, string> {
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, Js>).map(([k, v]) => [k, asString(v)]),
  );
}

/** A called workflow's result from its jobs' (or a matrix of calls' from its calls'). */
function calledResult(results: readonly Result[]): Result {
  return results.includes('failure')
    ? 'failure'
    : results.includes('cancelled')
      ? 'cancelled'
      : 'success';
}

async function runCalled(
  sim: Simulation,
  state: RunState,
  job: TemplateToken,
  id: string,
  contexts: Record<string, Js>,
  runs: Map<string, JobRun>,
): Promise<JobRun> {
  const ref = sourceOf(get(job, 'uses'));
  const called = sim.called?.[ref];
  if (!called) throw new ConfigurationError(`no workflow file given for ${ref}`);
  const never: Status = { success: true, failure: false, cancelled: false };
  const given = (evalToken(get(job, 'with'), contexts, never) ?? {}) as Record<string, Js>;
  const callConfig = get(get(called.root, 'on'), 'workflow_call');
  const definitions = get(callConfig, 'inputs');
  const inputs: Record<string, Js> = {};
  // As github.com checks a call before any job starts: every input declared, typed as declared
  // (a string 'true' or an empty value for a boolean input is refused), required ones given.
  for (const name of Object.keys(given)) {
    if (!keys(definitions).includes(name))
      throw new ConfigurationError(
        `${id}: ${called.path} has no input '${name}'${didYouMean(name, keys(definitions))}`,
      );
  }
  for (const name of keys(definitions)) {
    const definition = get(definitions, name);
    const type = sourceOf(get(definition, 'type'));
    const required = sourceOf(get(definition, 'required')) === 'true';
    if (name in given) {
      const value = given[name]!;
      const ok =
        type === 'boolean'
          ? typeof value === 'boolean'
          : type === 'number'
            ? typeof value === 'number'
            : typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      if (!ok)
        throw new ConfigurationError(
          `${id}: input '${name}' of ${called.path} is ${type}, given ${JSON.stringify(value)}`,
        );
      inputs[name] = type === 'string' ? asString(value) : value;
      continue;
    }
    if (required) throw new ConfigurationError(`${id}: ${called.path} requires input '${name}'`);
    const fallback = evalToken(get(definition, 'default'), contexts, never);
    inputs[name] =
      type === 'boolean'
        ? fallback === true
        : type === 'number'
          ? Number(fallback)
          : asString(fallback);
  }
  const secretValues = get(job, 'secrets');
  const inherit = !!secretValues && isString(secretValues) && secretValues.value === 'inherit';
  const secrets = inherit
    ? asStrings(contexts.secrets ?? {})
    : asStrings(evalToken(secretValues, contexts, never) ?? {});
  const declared = get(callConfig, 'secrets');
  if (!inherit) {
    for (const name of Object.keys(secrets)) {
      if (!keys(declared).includes(name))
        throw new ConfigurationError(
          `${id}: ${called.path} declares no secret '${name}'${didYouMean(name, keys(declared))}`,
        );
    }
    for (const name of keys(declared)) {
      if (sourceOf(get(get(declared, name), 'required')) === 'true' && !(name in secrets))
        throw new ConfigurationError(`${id}: ${called.path} requires secret '${name}'`);
    }
  }
  const calledContexts = {
    github: contexts.github!,
    inputs,
    vars: contexts.vars ?? {},
    secrets: { GITHUB_TOKEN: '***github-token***', ...secrets },
    job: {
      workflow_repository: ref.replace(/\/\.github\/workflows\/.*$/, ''),
      workflow_sha: sim.calledSha ?? '',
      workflow_ref: ref,
    },
  };
  // An environment a called job names adds its secrets only when the call inherits secrets: with
  // a mapping, the secrets context holds what was passed, evaluated in the caller's job, which
  // has no environment (actions/runner#1490 and #4453: environment secrets resolve to '' in a
  // workflow_call job unless the caller uses `secrets: inherit`).
  const inner = await runJobs(sim, state, called, id, calledContexts, runs, inherit);
  const result = calledResult(Object.values(inner).map((r) => r.result));
  return {
    id,
    result,
    legs: [],
    outputs: {},
    secrets: calledContexts.secrets,
    calledWith: { inputs, secrets },
  };
}

async function runJob(
  sim: Simulation,
  state: RunState,
  job: TemplateToken,
  id: string,
  contexts: Record<string, Js>,
  environmentSecrets: boolean,
): Promise<JobRun> {
  const never: Status = { success: true, failure: false, cancelled: false };
  const matrix = evalToken(get(get(job, 'strategy'), 'matrix'), contexts, never) as Record<
    string,
    Js
  > | null;
  const legs: Record<string, Js>[] = matrix ? expandMatrix(matrix) : [{}];
  const runs: LegRun[] = [];
  let outputs: Record<string, string> = {};
  for (const leg of legs) {
    const legContexts: Record<string, Js> = {
      ...contexts,
      matrix: leg,
      steps: {},
      env: {},
      runner: {},
    };
    const steps: StepRun[] = [];
    // The job's environment, per leg (it may name the matrix): a ref its deployment policy does
    // not allow fails the leg before any step; its secrets join the secrets context.
    const environmentToken = get(job, 'environment');
    const environment =
      asString(
        evalToken(
          environmentToken && isMapping(environmentToken)
            ? get(environmentToken, 'name')
            : environmentToken,
          legContexts,
          never,
        ) ?? '',
      ) || null;
    const github = contexts.github as Record<string, Js>;
    const policy = environment ? sim.environments?.[environment] : undefined;
    const allowed =
      !policy?.refs ||
      policy.refs.some((p) => globMatcher(p, 'a deployment policy')(asString(github.ref ?? '')));
    if (policy && environmentSecrets)
      legContexts.secrets = { ...(legContexts.secrets as Record<string, Js>), ...policy.secrets };
    let failed = !allowed;
    let cancelledHere = false;
    const checkouts = new Map<string, { repository: string; ref: string }>();
    const jobEnv = (evalToken(get(job, 'env'), legContexts, never) ?? {}) as Record<string, Js>;
    legContexts.env = jobEnv;
    for (const [index, step] of (allowed ? items(get(job, 'steps')) : []).entries()) {
      const status: Status = {
        success: !failed && !state.cancelled,
        failure: failed,
        cancelled: state.cancelled,
      };
      const stepId = get(step, 'id') ? sourceOf(get(step, 'id')) : null;
      const uses = get(step, 'uses') ? sourceOf(get(step, 'uses')) : null;
      const runText = get(step, 'run') ? sourceOf(get(step, 'run')) : null;
      const ran = truthy(evaluate(ifExpression(get(step, 'if')), legContexts, status));
      if (!ran) {
        steps.push({
          index,
          id: stepId,
          uses,
          run: runText,
          ran,
          with: {},
          env: {},
          outcome: 'skipped',
          outputs: {},
        });
        continue;
      }
      const withValues = asStrings(evalToken(get(step, 'with'), legContexts, status));
      const env = asStrings({
        ...jobEnv,
        ...((evalToken(get(step, 'env'), legContexts, status) ?? {}) as Record<string, Js>),
      });
      let localAction: StepContext['localAction'];
      let resolvedFrom: StepRun['resolvedFrom'];
      if (uses?.startsWith('./')) {
        const dir = uses.slice(2).split('/')[0]!;
        const source = checkouts.get(dir) ?? null;
        resolvedFrom = source;
        if (source) localAction = { dir, ...source };
      } else if (uses?.startsWith('$/')) {
        // The self-repository syntax (2026-07-30): the workflow's own repository at the commit
        // running, with no checkout; in a called workflow, the one the caller pinned.
        const job = (contexts.job ?? {}) as Record<string, Js>;
        const github = contexts.github as Record<string, Js>;
        resolvedFrom = {
          repository: asString(job.workflow_repository || github.repository || ''),
          ref: asString(job.workflow_sha || github.sha || ''),
        };
        localAction = { dir: '$', ...resolvedFrom };
      }
      const model = await sim.model({
        job: id,
        leg,
        uses,
        run: runText,
        with: withValues,
        env,
        id: stepId,
        contexts: legContexts,
        localAction,
      });
      const outcome = model.outcome ?? 'success';
      if (uses?.startsWith('actions/checkout@')) {
        checkouts.set(withValues.path || '.', {
          repository:
            withValues.repository ||
            asString((contexts.github as Record<string, Js>).repository ?? ''),
          ref: withValues.ref ?? '',
        });
      }
      const outputs = model.outputs ?? {};
      if (stepId)
        (legContexts.steps as Record<string, Js>)[stepId] = {
          outputs,
          outcome,
          conclusion: outcome,
        };
      if (outcome === 'failure') failed = true;
      // A step that ends cancelled (its job's time limit reached) cancels the run from here on.
      if (outcome === 'cancelled') {
        state.cancelled = true;
        cancelledHere = true;
      }
      steps.push({
        index,
        id: stepId,
        uses,
        run: runText,
        ran,
        with: withValues,
        env,
        outcome,
        outputs,
        resolvedFrom,
      });
    }
    const result: Result = cancelledHere ? 'cancelled' : failed ? 'failure' : 'success';
    runs.push({
      matrix: leg,
      environment,
      secrets: asStrings(legContexts.secrets ?? {}),
      name: asString(evalToken(get(job, 'name'), legContexts, never) ?? id),
      runsOn: evalToken(get(job, 'runs-on'), legContexts, never),
      timeoutMinutes: evalToken(get(job, 'timeout-minutes'), legContexts, never),
      steps,
      result,
    });
    outputs = asStrings(evalToken(get(job, 'outputs'), legContexts, never) ?? {});
  }
  const result: Result = runs.some((r) => r.result === 'cancelled')
    ? 'cancelled'
    : runs.some((r) => r.result === 'failure')
      ? 'failure'
      : 'success';
  return {
    id,
    result,
    legs: runs,
    outputs,
    secrets: runs.at(-1)?.secrets ?? asStrings(contexts.secrets ?? {}),
  };
}

/** A matrix's legs: the product of its axes, then `include` entries (the form the toolkit uses). */
function expandMatrix(matrix: Record<string, Js>): Record<string, Js>[] {
  const { include, exclude: _exclude, ...axes } = matrix;
  let legs: Record<string, Js>[] = [{}];
  for (const [axis, values] of Object.entries(axes)) {
    legs = legs.flatMap((leg) => (values as Js[]).map((v) => ({ ...leg, [axis]: v })));
  }
  if (Object.keys(axes).length === 0) legs = [];
  for (const entry of (include ?? []) as Record<string, Js>[]) legs.push(entry);
  return legs;
}

/** `; did you mean 'x'?` for the known name nearest a misspelt one (or one it is part of). */
function didYouMean(name: string, known: readonly string[]): string {
  let best: { name: string; distance: number } | null = null;
  for (const candidate of known) {
    const distance =
      candidate.startsWith(name) || name.startsWith(candidate)
        ? Math.abs(candidate.length - name.length) / 4
        : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  return best && best.distance <= Math.max(2, name.length / 4)
    ? `; did you mean '${best.name}'?`
    : ` (it has ${known.join(', ')})`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(
        Math.min(
          previous[j]! + 1,
          row[j - 1]! + 1,
          previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
        ),
      );
    previous = row;
  }
  return previous[b.length]!;
}
