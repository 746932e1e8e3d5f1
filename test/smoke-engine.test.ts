import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { together } from '../src/smoke/client.js';
import { junitXml, runSteps, type Step } from '../src/smoke/engine.js';
import { pollUntil, waitForHttp, waitForPort } from '../src/smoke/waits.js';
import { freePort } from '../scripts/lib/git-fixtures.mjs';
import { tempDir } from './helpers/fixtures.js';

const closers: (() => void)[] = [];
afterAll(() => closers.forEach((close) => close()));

const shell = (name: string, script: string, extra: Partial<Step> = {}): Step => ({
  name,
  timeoutMs: 10000,
  run: async (ctx) => void (await ctx.run(['sh', '-c', script])),
  ...extra,
});

describe('the smoke-test step engine, with real processes', () => {
  it('runs steps in order and reports each with its duration', async () => {
    const order = join(tempDir(), 'order');
    const suite = await runSteps('deploy', [
      shell('rabbitmq user', `echo rabbitmq >> ${order}`),
      shell('databases', `echo databases >> ${order}`),
      shell('keystone', `echo keystone >> ${order}`),
    ]);
    expect(suite.passed).toBe(true);
    expect(readFileSync(order, 'utf8')).toBe('rabbitmq\ndatabases\nkeystone\n');
    expect(suite.steps.map((s) => [s.name, s.status, s.attempts])).toEqual([
      ['rabbitmq user', 'passed', 1],
      ['databases', 'passed', 1],
      ['keystone', 'passed', 1],
    ]);
  });

  it('stops at a failing service, names it with its last lines, skips the rest and collects logs', async () => {
    const collected: string[] = [];
    const suite = await runSteps(
      'deploy',
      [
        shell('databases', 'echo ok'),
        shell(
          'keystone db sync',
          "echo 'Running keystone-manage db_sync'; echo \"ERROR (pymysql.err.OperationalError) (1045, Access denied for user 'keystone'@'localhost')\" >&2; exit 1",
        ),
        shell('nova', 'echo never'),
      ],
      { collect: async (failed) => void collected.push(failed.name) },
    );
    expect(suite.passed).toBe(false);
    expect(suite.failed).toMatchObject({ name: 'keystone db sync', status: 'failed' });
    expect(suite.failed!.error).toMatch(
      /exited 1: ERROR \(pymysql\.err\.OperationalError\) \(1045, Access denied/,
    );
    expect(suite.failed!.lastLines).toEqual([
      'Running keystone-manage db_sync',
      expect.stringContaining('Access denied'),
    ]);
    expect(suite.steps.map((s) => s.status)).toEqual(['passed', 'failed', 'skipped']);
    expect(collected).toEqual(['keystone db sync']);
    const xml = junitXml(suite);
    expect(xml).toContain('<testsuite name="deploy" tests="3" failures="1" skipped="1"');
    // The failure message is an attribute: the command's double quotes must arrive escaped.
    const message = /<failure message="([^"]*)">/.exec(xml)![1]!;
    expect(message).toContain('&quot;ERROR (pymysql.err.OperationalError)');
    expect(message).not.toMatch(/[<]|&(?!quot;|amp;|lt;|gt;)/);
    expect(xml).toContain('<skipped message="an earlier step failed"/>');
  });

  it('kills what a step started when it times out', async () => {
    const pidFile = join(tempDir(), 'pid');
    const suite = await runSteps('deploy', [
      shell('wait for nova-api', `echo $$ > ${pidFile}; exec sleep 60`, { timeoutMs: 600 }),
    ]);
    expect(suite.failed!.error).toBe('timed out after 1 s');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('retries a flaky step and reports the attempts', async () => {
    const counter = join(tempDir(), 'count');
    writeFileSync(counter, '0');
    const suite = await runSteps(
      'deploy',
      [
        shell(
          'glance image upload',
          `n=$(($(cat ${counter}) + 1)); echo $n > ${counter}; [ $n -ge 3 ]`,
          { retries: 3, retryDelayMs: 10 },
        ),
      ],
      { sleep: async () => {} },
    );
    expect(suite.steps[0]).toMatchObject({ status: 'passed', attempts: 3 });
  });
});

describe('bounded waits', () => {
  it('waits for a service that starts late (a stand-in API process on 127.0.0.1)', async () => {
    const port = await freePort();
    // STAND-IN for keystone's API: answers /v3 once it has "started", 700 ms in.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `setTimeout(() => require('http').createServer((q, s) => s.end('{"version":{"id":"v3.14"}}')).listen(${port}, '127.0.0.1'), 700)`,
      ],
      { stdio: 'ignore' },
    );
    closers.push(() => child.kill());
    await waitForPort('127.0.0.1', port, 5000);
    expect(await waitForHttp(`http://127.0.0.1:${port}/v3`, { timeoutMs: 5000 })).toBe(200);
  });

  it('tells a hung service (accepts, never answers) from a closed port', async () => {
    const sockets: Socket[] = [];
    const hung: Server = createServer((socket) => void sockets.push(socket)); // accepts, says nothing
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    closers.push(() => {
      sockets.forEach((s) => s.destroy());
      hung.close();
    });
    const port = (hung.address() as { port: number }).port;
    await expect(
      waitForHttp(`http://127.0.0.1:${port}/v3`, { timeoutMs: 1500, requestTimeoutMs: 400 }),
    ).rejects.toThrow(
      /127\.0\.0\.1:\d+ accepts connections but http:\/\/127\.0\.0\.1:\d+\/v3 did not answer within 2 s \(the service is hung\)/,
    );
    const closed = await freePort();
    await expect(waitForPort('127.0.0.1', closed, 600)).rejects.toThrow(
      `nothing listens on 127.0.0.1:${closed} after 1 s`,
    );
    await expect(waitForHttp(`http://127.0.0.1:${closed}/`, { timeoutMs: 600 })).rejects.toThrow(
      /did not answer within 1 s \(last: the connection failed\)/,
    );
  });

  it('keeps waiting through 5xx until the service is ready', async () => {
    let calls = 0;
    const server = createHttpServer((_q, s) => {
      s.statusCode = ++calls < 3 ? 503 : 300;
      s.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => server.close());
    const status = await waitForHttp(
      `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
      { timeoutMs: 5000 },
    );
    expect([status, calls]).toEqual([300, 3]);
    expect(existsSync('/')).toBe(true);
  });
});

describe('pollUntil', () => {
  it('asks until the answer holds, then stops asking', async () => {
    let asked = 0;
    await pollUntil(async () => ++asked === 3, { timeoutMs: 5000, intervalMs: 10, what: () => '' });
    expect(asked).toBe(3);
  });

  it('fails past its bound, saying what the last try saw', async () => {
    let seen = 0;
    await expect(
      pollUntil(async () => (seen++, false), {
        timeoutMs: 200,
        intervalMs: 20,
        what: () => `still nothing after ${seen} tries`,
      }),
    ).rejects.toThrow(/^still nothing after \d+ tries within 0 s$/);
    expect(seen).toBeGreaterThan(3);
  });
});

describe('together', () => {
  const later = <T>(ms: number, value: T, fail = false): Promise<T> =>
    new Promise((resolve, reject) =>
      setTimeout(() => (fail ? reject(new Error(String(value))) : resolve(value)), ms),
    );

  it('gives the results in the order given, whichever finished first', async () => {
    await expect(together([later(30, 'slow'), later(1, 2)])).resolves.toEqual(['slow', 2]);
  });

  it('fails with the first failure in the order given, only once every chain has finished', async () => {
    let finished = false;
    const slow = later(40, 'slow').then((v) => ((finished = true), v));
    await expect(
      together([later(5, 'first', true), slow, later(1, 'second', true)]),
    ).rejects.toThrow(/^first$/);
    expect(finished).toBe(true);
  });
});
