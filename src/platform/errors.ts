/**
 * The toolkit's errors, three kinds, each reported its own way (src/actions/runner.ts):
 * - ConfigurationError: the user's to fix (an input, a file, a branch name); the message says what
 *   to change, and nothing has been written, pushed or published.
 * - ExternalError: something outside failed (a program, the store, GitHub, a git server, LXD);
 *   says what, with its exit code or status where there is one, whether trying again may help,
 *   and where the evidence is.
 * - Bug: an invariant of ours broke; reported as a bug, with its stack in the debug log.
 * `new Error(` is not used in src/ (eslint): every throw says which of the three it is.
 */

export class ConfigurationError extends Error {
  override readonly name: string = 'ConfigurationError';
}

export interface ExternalFailure {
  /** Trying again may succeed (a dropped connection, a 5xx, a store still reviewing). */
  readonly retryable?: boolean;
  /** Where a maintainer finds more (a logs directory, an artifact). */
  readonly evidence?: string;
  readonly cause?: unknown;
}

export class ExternalError extends Error {
  override readonly name: string = 'ExternalError';
  readonly retryable: boolean;
  readonly evidence: string | null;
  constructor(message: string, failure: ExternalFailure = {}) {
    super(message, failure.cause === undefined ? undefined : { cause: failure.cause });
    this.retryable = failure.retryable ?? false;
    this.evidence = failure.evidence ?? null;
  }
}

/**
 * A program failed. Carries the command (without secrets), its exit code and the line that
 * explains it, so the report is one actionable sentence.
 */
export class ToolError extends ExternalError {
  override readonly name: string = 'ToolError';
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly detail: string,
    failure: ExternalFailure = {},
  ) {
    super(
      `\`${command}\` failed with exit code ${exitCode}${detail ? `: ${detail}` : ''}`,
      failure,
    );
  }
}

/** An invariant of the toolkit's own broke. */
export class Bug extends Error {
  override readonly name = 'Bug';
}

/** The one answer to "may trying again help?": only an external failure that says so. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ExternalError && error.retryable;
}

/**
 * Which kind a thrown value is. Errors of ours say so by class; an unknown error from a library or
 * the system (an HTTP status, ECONNRESET) is external; a TypeError/RangeError/ReferenceError is a
 * bug whoever threw it.
 */
export function errorKind(error: unknown): 'configuration' | 'external' | 'bug' {
  if (error instanceof ConfigurationError) return 'configuration';
  if (error instanceof ExternalError) return 'external';
  if (
    error instanceof Bug ||
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    !(error instanceof Error)
  )
    return 'bug';
  return 'external';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type ErrorKind = ReturnType<typeof errorKind>;

/**
 * How one item of a batch failed (a repository of the mirror, a smoke step, an upload, a
 * rebuild): the batch goes on, and the action is reported by its most serious failure.
 */
export interface ItemFailure {
  readonly message: string;
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  /** A bug's stack, for the debug log. */
  readonly stack?: string;
}

export function itemFailure(error: unknown, kind: ErrorKind = errorKind(error)): ItemFailure {
  return {
    message: errorMessage(error),
    kind,
    retryable: isRetryable(error),
    ...(kind === 'bug' && error instanceof Error && error.stack ? { stack: error.stack } : {}),
  };
}

/**
 * The one error a batch's failures come to, for runAction to report: a bug if any was one (its
 * stack kept), else the user's to fix if any was, else an external failure, which a re-run may
 * mend only if every one of them was retryable.
 */
export function batchError(failures: readonly ItemFailure[], message: string): Error {
  const bug = failures.find((f) => f.kind === 'bug');
  if (bug) {
    const error = new Bug(message);
    if (bug.stack) error.stack = `${error.name}: ${message}\nfirst bug: ${bug.stack}`;
    return error;
  }
  if (failures.some((f) => f.kind === 'configuration')) return new ConfigurationError(message);
  return new ExternalError(message, {
    retryable: failures.length > 0 && failures.every((f) => f.retryable),
  });
}
