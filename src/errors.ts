/**
 * A mistake in what the user gave us (an input, a file, a branch name). The message says what to
 * change; the action reports it without a stack trace, and nothing has been written, pushed or
 * published when it is thrown.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/**
 * An external program failed. Carries the command (without secrets), its exit code and the line of
 * stderr that explains it, so the report is one actionable sentence.
 */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly detail: string,
  ) {
    super(`\`${command}\` failed with exit code ${exitCode}${detail ? `: ${detail}` : ''}`);
  }
}

export function isConfigurationError(error: unknown): error is ConfigurationError {
  return error instanceof ConfigurationError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
