import * as core from '@actions/core';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../platform/index.js';
import { companionChannels, parseTrackMap, releaseTarget, SeriesTable } from '../release/index.js';
import { SERVICES, type SmokeLevel, type SmokeTestOptions } from '../smoke/index.js';
import { SmokeInputs as I } from './constants.js';
import { defaultRef } from './github-event.js';
import {
  confinedPath,
  getBooleanInput,
  getListInput,
  getRequiredInput,
  runnerTemp,
} from './runner.js';

// snap-test's config snippets ship beside the bundle: dist/smoke-test/index.js -> ../../smoke/etc.
const ETC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'smoke', 'etc');

const LEVELS: readonly SmokeLevel[] = ['deploy', 'smoke', 'upgrade'];

/** The smoke-test action's inputs, checked. An emulated build needs no snap or track: it is skipped. */
export function readSmokeSettings(env: NodeJS.ProcessEnv = process.env): SmokeTestOptions {
  const level = (core.getInput(I.level) || 'smoke') as SmokeLevel;
  if (!LEVELS.includes(level))
    throw new ConfigurationError(`'${I.level}' must be deploy, smoke or upgrade, not '${level}'.`);
  const emulated = getBooleanInput(I.emulated, false);
  const companions = Object.fromEntries(
    getListInput(I.companions).map((pair) => {
      const [name, file] = pair.split('=');
      if (!name || !file || !SERVICES.some((s) => s.snap === name)) {
        throw new ConfigurationError(
          `'${I.companions}' entry '${pair}' is not service=path/to/file.snap (${SERVICES.map((s) => s.snap).join(', ')}).`,
        );
      }
      return [name, file];
    }),
  );
  const timeout = Number(core.getInput(I.timeout) || '600');
  if (!(timeout > 0))
    throw new ConfigurationError(`'${I.timeout}' must be seconds to wait for each service.`);
  return {
    level,
    emulated,
    snapFile: emulated
      ? core.getInput(I.snap)
      : confinedPath(getRequiredInput(I.snap, 'the .snap file to test'), I.snap),
    ...(emulated ? { track: '' } : companionSource(env)),
    companions,
    etcDir: ETC_DIR,
    waitMs: timeout * 1000,
    asRoot: true,
    cirrosImage: core.getInput(I.cirrosImage) || undefined,
    adminPassword: newPassword(),
    dryRun: getBooleanInput(I.dryRun, false),
    logsDir: join(runnerTemp(), 'smoke-test'),
  };
}

/**
 * Companion snaps come from the release's track (given, or from the ref and track-map), falling
 * back to the previous release's track and then latest (release/companionChannels).
 */
function companionSource(env: NodeJS.ProcessEnv): { track: string; channels: string[] } {
  const given = core.getInput(I.track);
  const table = new SeriesTable();
  const trackMap = core.getInput(I.trackMap);
  const options = { table, trackMap: trackMap ? parseTrackMap(trackMap, table) : undefined };
  if (given) {
    // A track named for a series falls back as that series' branch would; any other straight
    // to latest.
    const series = table.find(given);
    const after = series
      ? companionChannels(releaseTarget(`stable/${series.key}`, options), options).slice(1)
      : ['latest/edge'];
    return { track: given, channels: [...new Set([`${given}/edge`, ...after])] };
  }
  const target = releaseTarget(core.getInput(I.ref) || defaultRef(env), options);
  return { track: target.track, channels: companionChannels(target, options) };
}

/** The throwaway cloud's admin password: new for every run, and masked in the log. */
function newPassword(): string {
  const password = randomBytes(18).toString('base64url');
  core.setSecret(password);
  return password;
}
