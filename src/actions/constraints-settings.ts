import * as core from '@actions/core';
import { join } from 'node:path';
import {
  type ConstrainOptions,
  DEFAULT_REQUIREMENTS_REPO,
  PIN_CONFLICT_POLICIES,
} from '../constraints/index.js';
import { parseTrackMap, SeriesTable } from '../release/index.js';
import { ConstraintsInputs as I } from './constants.js';
import { defaultRef } from './github-event.js';
import {
  getBooleanInput,
  getChoiceInput,
  getListInput,
  getPathInput,
  runnerTemp,
} from './runner.js';

/** The constraints action's settings, read and validated in one place before anything runs. */
export interface ConstraintsSettings extends ConstrainOptions {
  readonly useCache: boolean;
}

export function readConstraintsSettings(env: NodeJS.ProcessEnv = process.env): ConstraintsSettings {
  const table = new SeriesTable();
  const ref = core.getInput(I.ref) || defaultRef(env);
  const trackMapText = core.getInput(I.trackMap);
  return {
    project: getPathInput(I.project, '.'),
    ref,
    series: core.getInput(I.series) || undefined,
    requirementsRepo: core.getInput(I.requirementsRepo) || DEFAULT_REQUIREMENTS_REPO,
    constraintsCommit: core.getInput(I.constraintsCommit) || undefined,
    constraintsFile: getPathInput(I.constraintsFile),
    // Unset means the default, `auto`; an explicitly empty value is not distinguishable, so `none` turns it off.
    exclude: excludeInput(),
    constraintsPath: core.getInput(I.constraintsPath) || undefined,
    output: getPathInput(I.output),
    trackMap: trackMapText ? parseTrackMap(trackMapText, table) : undefined,
    dryRun: getBooleanInput(I.dryRun, false),
    pinConflicts: getChoiceInput(I.pinConflicts, PIN_CONFLICT_POLICIES, 'drop'),
    useCache: getBooleanInput(I.cache, true),
    workDir: join(runnerTemp(), 'openstack-snap-actions'),
    table,
  };
}

function excludeInput(): string[] {
  const words = getListInput(I.exclude);
  if (words.length === 0) return ['auto'];
  return words.filter((w) => w !== 'none');
}
