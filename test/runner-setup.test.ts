import { afterEach, describe, expect, it } from '@jest/globals';
import { ToolError } from '../src/platform/errors.js';
import {
  prepareRunner,
  probeRunner,
  runnerSetupPlan,
  shouldPrepare,
} from '../src/build/runner-setup.js';
import { standinMachine } from './helpers/machine.js';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** Runs runner setup against the stand-in machine; returns what ran, what was logged, warned. */
async function setUp(
  purpose: 'build' | 'emulated-build' | 'store',
  machineEnv: Record<string, string> = {},
): Promise<{ commands: string[]; log: string[]; warnings: string[]; done: string[] }> {
  const machine = standinMachine();
  Object.assign(process.env, machine.env, machineEnv);
  const log: string[] = [];
  const warnings: string[] = [];
  const probe = await probeRunner();
  const done = await prepareRunner(
    runnerSetupPlan({ purpose, snapcraftChannel: '8.x/stable', ...probe }),
    (l) => log.push(l),
    (w) => warnings.push(w),
  );
  // The probes ran too (docker --version, snap list lxd); what setup did follows them.
  return { commands: machine.commands().slice(2), log, warnings, done };
}

describe('runner setup, run against a stand-in hosted runner', () => {
  it('for a native build: snapd, LXD (installed when missing), Docker rules only with Docker, then snapcraft for the base', async () => {
    const { commands, log } = await setUp('build', { MACHINE_DOCKER: '1' });
    expect(commands).toEqual([
      'snap wait system seed.loaded',
      'snap refresh --hold=3h',
      'snap install lxd',
      'lxd waitready --timeout=300',
      'lxd init --auto',
      'chmod o+rw /var/snap/lxd/common/lxd/unix.socket',
      'iptables -I DOCKER-USER -i lxdbr0 -j ACCEPT',
      'iptables -I DOCKER-USER -o lxdbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      'snap install snapcraft --classic --channel=8.x/stable',
    ]);
    // The program's own output reaches the log as it runs.
    expect(log).toContain('  snapcraft (8.x/stable) 8.11.2 from Canonical✓ installed');
  });

  it('leaves out what the runner has: LXD installed, no Docker', async () => {
    const { commands } = await setUp('build', { MACHINE_LXD: '1' });
    expect(commands).not.toContain('snap install lxd');
    expect(commands.some((c) => c.startsWith('iptables'))).toBe(false);
  });

  it('for an emulated build: qemu-user-static and debootstrap from apt, no snapcraft on the host', async () => {
    const { commands } = await setUp('emulated-build', { MACHINE_LXD: '1' });
    expect(commands.at(-2)).toBe('apt-get update -qq');
    expect(commands.at(-1)).toBe(
      'apt-get install -y -qq qemu-user-static binfmt-support debootstrap squashfs-tools',
    );
    expect(commands.some((c) => c.includes('snapcraft'))).toBe(false);
  });

  it('for the store (upload, release, promotion): only snapcraft', async () => {
    const { commands, done } = await setUp('store');
    expect(commands).toEqual([
      'snap wait system seed.loaded',
      'snap install snapcraft --classic --channel=8.x/stable',
    ]);
    expect(done.at(-1)).toBe(
      'install snapcraft (8.x/stable): snap install snapcraft --classic --channel=8.x/stable',
    );
  });

  it('warns and goes on when an optional step fails', async () => {
    const { commands, warnings } = await setUp('build', {
      MACHINE_LXD: '1',
      MACHINE_FAIL: 'snap refresh --hold',
    });
    expect(warnings).toEqual([
      'hold snap auto-refresh during the build failed (error: snap failed on demand (snap refresh --hold)); going on',
    ]);
    expect(commands.at(-1)).toBe('snap install snapcraft --classic --channel=8.x/stable');
  });

  it('stops at a failed step with one sentence naming it and the program’s reason', async () => {
    const error = await setUp('store', { MACHINE_FAIL: 'snap install snapcraft' }).catch(
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(
      /runner setup: install snapcraft \(8\.x\/stable\) failed: error: snap failed on demand/,
    );
  });

  it('runs only on hosted runners unless told', () => {
    expect(shouldPrepare('auto', { RUNNER_ENVIRONMENT: 'github-hosted' })).toBe(true);
    expect(shouldPrepare('auto', { RUNNER_ENVIRONMENT: 'self-hosted' })).toBe(false);
    expect(shouldPrepare('true', {})).toBe(true);
    expect(shouldPrepare('false', { RUNNER_ENVIRONMENT: 'github-hosted' })).toBe(false);
  });
});
