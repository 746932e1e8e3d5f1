import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/git-fixtures.mjs';
import { setupCommand } from '../../scripts/lib/setup-hint.mjs';
import { tempDir } from './fixtures.js';
import { onPath, type Capability } from './system.js';

/** uWSGI serving one WSGI file over HTTP on 127.0.0.1, one process, one thread (as the tests need). */
export function uwsgiArgs(port: number, wsgi: string, pyargv: readonly string[] = []): string[] {
  return [
    ...['--plugin', 'python3,http', '--http', `127.0.0.1:${port}`, '--http-keepalive'],
    ...['--wsgi-file', wsgi, ...(pyargv.length > 0 ? ['--pyargv', pyargv.join(' ')] : [])],
    ...['--processes', '1', '--threads', '1', '--master', '--die-on-term'],
  ];
}

/** Whether Debian's Keystone, the openstack client and uWSGI are here, and why not. */
export function keystoneCapability(): Capability {
  const missing = ['keystone-manage', 'keystone-wsgi-public', 'openstack', 'uwsgi'].filter(
    (c) => !onPath(c),
  );
  const plugins = ['python3', 'http'].filter(
    (p) => !existsSync(`/usr/lib/uwsgi/plugins/${p}_plugin.so`),
  );
  if (missing.length === 0 && plugins.length === 0) return { ok: true, reason: '' };
  return {
    ok: false,
    reason:
      `${[...missing, ...plugins.map((p) => `uwsgi's ${p} plugin`)].join(', ')} not installed ` +
      `(${setupCommand('--system')} installs keystone, python3-openstackclient and uwsgi)`,
  };
}

/**
 * A real Keystone (Debian bookworm's keystone 22, zed) with an sqlite database in a scratch directory,
 * served by uWSGI on 127.0.0.1, and a `keystone.manage` on PATH: a STAND-IN for the keystone
 * snap's command, which runs the real keystone-manage on this Keystone's config (and records its
 * argv, as an `openstack` wrapper records the client's).
 *
 * Served by one uWSGI worker behind uWSGI's HTTP router with keep-alive, on a database in WAL
 * mode: with rollback journaling a read left open by Keystone's not-found path locks every later
 * write out ("database is locked", a 500 the client sees as a dropped connection), as do two
 * workers; plain --http-socket drops the client's kept-alive connections.
 */
export async function prepareKeystone(): Promise<{
  readonly port: number;
  readonly bin: string;
  readonly argvLog: string;
  readonly env: Readonly<Record<string, string>>;
  serve(): Promise<void>;
  stop(): Promise<void>;
}> {
  const dir = tempDir('osa-keystone-');
  const conf = join(dir, 'keystone.conf');
  const port = await freePort();
  mkdirSync(join(dir, 'log'));
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      `log_dir = ${join(dir, 'log')}`,
      '[database]',
      `connection = sqlite:///${join(dir, 'keystone.db')}`,
      '[token]',
      'provider = fernet',
      '[fernet_tokens]',
      `key_repository = ${join(dir, 'fernet-keys')}`,
      // fernet_setup makes the receipts' keys too: here, not in /etc/keystone.
      '[fernet_receipts]',
      `key_repository = ${join(dir, 'fernet-receipts')}`,
      '[credential]',
      `key_repository = ${join(dir, 'credential-keys')}`,
      '',
    ].join('\n'),
  );
  // The key repositories are made by the action's own db-sync step, as root inside the snap;
  // here the stand-in keystone.manage makes them for the user running the tests.
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  const bin = join(dir, 'bin');
  const argvLog = join(dir, 'argv.log');
  mkdirSync(bin);
  const wrapper = (name: string, real: string, rewrite = '') => {
    writeFileSync(
      join(bin, name),
      `#!/bin/sh\nprintf '%s %s\\n' '${name}' "$*" >> '${argvLog}'\n${rewrite}exec ${real} "$@"\n`,
    );
    chmodSync(join(bin, name), 0o755);
  };
  // Inside the snap the service runs as root; here the keys belong to the user running the tests.
  const asUser = [
    'for a; do shift',
    `  case "$a" in root) [ "$prev" = --keystone-user ] && a='${user}'; [ "$prev" = --keystone-group ] && a='${group}';; esac`,
    '  set -- "$@" "$a"; prev="$a"',
    'done',
    '',
  ].join('\n');
  wrapper('keystone.manage', `keystone-manage --config-file '${conf}'`, asUser);
  wrapper(
    'openstack',
    execFileSync('sh', ['-c', 'command -v openstack'], { encoding: 'utf8' }).trim(),
  );
  let server: ChildProcess | null = null;
  return {
    port,
    bin,
    argvLog,
    env: { OS_KEYSTONE_CONFIG_FILES: conf },
    serve: async () => {
      execFileSync('python3', [
        '-c',
        'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL")',
        join(dir, 'keystone.db'),
      ]);
      server = spawn(
        'uwsgi',
        [...uwsgiArgs(port, '/usr/bin/keystone-wsgi-public'), '--logto', join(dir, 'uwsgi.log')],
        {
          env: { ...process.env, OS_KEYSTONE_CONFIG_FILES: conf },
          stdio: 'ignore',
          detached: true,
        },
      );
      server.unref();
    },
    // Stopped by its own pid (the master, which takes its workers and router down with it).
    stop: async () => {
      const child = server;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Reads a cloud back with the real openstack client, as a person would: sorted value lines. */
export function readBack(env: NodeJS.ProcessEnv, ...args: string[]): string[] {
  return execFileSync('/usr/bin/openstack', [...args, '-f', 'value'], { env, encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean)
    .sort();
}
