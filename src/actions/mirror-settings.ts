import * as core from '@actions/core';
import { join } from 'node:path';
import { basicAuthHeader, ConfigurationError } from '../platform/index.js';
import {
  checkWorkflow,
  type MirrorOptions,
  parseMirrorPairs,
  parseRefFilter,
} from '../mirror/index.js';
import { RELEASE_BRANCH_PATTERNS } from '../release/index.js';
import { MirrorInputs as I } from './constants.js';
import { assertMayPublish } from './github-event.js';
import { getBooleanInput, getListInput, getRequiredInput, runnerTemp } from './runner.js';

export interface MirrorSettings extends Omit<MirrorOptions, 'store' | 'log'> {
  readonly useActionsCache: boolean;
  readonly cacheDir?: string;
  readonly dispatch?: {
    readonly workflow: string;
    readonly branches: string[];
    readonly inputName: string;
    readonly token: string;
  };
}

/** Reads and validates every mirror input; secrets are masked before anything can print them. */
export function readMirrorSettings(env: NodeJS.ProcessEnv = process.env): MirrorSettings {
  const dryRun = getBooleanInput(I.dryRun, false);
  // Pushing to the destinations and dispatching builds are as trusted as publishing.
  if (!dryRun) assertMayPublish(env, 'mirror');
  const token = core.getInput(I.token) || undefined;
  if (token) {
    core.setSecret(token);
    core.setSecret(basicAuthHeader(token).slice('AUTHORIZATION: basic '.length));
  }
  const pairs = parseMirrorPairs(
    getRequiredInput(I.repos, 'the repositories to mirror, one `source destination` per line'),
    process.env.GITHUB_WORKSPACE,
  );
  const concurrency = wholeNumber(I.concurrency, core.getInput(I.concurrency) || '4', 1, 32);
  const fraction = Number(core.getInput(I.maxDestructiveFraction) || '0.1');
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new ConfigurationError(
      `'${I.maxDestructiveFraction}' must be a number from 0 to 1 (0.1 is 10%).`,
    );
  }
  const workflow = checkWorkflow(core.getInput(I.dispatchWorkflow) || 'none', I.dispatchWorkflow);
  const dispatching = workflow !== 'none' || pairs.some((p) => p.dispatch && p.dispatch !== 'none');
  const dispatchToken = core.getInput(I.dispatchToken) || token;
  if (dispatchToken) core.setSecret(dispatchToken);
  if (dispatching && !dispatchToken) {
    throw new ConfigurationError(
      `Dispatching builds needs a token: set '${I.dispatchToken}' or '${I.token}'.`,
    );
  }
  const dispatchBranches = getListInput(I.dispatchBranches);
  // Every pattern checked before anything runs: a bad one must not fail after the push.
  for (const pattern of dispatchBranches) {
    if (!/^[A-Za-z0-9._/*-]+$/.test(pattern))
      throw new ConfigurationError(
        `'${I.dispatchBranches}' pattern '${pattern}' may use letters, digits, '.', '_', '-', '/' and '*' only.`,
      );
  }
  return {
    pairs,
    filter: parseRefFilter(getListInput(I.refs)),
    token,
    concurrency,
    maxDestructiveFraction: fraction,
    allowDestructive: getBooleanInput(I.allowDestructive, false),
    workDir: join(runnerTemp(), 'openstack-snap-actions', 'mirror'),
    dryRun,
    useActionsCache: getBooleanInput(I.cache, true),
    cacheDir: core.getInput(I.cacheDir) || undefined,
    dispatch: dispatching
      ? {
          workflow,
          branches: dispatchBranches.length ? dispatchBranches : [...RELEASE_BRANCH_PATTERNS],
          inputName: core.getInput(I.dispatchInput),
          token: dispatchToken!,
        }
      : undefined,
  };
}

function wholeNumber(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigurationError(
      `'${name}' must be a whole number from ${min} to ${max}, not '${value}'.`,
    );
  }
  return n;
}
