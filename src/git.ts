import { spawn } from 'node:child_process';
import { ToolError } from './errors.js';

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

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
}

/**
 * The one place this toolkit runs git: argv arrays (no shell), no prompts, a stable locale, and a
 * failure turned into one sentence with git's own reason.
 */
export class Git {
  constructor(private readonly options: GitOptions = {}) {}

  /** Runs git and returns its result, whatever the exit code. */
  async exec(args: readonly string[], input?: string): Promise<GitResult> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.options.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      GCM_INTERACTIVE: 'never',
      LC_ALL: 'C',
    };
    return new Promise((resolvePromise, reject) => {
      const child = spawn('git', args, {
        cwd: this.options.cwd,
        env,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => {
        err.push(chunk);
        if (this.options.onStderr) {
          for (const line of chunk.toString('utf8').split(/[\r\n]+/))
            if (line) this.options.onStderr(line);
        }
      });
      child.on('error', reject);
      child.on('close', (code) =>
        resolvePromise({
          code: code ?? 1,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
      if (child.stdin) {
        // git may exit before reading all of its input; its exit code tells what happened.
        child.stdin.on('error', () => {});
        child.stdin.end(input);
      }
    });
  }

  /** Runs git and returns stdout; a non-zero exit becomes a ToolError with git's reason. */
  async run(args: readonly string[], input?: string): Promise<string> {
    const result = await this.exec(args, input);
    if (result.code !== 0) {
      throw new ToolError(`git ${describeArgs(args)}`, result.code, meaningfulLine(result.stderr));
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

/** The stderr line that says why git failed: its last fatal/error line, else its last line. */
export function meaningfulLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const reason = [...lines].reverse().find((l) => /^(fatal|error):/.test(l));
  return (reason ?? lines.at(-1) ?? '').replace(/\/\/[^/@\s]*@/, '//***@');
}
