import {
  errorMessage,
  exec,
  ExternalError,
  itemFailure,
  type ItemFailure,
  MissingProgramError,
} from '../platform/index.js';

export interface RunResult {
  readonly code: number;
  readonly output: string[];
}

/** What a step gets: a way to run commands (tracked, so a timeout can kill them) and a log. */
export interface StepContext {
  run(
    argv: readonly string[],
    options?: {
      env?: Record<string, string>;
      /** Variables of the job's environment the command must not see (before `env`). */
      dropEnv?: RegExp;
      input?: string;
      allowFailure?: boolean;
      /** Privileged: run as root by the funnel's one rule (root already, else sudo -n). */
      asRoot?: boolean;
    },
  ): Promise<RunResult>;
  log(line: string): void;
  /** Aborted when the step times out; long waits should stop on it. */
  readonly signal: AbortSignal;
}

export interface Step {
  readonly name: string;
  readonly timeoutMs: number;
  /** Extra tries on failure (flaky service starts), with a delay between. */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  run(ctx: StepContext): Promise<void>;
}

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  readonly name: string;
  readonly status: StepStatus;
  readonly seconds: number;
  readonly attempts: number;
  readonly error?: string;
  /** What kind of failure it was: the cloud's (external), the user's, or a bug of ours. */
  readonly failure?: ItemFailure;
  /** The step's last output lines (for the report of a failure). */
  readonly lastLines: string[];
}

export interface SuiteResult {
  readonly name: string;
  readonly passed: boolean;
  readonly steps: StepResult[];
  /** The first failing step, if any. */
  readonly failed?: StepResult;
}

/**
 * A step's command failed or timed out: the cloud under test, not the toolkit. Retryable (a
 * step's retries are for a cloud still settling) unless it cannot mend, like a missing program.
 */
export class StepFailure extends ExternalError {
  override readonly name = 'StepFailure';
  constructor(message: string, retryable = true) {
    super(message, { retryable });
  }
}

/**
 * Runs steps in order, each bounded in time; the first failure stops the run (later steps are
 * skipped, as they depend on it), then `collect` gathers logs for the report.
 */
export async function runSteps(
  name: string,
  steps: readonly Step[],
  options: {
    log?: (line: string) => void;
    collect?: (failed: StepResult) => Promise<void>;
    sleep?: (ms: number) => Promise<void>;
  } = {},
): Promise<SuiteResult> {
  const log = options.log ?? (() => {});
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const results: StepResult[] = [];
  let failed: StepResult | undefined;
  for (const step of steps) {
    if (failed) {
      results.push({ name: step.name, status: 'skipped', seconds: 0, attempts: 0, lastLines: [] });
      continue;
    }
    const started = Date.now();
    let attempts = 0;
    let error: string | undefined;
    let failure: ItemFailure | undefined;
    let lines: string[];
    for (;;) {
      attempts++;
      log(`▶ ${step.name}${attempts > 1 ? ` (try ${attempts})` : ''}`);
      const outcome = await attempt(step, log);
      lines = outcome.lines;
      error = outcome.failure?.message;
      failure = outcome.failure;
      // Only what may mend is tried again: not a user's mistake, a missing program or a bug.
      if (!failure?.retryable || attempts > (step.retries ?? 0)) break;
      log(`  ${error}; retrying in ${Math.round((step.retryDelayMs ?? 0) / 1000)} s`);
      await sleep(step.retryDelayMs ?? 0);
    }
    const result: StepResult = {
      name: step.name,
      status: error ? 'failed' : 'passed',
      seconds: (Date.now() - started) / 1000,
      attempts,
      ...(failure ? { error, failure } : {}),
      lastLines: lines.slice(-20),
    };
    results.push(result);
    log(
      `${error ? '✗' : '✓'} ${step.name} (${result.seconds.toFixed(1)} s)${error ? `: ${error}` : ''}`,
    );
    if (error) {
      failed = result;
      if (options.collect)
        await options
          .collect(result)
          .catch((e: unknown) => log(`log collection failed: ${errorMessage(e)}`));
    }
  }
  return { name, passed: !failed, steps: results, ...(failed ? { failed } : {}) };
}

async function attempt(
  step: Step,
  log: (line: string) => void,
): Promise<{ failure?: ItemFailure; lines: string[] }> {
  const controller = new AbortController();
  const lines: string[] = [];
  const ctx: StepContext = {
    signal: controller.signal,
    log: (line) => {
      lines.push(line);
      log(`  ${line}`);
    },
    run: async (argv, options = {}) => {
      if (controller.signal.aborted) throw new StepFailure('the step timed out');
      // In a process group of its own, killed whole when the step times out: a hung command
      // (and what it started) must not outlive its step.
      const output: string[] = [];
      let result;
      try {
        result = await exec(argv, {
          env: options.env,
          dropEnv: options.dropEnv,
          stdin: options.input,
          asRoot: options.asRoot,
          signal: controller.signal,
          killGroup: true,
          onLine: (line) => {
            if (!line) return;
            output.push(line);
            ctx.log(line);
          },
        });
      } catch (error) {
        if (error instanceof MissingProgramError)
          throw new StepFailure(`cannot run ${argv[0]}: ${error.message}`, false);
        throw error;
      }
      if (result.code !== 0 && !options.allowFailure) {
        throw new StepFailure(
          `\`${argv.join(' ')}\` exited ${result.code}${output.length ? `: ${output.at(-1)}` : ''}`,
        );
      }
      return { code: result.code, output };
    },
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new StepFailure(`timed out after ${Math.round(step.timeoutMs / 1000)} s`));
    }, step.timeoutMs);
  });
  try {
    await Promise.race([step.run(ctx), timeout]);
    return { lines };
  } catch (error) {
    return { failure: itemFailure(error), lines };
  } finally {
    clearTimeout(timer);
  }
}

/** JUnit XML for test reporters: one testsuite, a testcase per step. */
export function junitXml(suite: SuiteResult): string {
  const esc = (text: string): string =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const total = suite.steps.reduce((sum, s) => sum + s.seconds, 0);
  const cases = suite.steps.map((s) => {
    const open = `  <testcase classname="${esc(suite.name)}" name="${esc(s.name)}" time="${s.seconds.toFixed(3)}"`;
    if (s.status === 'passed') return `${open}/>`;
    if (s.status === 'skipped')
      return `${open}>\n    <skipped message="an earlier step failed"/>\n  </testcase>`;
    return `${open}>\n    <failure message="${esc(s.error ?? 'failed')}">${esc(s.lastLines.join('\n'))}</failure>\n  </testcase>`;
  });
  const failures = suite.steps.filter((s) => s.status === 'failed').length;
  const skipped = suite.steps.filter((s) => s.status === 'skipped').length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="${esc(suite.name)}" tests="${suite.steps.length}" failures="${failures}" skipped="${skipped}" time="${total.toFixed(3)}">`,
    ...cases,
    '</testsuite>',
    '',
  ].join('\n');
}
