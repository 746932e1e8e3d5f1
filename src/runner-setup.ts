/** One command of the runner preparation, as argv (run with sudo on GitHub's runners). */
export interface SetupStep {
  readonly why: string;
  readonly argv: string[];
  /** A failure of this step is reported but does not stop the build. */
  readonly optional?: boolean;
}

/**
 * What a hosted Ubuntu runner needs before `snapcraft pack --use-lxd`: snapd seeded and not
 * refreshing under the build, LXD initialised and reachable without a group change, Docker's
 * FORWARD policy (DROP) opened for LXD's bridge, and snapcraft from the channel for the base.
 * An emulated build needs LXD too, but not snapcraft on the host: instead qemu-user-static (its
 * binfmt handlers carry the F flag, so containers find the emulator) and debootstrap for the
 * build image.
 */
export function runnerSetupPlan(options: {
  snapcraftChannel: string;
  docker: boolean;
  lxdInstalled: boolean;
  emulate?: boolean;
}): SetupStep[] {
  const steps: SetupStep[] = [
    { why: 'wait for snapd to finish seeding', argv: ['snap', 'wait', 'system', 'seed.loaded'] },
    {
      why: 'hold snap auto-refresh during the build',
      argv: ['snap', 'refresh', '--hold=3h'],
      optional: true,
    },
  ];
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
  if (options.emulate) {
    steps.push(
      { why: 'refresh the package lists', argv: ['apt-get', 'update', '-qq'] },
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
      },
    );
    return steps;
  }
  steps.push({
    why: `install snapcraft (${options.snapcraftChannel})`,
    argv: ['snap', 'install', 'snapcraft', '--classic', `--channel=${options.snapcraftChannel}`],
  });
  return steps;
}
