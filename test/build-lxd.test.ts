import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInContainer, type ContainerBuildOptions } from '../src/build/container.js';
import { elfArch } from '../src/build/elf.js';
import { ConfigurationError } from '../src/platform/errors.js';
import { Lxd } from '../src/platform/lxd.js';
import { fixture, ROOT, tempDir } from './helpers/fixtures.js';
import { announceSkip, lxdCapability } from './helpers/system.js';
import { BuildError } from '../src/build/failure.js';

const IMAGES = { amd64: 'osa-amd64', arm64: 'osa-arm64', ppc64el: 'osa-ppc64el' };
const capability = lxdCapability(Object.values(IMAGES));
if (!capability.ok) announceSkip('LXD system tests', capability.reason);
const system = capability.ok ? describe : describe.skip;
const lxd = new Lxd();

/** The 2017 keystone snap with the in-container snapcraft stand-in beside it. */
function project(): string {
  const dir = tempDir('osa-build-project-');
  cpSync(fixture('openstack-archive/snap-keystone/master'), dir, { recursive: true });
  copyFileSync(join(ROOT, 'test/standins/snapcraft-pack.sh'), join(dir, 'snapcraft-pack.sh'));
  return dir;
}

function options(
  arch: keyof typeof IMAGES,
  extra: Partial<ContainerBuildOptions> = {},
): ContainerBuildOptions {
  const out = tempDir('osa-build-out-');
  return {
    lxd,
    projectDir: project(),
    arch,
    image: IMAGES[arch],
    // The test images have no init; LXD runs a sleep as PID 1 instead.
    instanceConfig: { 'raw.lxc': 'lxc.init.cmd = /bin/sleep infinity' },
    command: ['sh', './snapcraft-pack.sh'],
    env: { SNAPCRAFT_BUILD_INFO: '1' },
    outputDir: join(out, 'snaps'),
    logsDir: join(out, 'logs'),
    // The instances this suite starts (other suites may build in LXD at the same time).
    log: (line) => {
      const started = /^(osa-build-\S+): /.exec(line);
      if (started) created.add(started[1]!);
    },
    ...extra,
  };
}

const created = new Set<string>();

system(
  'building in LXD containers of each architecture (stand-in snapcraft inside, everything else real)',
  () => {
    afterAll(() => {
      const left = execFileSync('lxc', ['list', '--format=csv', '-c', 'n'], { encoding: 'utf8' });
      expect(created.size).toBeGreaterThan(0);
      expect(left.split('\n').filter((n) => created.has(n))).toEqual([]);
    });

    it.each(['amd64', 'arm64', 'ppc64el'] as const)(
      'builds %s and pulls out a snap whose binaries are of that architecture',
      async (arch) => {
        const result = await buildInContainer(options(arch));
        expect(result.snaps).toHaveLength(1);
        const snap = result.snaps[0]!;
        expect(snap).toMatchObject({ name: 'keystone', version: 'ocata', arch });
        // Independent check of what verifyArch checked: unpack and read the ELF headers here.
        const dir = tempDir('osa-unpacked-');
        execFileSync('unsquashfs', ['-quiet', '-no-progress', '-f', '-d', dir, snap.file]);
        expect(elfArch(join(dir, 'bin/ls'))).toBe(arch);
        expect(execFileSync('file', ['-b', join(dir, 'bin/true')], { encoding: 'utf8' })).toMatch(
          { amd64: /x86-64/, arm64: /aarch64/, ppc64el: /LSB.*64-bit PowerPC/ }[arch],
        );
      },
      300000,
    );

    it('names the failing part and step, and keeps the output, the console and snapcraft logs', async () => {
      const opts = options('arm64', { env: { STANDIN_FAIL_PART: 'keystone' } });
      const error = await buildInContainer(opts).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BuildError);
      expect(error).toMatchObject({ part: 'keystone', step: 'build' });
      expect((error as Error).message).toMatch(
        /The arm64 build failed: part 'keystone' failed in its build step\. Last lines:[\s\S]*Failed to run the build script for part 'keystone'/,
      );
      expect(readdirSync(opts.logsDir).sort()).toEqual([
        'build-output.log',
        'console.log',
        'snapcraft-logs',
      ]);
      expect(readdirSync(join(opts.logsDir, 'snapcraft-logs'))[0]).toMatch(/^snapcraft-.*\.log$/);
      expect(existsSync(opts.outputDir) && readdirSync(opts.outputDir)).toEqual([]);
    }, 300000);

    it('refuses a snap that carries binaries of another architecture', async () => {
      const opts = options('arm64');
      mkdirSync(join(opts.projectDir, 'prebuilt'));
      copyFileSync('/bin/true', join(opts.projectDir, 'prebuilt', 'helper')); // the host's x86-64 binary
      await expect(buildInContainer(opts)).rejects.toThrow(
        /says arm64 but carries binaries of another architecture: bin\/helper \(amd64\)/,
      );
    }, 300000);

    it('says so when the container is not of the wanted architecture', async () => {
      const error = await buildInContainer(options('arm64', { image: IMAGES.amd64 })).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/container runs x86_64, not arm64.*binfmt handlers/);
    }, 300000);
  },
);

system(
  "pip's wheel cache carried between emulated builds (stand-in pack that caches like pip)",
  () => {
    it('goes in before the build, comes back after it, and the next build uses it', async () => {
      const cache = join(tempDir('osa-pip-carry-'), 'pip');
      const carry = [{ host: cache, container: '/root/.cache/pip' }];
      const env = { PIP_CACHE_DIR: '/root/.cache/pip' };
      const lines: string[] = [];
      const first = await buildInContainer(options('arm64', { carry, env }));
      expect(first.carried).toEqual([
        { container: '/root/.cache/pip', filesBefore: 0, filesAfter: 5 },
      ]);
      expect(readdirSync(join(cache, 'wheels')).sort()).toEqual(
        ['config', 'keystone', 'libxml2', 'nginx', 'templates'].map((p) => `${p}.whl`),
      );
      const second = await buildInContainer(
        options('arm64', { carry, env, log: (line) => lines.push(line) }),
      );
      expect(second.carried).toEqual([
        { container: '/root/.cache/pip', filesBefore: 5, filesAfter: 5 },
      ]);
      expect(lines).toContain('Using cached wheel for keystone');
      expect(lines.filter((l) => l.startsWith('Built wheel'))).toEqual([]);
    }, 300000);

    it('leaves the host copy as it was when the build fails', async () => {
      const cache = join(tempDir('osa-pip-carry-'), 'pip');
      mkdirSync(join(cache, 'wheels'), { recursive: true });
      writeFileSync(join(cache, 'wheels/old.whl'), 'old');
      const opts = options('arm64', {
        carry: [{ host: cache, container: '/root/.cache/pip' }],
        env: { PIP_CACHE_DIR: '/root/.cache/pip', STANDIN_FAIL_PART: 'nginx' },
      });
      await expect(buildInContainer(opts)).rejects.toThrow(BuildError);
      expect(readdirSync(join(cache, 'wheels'))).toEqual(['old.whl']);
    }, 300000);
  },
);

system('a project that already holds a snap of another build', () => {
  it('pulls out only what this build made', async () => {
    const opts = options('arm64');
    // An amd64 snap from an earlier native build, left in the project directory.
    execFileSync('mksquashfs', [
      join(ROOT, 'test/standins'),
      join(opts.projectDir, 'keystone_ocata_amd64.snap'),
      '-quiet',
      '-no-progress',
    ]);
    const result = await buildInContainer(opts);
    expect(result.snaps.map((s) => s.file.split('/').pop())).toEqual(['keystone_ocata_arm64.snap']);
  }, 300000);
});
