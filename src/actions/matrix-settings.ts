import * as core from '@actions/core';
import { DEFAULT_ARCHES, parseSelfHosted, type MatrixOptions } from '../build/index.js';
import { MatrixInputs as I } from './constants.js';
import { getBooleanInput, getListInput, getPathInput } from './runner.js';

export interface MatrixSettings {
  /** The snap project directory (or its snapcraft.yaml). */
  readonly project: string;
  readonly options: MatrixOptions;
  /** Release branches to build each of (a release rebuild); empty: the checked-out one. */
  readonly branches: string[];
}

/** The matrix action's inputs, checked. */
export function readMatrixSettings(): MatrixSettings {
  const arches = getListInput(I.arches);
  return {
    project: getPathInput(I.project, '.'),
    options: {
      arches: arches.length ? arches : DEFAULT_ARCHES,
      selfHosted: parseSelfHosted(core.getInput(I.selfHosted)),
      emulate: getBooleanInput(I.emulate, true),
    },
    branches: getListInput(I.branches),
  };
}
