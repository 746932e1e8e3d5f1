import * as core from '@actions/core';
import { join } from 'node:path';
import { basicAuthHeader, ConfigurationError, globMatcher } from '../platform/index.js';
import {
  checkWorkflow,
  type MirrorOptions,
  parseMirrorPairs,
  parseRefFilter,
} from '../mirror/index.js';
import { RELEASE_BRANCH_PATTERNS } from '../release/index.js';
import { MirrorInputs as I } from './constants.js';
import { assertMayPublish } from './github-event.js';
import {
  confinedPath,
  getBooleanInput,
  getListInput,
  getPathInput,
  getRequiredInput,
  runnerTemp,
} from './runner.js';

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
    (path) => confinedPath(path, I.repos),
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
  const filter = parseRefFilter(getListInput(I.refs));
  for (const pattern of filter.topLevelOnly) {
    core.warning(
      `'${I.refs}' pattern '${pattern}' matches only names without a '/' (* stops at '/'), so branches like ` +
        `stable/2025.1 are not mirrored; use '${pattern}*' for every name.`,
    );
  }
  const dispatchBranches = getListInput(I.dispatchBranches);
  // Every pattern checked before anything runs: a bad one must not fail after the push.
  for (const pattern of dispatchBranches) globMatcher(pattern, `'${I.dispatchBranches}' pattern`);
  return {
    pairs,
    filter,
    token,
    concurrency,
    maxDestructiveFraction: fraction,
    allowDestructive: getBooleanInput(I.allowDestructive, false),
    direct: getBooleanInput(I.inProcess, true),
    repoTimeoutMs:
      wholeNumber(I.repoTimeoutMinutes, core.getInput(I.repoTimeoutMinutes) || '30', 1, 360) *
      60_000,
    workDir: join(runnerTemp(), 'openstack-snap-actions', 'mirror'),
    dryRun,
    useActionsCache: getBooleanInput(I.cache, true),
    cacheDir: getPathInput(I.cacheDir, undefined, { absoluteOutside: true }),
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
