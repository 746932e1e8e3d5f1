import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { runAction } from '../src/actions/runner.js';
import { BuildError } from '../src/build/failure.js';
import {
  Bug,
  ConfigurationError,
  errorKind,
  ExternalError,
  isRetryable,
  ToolError,
  batchError,
  itemFailure,
} from '../src/platform/errors.js';
import { runSteps } from '../src/smoke/engine.js';

describe('the error taxonomy', () => {
  it('sorts what is thrown into three kinds', () => {
    expect(errorKind(new ConfigurationError('x'))).toBe('configuration');
    expect(errorKind(new ToolError('git push', 128, 'fatal: denied'))).toBe('external');
    expect(errorKind(new BuildError('The amd64 build failed', '/logs', 'nova', 'build'))).toBe(
      'external',
    );
    // A library's own error (an HTTP failure, ECONNRESET) is outside us.
    expect(errorKind(Object.assign(new Error('Not Found'), { status: 404 }))).toBe('external');
    expect(errorKind(new Bug('two plans for one ref'))).toBe('bug');
    expect(errorKind(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      'bug',
    );
    expect(errorKind('a string')).toBe('bug');
  });

  it('retries only what says a retry may help', () => {
    expect(isRetryable(new ExternalError('502', { retryable: true }))).toBe(true);
    expect(isRetryable(new ExternalError('401'))).toBe(false);
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isRetryable(new ConfigurationError('bad input'))).toBe(false);
  });

  it('reports a batch by its most serious failure, keeping a bug’s stack', () => {
    const outage = itemFailure(new ExternalError('502', { retryable: true }));
    const refusal = itemFailure(new ExternalError('protected branch'));
    const mistake = itemFailure(new ConfigurationError('set allow-destructive'));
    const bug = itemFailure(new TypeError("Cannot read properties of undefined (reading 'ref')"));
    expect(errorKind(batchError([outage, outage], 'two'))).toBe('external');
    expect(isRetryable(batchError([outage, outage], 'two'))).toBe(true);
    expect(isRetryable(batchError([outage, refusal], 'two'))).toBe(false);
    expect(errorKind(batchError([outage, mistake], 'two'))).toBe('configuration');
    const worst = batchError([mistake, bug, outage], 'three');
    expect(errorKind(worst)).toBe('bug');
    expect(worst.message).toBe('three');
    expect(worst.stack).toMatch(/first bug: TypeError: Cannot read properties/);
  });
});

describe('a smoke step', () => {
  it('is tried again only when its failure may mend', async () => {
    let tries = 0;
    const suite = await runSteps(
      'deploy',
      [
        {
          name: 'upload the cirros image',
          timeoutMs: 5000,
          retries: 3,
          run: async () => {
            tries++;
            throw new ConfigurationError(`needs a cirros image: set 'cirros-image'`);
          },
        },
      ],
      { sleep: async () => {} },
    );
    expect(tries).toBe(1);
    expect(suite.failed).toMatchObject({
      attempts: 1,
      failure: { kind: 'configuration', retryable: false },
    });
  });
});

describe('runAction reports each kind its way', () => {
  let out: string[];
  let write: ReturnType<typeof jest.spyOn>;
  beforeEach(() => {
    out = [];
    write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      out.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    write.mockRestore();
    process.exitCode = undefined;
  });
  const errors = (): string[] =>
    out
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('::error::'));
  const debug = (): string => out.filter((l) => l.startsWith('::debug::')).join('');

  it('a user mistake: the one line that says what to change, no prefix, no bug talk', async () => {
    await runAction('mirror', async () => {
      throw new ConfigurationError("Input 'repos' is required: list the repositories to mirror.");
    });
    expect(errors()).toEqual([
      "::error::Input 'repos' is required: list the repositories to mirror.",
    ]);
    expect(process.exitCode).toBe(1);
  });

  it('an external failure: what failed, where the evidence is, whether a re-run may help', async () => {
    await runAction('publish', async () => {
      throw new ExternalError('the store answered 503', {
        retryable: true,
        evidence: '/tmp/publish-logs',
      });
    });
    expect(errors()).toEqual([
      '::error::publish: the store answered 503 (evidence: /tmp/publish-logs) (this may be transient: re-running the job may succeed)',
    ]);
  });

  it('does not repeat evidence the message already names', async () => {
    await runAction('build', async () => {
      throw new BuildError(
        "The amd64 build failed: part 'nova' failed in its build step. Logs: /l",
        '/l',
        'nova',
        'build',
      );
    });
    expect(errors()).toEqual([
      "::error::build: The amd64 build failed: part 'nova' failed in its build step. Logs: /l",
    ]);
  });

  it('a bug: says it is ours and asks for the debug log, which has the stack', async () => {
    await runAction('matrix', async () => {
      const entries: { arch: string }[] = [];
      entries[0]!.arch.toString();
    });
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatch(
      /^::error::matrix: Cannot read properties of undefined.*This is a bug in openstack-snap-actions/,
    );
    expect(debug()).toMatch(
      /TypeError: Cannot read properties of undefined[\s\S]*errors\.test\.ts/,
    );
  });
});
