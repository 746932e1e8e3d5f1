import * as core from '@actions/core';
import { normaliseRepoLocation } from '../constraints/index.js';
import { parseFleetRepo, parseRepository } from '../github/index.js';
import { ConfigurationError, globMatcher } from '../platform/index.js';
import { normaliseRefName } from '../release/index.js';
import { DispatchInputs as I } from './constants.js';
import { getBooleanInput, getListInput, getRequiredInput } from './runner.js';

export interface DispatchSettings {
  readonly token: string;
  readonly apiUrl: string;
  readonly repos: { owner: string; repo: string }[];
  readonly workflow: string;
  readonly publish: boolean;
  readonly wait: boolean;
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** Rebuild this release branch everywhere; else `constraints` decides. */
  readonly branch: string | null;
  readonly constraints: {
    readonly requirementsUrl: string;
    readonly branchPatterns: ((branch: string) => boolean)[];
    readonly stateToken: string;
    readonly stateRepository: { owner: string; repo: string };
    readonly stateBranch: string;
  } | null;
}

/** The dispatch action's inputs, checked; tokens are registered as secrets as they are read. */
export function readDispatchSettings(env: NodeJS.ProcessEnv = process.env): DispatchSettings {
  const token = getRequiredInput(I.token, 'a token that may start workflows in the snap repos');
  core.setSecret(token);
  const serverUrl = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repos = getListInput(I.repos).map((r) => parseFleetRepo(r, serverUrl));
  if (repos.length === 0) throw new ConfigurationError(`'${I.repos}' lists no snap repositories.`);
  const minutes = Number(core.getInput(I.timeoutMinutes) || '180');
  if (!(minutes > 0))
    throw new ConfigurationError(`'${I.timeoutMinutes}' must be a number of minutes.`);
  const branch = core.getInput(I.branch);
  const requirements = core.getInput(I.requirementsRepo);
  if (!branch && !requirements) {
    throw new ConfigurationError(
      `Give '${I.branch}' (rebuild that release branch everywhere) or '${I.requirementsRepo}' (rebuild what its constraints changed for).`,
    );
  }
  let constraints: DispatchSettings['constraints'] = null;
  if (!branch) {
    const stateToken = core.getInput(I.stateToken) || env.GITHUB_TOKEN || token;
    core.setSecret(stateToken);
    const patterns = getListInput(I.requirementsBranches);
    constraints = {
      requirementsUrl: normaliseRepoLocation(requirements),
      branchPatterns: (patterns.length ? patterns : ['stable/*', 'unmaintained/*']).map((p) =>
        globMatcher(p, `'${I.requirementsBranches}' pattern`),
      ),
      stateToken,
      stateRepository: parseRepository(env.GITHUB_REPOSITORY ?? '', 'GITHUB_REPOSITORY'),
      stateBranch: normaliseRefName(core.getInput(I.stateBranch) || 'osa-fleet-state'),
    };
  }
  return {
    token,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    repos,
    workflow: core.getInput(I.workflow) || 'snap.yml',
    publish: getBooleanInput(I.publish, true),
    wait: getBooleanInput(I.wait, true),
    timeoutMs: minutes * 60000,
    pollMs: Number(env.OSA_POLL_MS ?? 30000),
    branch: branch ? normaliseRefName(branch) : null,
    constraints,
  };
}
