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
import { ConfigurationError } from '../platform/index.js';
import { CHANGE_EVENTS } from '../release/index.js';

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
  // The plan's decision; a matrix used alone assumes a trusted run publishes.
  const publishes = core.getInput(I.publish)
    ? getBooleanInput(I.publish, false)
    : isTrustedRun(env);
  return {
    project: getPathInput(I.project, '.'),
    options: {
      arches: arches.length ? arches : DEFAULT_ARCHES,
      selfHosted: parseSelfHosted(core.getInput(I.selfHosted)),
      emulate: getBooleanInput(I.emulate, true),
      timing: {
        nativeMinutes: minutes(I.nativeBuildMinutes, '20', 1, 360),
        nativeJobMinutes: minutes(I.timeoutMinutes, '120', 1, 360),
        emulatedJobMinutes: minutes(I.emulatedTimeoutMinutes, '350', 1, 360),
        changeMinutes: minutes(I.changeTimeoutMinutes, '55', 1, 360),
        change: (CHANGE_EVENTS as readonly string[]).includes(env.GITHUB_EVENT_NAME ?? ''),
        publishes,
      },
      ...(remoteArches.length
        ? {
            remote: {
              arches: remoteArches,
              credentials: getBooleanInput(I.remoteCredentials, false),
              acceptPublicUpload: getBooleanInput(I.launchpadAcceptPublicUpload, false),
              trusted: isTrustedRun(env),
              publishes,
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

/** A whole number of minutes within a job's limit. */
function minutes(name: string, fallback: string, min: number, max: number): number {
  const value = core.getInput(name) || fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigurationError(
      `'${name}' must be a whole number of minutes from ${min} to ${max}, not '${value}'.`,
    );
  return n;
}
