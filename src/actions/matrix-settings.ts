import * as core from '@actions/core';
import {
  DEFAULT_ARCHES,
  parseSelfHosted,
  type MatrixOptions,
  type RemoteFallback,
} from '../build/index.js';
import { MatrixInputs as I } from './constants.js';
import { isTrustedRun, readEventPayload } from './github-event.js';
import { getBooleanInput, getListInput, getPathInput } from './runner.js';

export interface MatrixSettings {
  /** The snap project directory (or its snapcraft.yaml). */
  readonly project: string;
  readonly options: MatrixOptions;
  /** Release branches to build each of (a release rebuild); empty: the checked-out one. */
  readonly branches: string[];
}

/** The matrix action's inputs, checked. */
export function readMatrixSettings(env: NodeJS.ProcessEnv = process.env): MatrixSettings {
  const arches = getListInput(I.arches);
  const remoteArches = getListInput(I.remoteArches);
  return {
    project: getPathInput(I.project, '.'),
    options: {
      arches: arches.length ? arches : DEFAULT_ARCHES,
      selfHosted: parseSelfHosted(core.getInput(I.selfHosted)),
      emulate: getBooleanInput(I.emulate, true),
      ...(remoteArches.length
        ? {
            remote: {
              arches: remoteArches,
              credentials: getBooleanInput(I.remoteCredentials, false),
              acceptPublicUpload: getBooleanInput(I.launchpadAcceptPublicUpload, false),
              trusted: isTrustedRun(env),
              // The plan's decision; a matrix used alone assumes a trusted run publishes.
              publishes: core.getInput(I.publish)
                ? getBooleanInput(I.publish, false)
                : isTrustedRun(env),
              privateRepository: readEventPayload(env)?.repository?.private === true,
              fallback: (core.getInput(I.remoteFallback) || 'emulate') as RemoteFallback,
              timeoutMinutes: Number(core.getInput(I.remoteTimeoutMinutes) || '330'),
            },
          }
        : {}),
    },
    branches: getListInput(I.branches),
  };
}
