import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asRoot, exec, execOk, LineSplitter, MissingProgramError } from '../src/platform/exec.js';
import { ToolError } from '../src/platform/errors.js';
import { tempDir } from './helpers/fixtures.js';
import { nodeAsAnotherUser } from './helpers/system.js';

describe('the process funnel', () => {
  it("keeps the action's inputs and the runner's tokens from programs, and what a caller drops, while what it passes arrives", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      INPUT_TOKEN: 'input-secret',
      ACTIONS_RUNTIME_TOKEN: 'runtime-secret',
      OS_CLOUD: 'someone-elses-cloud',
      OS_TOKEN: 'someone-elses-token',
    });
    try {
      const seen = await exec(['env'], {
        dropEnv: /^OS_/,
        env: { OS_AUTH_URL: 'http://127.0.0.1:5000/v3' },
      });
      const names = seen.stdout.split('\n').map((line) => line.split('=')[0]);
      expect(names).toContain('OS_AUTH_URL');
      expect(names).toContain('PATH');
      for (const name of ['INPUT_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'OS_CLOUD', 'OS_TOKEN'])
        expect(names).not.toContain(name);
      // Without dropEnv the job's OS_* are inherited as any variable is.
      expect((await exec(['env'])).stdout).toContain('OS_CLOUD=someone-elses-cloud');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    }
  });

  it('gives a line that straddles two reads once, whole', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    const text = "Building nova\nFailed to run the build script for part 'nova'.\r\ndone";
    // Every possible cut, including inside the CRLF and inside a multi-byte character.
    const bytes = Buffer.from(`${text} ✓`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      lines.length = 0;
      splitter.push(bytes.subarray(0, cut));
      splitter.push(bytes.subarray(cut));
      splitter.end();
      expect(lines).toEqual([
        'Building nova',
        "Failed to run the build script for part 'nova'.",
        'done ✓',
      ]);
    }
  });

  it('streams exactly the lines of a 20,000-line command as they come', async () => {
    const seen: string[] = [];
    const result = await exec(
      [
        process.execPath,
        '-e',
        'for (let i = 0; i < 20000; i++) console.log(`line ${i} ` + "x".repeat(i % 97))',
      ],
      { onLine: (line) => seen.push(line) },
    );
    expect(result.code).toBe(0);
    expect(seen).toHaveLength(20000);
    expect(seen[19999]).toBe(`line 19999 ${'x'.repeat(19999 % 97)}`);
    expect(result.lines).toEqual(seen);
    expect(result.stdout).toBe(`${seen.join('\n')}\n`);
  });

  it('names a missing program, with what installs it', async () => {
    const error = await exec(['unsquashfs-not-here'], {
      installHint: 'apt-get install squashfs-tools',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingProgramError);
    expect((error as Error).message).toBe(
      '`unsquashfs-not-here` failed with exit code 127: unsquashfs-not-here is not installed: apt-get install squashfs-tools',
    );
  });

  it('names a missing program when a directory on PATH cannot be searched (EACCES, not ENOENT)', async () => {
    // A PATH inherited from another user (su without -l): the search fails with EACCES. Root
    // searches every directory, so as root the check runs as nobody.
    const locked = tempDir('osa-locked-');
    chmodSync(locked, 0o755);
    mkdirSync(join(locked, 'bin'), { mode: 0o000 });
    const script = [
      `import { exec, MissingProgramError } from ${JSON.stringify(join(process.cwd(), 'src/platform/exec.ts'))};`,
      `const error = await exec(['osa-not-here'], { env: { PATH: ${JSON.stringify(`${join(locked, 'bin')}:/usr/bin:/bin`)} } }).catch((e) => e);`,
      `console.log(error instanceof MissingProgramError, error.message);`,
    ].join('\n');
    const said = execFileSync(
      ...nodeAsAnotherUser(['--import', 'tsx', '--input-type=module', '-e', script]),
      { cwd: process.cwd(), encoding: 'utf8' },
    );
    expect(said.trim()).toBe(
      'true `osa-not-here` failed with exit code 127: osa-not-here is not installed',
    );
  });

  it('names a program found on PATH that cannot be run', async () => {
    const dir = tempDir('osa-noexec-');
    writeFileSync(join(dir, 'osa-prog'), '#!/bin/sh\n', { mode: 0o644 });
    const error = await exec(['osa-prog'], { env: { PATH: `${dir}:/usr/bin:/bin` } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolError);
    expect(error).not.toBeInstanceOf(MissingProgramError);
    expect((error as Error).message).toBe(
      `\`osa-prog\` failed with exit code 126: ${join(dir, 'osa-prog')} is not executable`,
    );
  });

  it('turns a failure into the command and its reason, with secrets redacted everywhere', async () => {
    const secret = 'macaroon-0123456789';
    const seen: string[] = [];
    const error = await execOk(
      [
        process.execPath,
        '-e',
        `console.log("using ${secret}"); console.error("error: ${secret} expired"); process.exit(3)`,
      ],
      { secrets: [secret], onLine: (l) => seen.push(l) },
    ).catch((e: unknown) => e as ToolError);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).exitCode).toBe(3);
    expect((error as Error).message).toContain('error: *** expired');
    expect(seen).toEqual(['using ***', 'error: *** expired']);
    expect(JSON.stringify(seen) + (error as Error).message).not.toContain(secret);
  });

  it('kills a program that runs past its timeout, and says so', async () => {
    const started = Date.now();
    const result = await exec([process.execPath, '-e', 'setTimeout(() => {}, 60000)'], {
      timeoutMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(10000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toBe('timed out after 0 s');
  });

  it('passes stdin, cwd and env', async () => {
    const result = await execOk(
      [
        process.execPath,
        '-e',
        'process.stdin.pipe(process.stdout); console.error(process.cwd(), process.env.OSA_X)',
      ],
      { stdin: 'in\n', cwd: '/tmp', env: { OSA_X: 'y' } },
    );
    expect(result.stdout).toBe('in\n');
    expect(result.stderr).toBe('/tmp y\n');
  });

  it('has one rule for root: as is when root, else sudo -n keeping the environment by name', () => {
    expect(asRoot(['snap', 'install', 'lxd'], [], 0)).toEqual(['snap', 'install', 'lxd']);
    expect(asRoot(['snap', 'install', 'lxd'], [], 1001)).toEqual([
      'sudo',
      '-n',
      'snap',
      'install',
      'lxd',
    ]);
    // Values stay in the environment, out of argv (a bootstrap password among them).
    expect(
      asRoot(['keystone.manage', 'bootstrap'], ['OS_BOOTSTRAP_PASSWORD', 'DEBIAN_FRONTEND'], 1001),
    ).toEqual([
      'sudo',
      '-n',
      '--preserve-env=OS_BOOTSTRAP_PASSWORD,DEBIAN_FRONTEND',
      'keystone.manage',
      'bootstrap',
    ]);
  });
});
