import { ToolError } from './errors.js';
import { exec, lastLines, type ExecResult } from './exec.js';

export type GitResult = ExecResult;

export interface GitOptions {
  /** Working directory (or a bare repository's directory). */
  readonly cwd?: string;
  /**
   * Extra environment. Secrets travel here (e.g. `GIT_CONFIG_*` for an extraheader), never in
   * argv: argv is visible in `ps` and in logs of tools that echo commands.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with each line git writes to stderr, for progress in logs. */
  readonly onStderr?: (line: string) => void;
  /** `-c key=value` for every command (no secrets: argv is visible). */
  readonly config?: Readonly<Record<string, string>>;
  /** Calls every command off (killing git and what it started). */
  readonly signal?: AbortSignal;
}

/**
 * git, as a thin client of the process funnel: argv arrays (no shell), no prompts, a stable
 * locale, and a failure turned into one sentence with git's own reason.
 */
export class Git {
  constructor(private readonly options: GitOptions = {}) {}

  /** Runs git and returns its result, whatever the exit code. */
  exec(args: readonly string[], input?: string): Promise<GitResult> {
    const config = Object.entries(this.options.config ?? {}).flatMap(([k, v]) => [
      '-c',
      `${k}=${v}`,
    ]);
    return exec(['git', ...config, ...args], {
      cwd: this.options.cwd,
      env: {
        ...this.options.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: '',
        SSH_ASKPASS: '',
        GCM_INTERACTIVE: 'never',
        LC_ALL: 'C',
      },
      stdin: input,
      installHint: 'install git',
      ...(this.options.signal ? { signal: this.options.signal, killGroup: true } : {}),
      onLine: this.options.onStderr
        ? (line, stream) => {
            if (stream === 'stderr' && line) this.options.onStderr!(line);
          }
        : undefined,
    });
  }

  /** Runs git and returns stdout; a non-zero exit becomes a ToolError with git's reason. */
  async run(args: readonly string[], input?: string): Promise<string> {
    const result = await this.exec(args, input);
    if (result.code !== 0) {
      throw new ToolError(`git ${describeArgs(args)}`, result.code, lastLines(result.stderr));
    }
    return result.stdout;
  }

  /** True when git exits 0. */
  async try(args: readonly string[]): Promise<boolean> {
    return (await this.exec(args)).code === 0;
  }
}

// Show the subcommand and its flags; URLs lose any userinfo so a token typed into one never shows.
function describeArgs(args: readonly string[]): string {
  return args.map((a) => a.replace(/\/\/[^/@\s]*@/, '//***@')).join(' ');
}
