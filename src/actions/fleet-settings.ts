import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { parseFleetConfig, type FleetConfig } from '../fleet/index.js';
import { parseRepository } from '../github/index.js';
import { ConfigurationError } from '../platform/index.js';
import { normaliseRefName } from '../release/index.js';
import { FleetInputs as I } from './constants.js';
import { confinedPath, getChoiceInput, getRequiredInput } from './runner.js';

export const FLEET_STEPS = ['plan', 'record', 'sources'] as const;

export interface FleetSettings {
  readonly step: (typeof FLEET_STEPS)[number];
  readonly config: FleetConfig;
  readonly token: string;
  readonly apiUrl: string;
  readonly serverUrl: string;
  readonly repository: { owner: string; repo: string };
  readonly runId: number;
  readonly runUrl: string;
  readonly stateBranch: string;
  readonly publishedDir: string;
  readonly statusDir: string;
}

/** The fleet action's inputs and the run it is in; tokens are registered as secrets as read. */
export function readFleetSettings(env: NodeJS.ProcessEnv = process.env): FleetSettings {
  const step = getChoiceInput(I.step, FLEET_STEPS, 'plan');
  const token = getRequiredInput(
    I.token,
    'a token with contents write (the state branch) and actions read (runs and artifacts) on this repository',
  );
  core.setSecret(token);
  const configPath = confinedPath(core.getInput(I.config) || 'fleet.yml', I.config);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    throw new ConfigurationError(
      `'${I.config}' is ${configPath}, which cannot be read: check out the build repository first (actions/checkout), or name the file.`,
    );
  }
  const runId = Number(env.GITHUB_RUN_ID);
  if (!Number.isSafeInteger(runId) || runId <= 0)
    throw new ConfigurationError(
      'GITHUB_RUN_ID is not set: the fleet action runs inside GitHub Actions.',
    );
  const serverUrl = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  const repository = parseRepository(env.GITHUB_REPOSITORY ?? '', 'GITHUB_REPOSITORY');
  return {
    step,
    config: parseFleetConfig(text, core.getInput(I.config) || 'fleet.yml'),
    token,
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    serverUrl,
    repository,
    runId,
    runUrl: `${serverUrl}/${repository.owner}/${repository.repo}/actions/runs/${runId}`,
    stateBranch: normaliseRefName(core.getInput(I.stateBranch) || 'osa-build-state'),
    publishedDir: confinedPath(core.getInput(I.publishedDir) || 'published', I.publishedDir),
    statusDir: confinedPath(core.getInput(I.statusDir) || 'fleet-status', I.statusDir),
  };
}
