import * as core from '@actions/core';
import { join } from 'node:path';
import type { ConstrainOptions } from '../constrain.js';
import { ConfigurationError } from '../errors.js';
import { parseTrackMap } from '../release-ref.js';
import { DEFAULT_REQUIREMENTS_REPO } from '../requirements-repo.js';
import { SeriesTable } from '../series.js';
import { ConstraintsInputs as I } from './constants.js';
import { getBooleanInput, getListInput, runnerTemp } from './runner.js';

/** The constraints action's settings, read and validated in one place before anything runs. */
export interface ConstraintsSettings extends ConstrainOptions {
  readonly useCache: boolean;
}

export function readConstraintsSettings(env: NodeJS.ProcessEnv = process.env): ConstraintsSettings {
  const table = new SeriesTable();
  const ref = core.getInput(I.ref) || defaultRef(env);
  const trackMapText = core.getInput(I.trackMap);
  return {
    project: core.getInput(I.project) || '.',
    ref,
    series: core.getInput(I.series) || undefined,
    requirementsRepo: core.getInput(I.requirementsRepo) || DEFAULT_REQUIREMENTS_REPO,
    constraintsFile: core.getInput(I.constraintsFile) || undefined,
    // Unset means the default, `auto`; an explicitly empty value is not distinguishable, so `none` turns it off.
    exclude: excludeInput(),
    constraintsPath: core.getInput(I.constraintsPath) || undefined,
    output: core.getInput(I.output) || undefined,
    trackMap: trackMapText ? parseTrackMap(trackMapText, table) : undefined,
    dryRun: getBooleanInput(I.dryRun, false),
    useCache: getBooleanInput(I.cache, true),
    workDir: join(runnerTemp(), 'openstack-snap-actions'),
    table,
  };
}

/** A pull request is checked against its base branch; anything else builds the ref it ran on. */
export function defaultRef(env: NodeJS.ProcessEnv): string {
  const ref = env.GITHUB_BASE_REF || env.GITHUB_REF_NAME || env.GITHUB_REF;
  if (!ref) {
    throw new ConfigurationError(
      `No 'ref' input and no GITHUB_REF: set 'ref' to the branch being built, e.g. stable/2025.1.`,
    );
  }
  return ref;
}

function excludeInput(): string[] {
  const words = getListInput(I.exclude);
  if (words.length === 0) return ['auto'];
  return words.filter((w) => w !== 'none');
}
