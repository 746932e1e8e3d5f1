import { exec, lastLines, MissingProgramError, ToolError } from '../platform/index.js';

/** One command of the runner preparation, as argv (run as root: sudo on GitHub's runners). */
export interface SetupStep {
  readonly why: string;
  readonly argv: string[];
  /** A failure of this step is reported but does not stop the job. */
  readonly optional?: boolean;
  /** Environment the root command needs (sudo resets the environment). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * What a job needs from a hosted runner:
 * - `build`: `snapcraft pack --use-lxd`, so snapd seeded and not refreshing under the build, LXD
 *   initialised and reachable without a group change, Docker's FORWARD policy (DROP) opened for
 *   LXD's bridge, and snapcraft from the channel for the base;
 * - `emulated-build`: LXD too, but no snapcraft on the host: qemu-user-static (its binfmt handlers
 *   carry the F flag, so containers find the emulator) and debootstrap for the build image;
 * - `store`: upload, release and promotion, which need only snapcraft (GitHub's images have none);
 * - `remote-build`: snapcraft remote-build, which needs only snapcraft (Launchpad builds).
 */
export type SetupPurpose = 'build' | 'emulated-build' | 'store' | 'remote-build';

export interface SetupOptions {
  readonly purpose: SetupPurpose;
  readonly snapcraftChannel: string;
  /** What the runner already has (probeRunner). */
  readonly docker: boolean;
  readonly lxdInstalled: boolean;
}

export function runnerSetupPlan(options: SetupOptions): SetupStep[] {
  const steps: SetupStep[] = [
    { why: 'wait for snapd to finish seeding', argv: ['snap', 'wait', 'system', 'seed.loaded'] },
  ];
  const snapcraft: SetupStep = {
    why: `install snapcraft (${options.snapcraftChannel})`,
    argv: ['snap', 'install', 'snapcraft', '--classic', `--channel=${options.snapcraftChannel}`],
  };
  if (options.purpose === 'store' || options.purpose === 'remote-build')
    return [...steps, snapcraft];
  steps.push({
    why: 'hold snap auto-refresh during the build',
    argv: ['snap', 'refresh', '--hold=3h'],
    optional: true,
  });
  if (!options.lxdInstalled) steps.push({ why: 'install LXD', argv: ['snap', 'install', 'lxd'] });
  steps.push(
    { why: 'wait for LXD', argv: ['lxd', 'waitready', '--timeout=300'] },
    { why: 'initialise LXD (storage, lxdbr0)', argv: ['lxd', 'init', '--auto'] },
    // The runner user is not in the lxd group in this session; open the socket to it instead.
    {
      why: 'let the runner user reach LXD',
      argv: ['chmod', 'o+rw', '/var/snap/lxd/common/lxd/unix.socket'],
    },
  );
  if (options.docker) {
    steps.push(
      {
        why: "let LXD's bridge through Docker's FORWARD DROP",
        argv: ['iptables', '-I', 'DOCKER-USER', '-i', 'lxdbr0', '-j', 'ACCEPT'],
        optional: true,
      },
      {
        why: "let replies back through Docker's FORWARD DROP",
        argv: [
          'iptables',
          '-I',
          'DOCKER-USER',
          '-o',
          'lxdbr0',
          '-m',
          'conntrack',
          '--ctstate',
          'RELATED,ESTABLISHED',
          '-j',
          'ACCEPT',
        ],
        optional: true,
      },
    );
  }
  if (options.purpose === 'emulated-build') {
    const apt = { DEBIAN_FRONTEND: 'noninteractive' };
    steps.push(
      { why: 'refresh the package lists', argv: ['apt-get', 'update', '-qq'], env: apt },
      {
        why: 'install qemu-user-static and debootstrap',
        argv: [
          'apt-get',
          'install',
          '-y',
          '-qq',
          'qemu-user-static',
          'binfmt-support',
          'debootstrap',
          'squashfs-tools',
        ],
        env: apt,
      },
    );
    return steps;
  }
  steps.push(snapcraft);
  return steps;
}

/** What the runner has already: the plan leaves those out. */
export async function probeRunner(): Promise<{ docker: boolean; lxdInstalled: boolean }> {
  const succeeds = (argv: string[]) =>
    exec(argv).then(
      (r) => r.code === 0,
      () => false,
    );
  const [docker, lxdInstalled] = await Promise.all([
    succeeds(['docker', '--version']),
    succeeds(['snap', 'list', 'lxd']),
  ]);
  return { docker, lxdInstalled };
}

/**
 * Runs the steps in order, as root, each line of their output to `log` as it comes. A failed
 * optional step is a warning; any other is a ToolError naming the step. Returns what was done,
 * one line a step, for the job summary.
 */
export async function prepareRunner(
  steps: readonly SetupStep[],
  log: (line: string) => void,
  warn: (line: string) => void = log,
): Promise<string[]> {
  const done: string[] = [];
  for (const step of steps) {
    log(`${step.why}: ${step.argv.join(' ')}`);
    let failure = '';
    try {
      const result = await exec(step.argv, {
        asRoot: true,
        env: step.env,
        onLine: (line) => log(`  ${line}`),
      });
      if (result.code !== 0)
        failure = lastLines(result.stderr || result.stdout) || `exit ${result.code}`;
    } catch (error) {
      if (!(error instanceof MissingProgramError)) throw error;
      failure = error.message;
    }
    if (!failure) {
      done.push(`${step.why}: ${step.argv.join(' ')}`);
      continue;
    }
    if (step.optional) warn(`${step.why} failed (${failure}); going on`);
    else
      throw new ToolError(
        step.argv.slice(0, 2).join(' '),
        1,
        `runner setup: ${step.why} failed: ${failure}`,
      );
  }
  return done;
}

/** Whether to prepare the runner: `auto` means on GitHub's hosted runners only. */
export function shouldPrepare(setting: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return setting === 'true' || (setting === 'auto' && env.RUNNER_ENVIRONMENT === 'github-hosted');
}
