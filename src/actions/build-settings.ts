import * as core from '@actions/core';
import { join } from 'node:path';
import {
  BUILD_MODES,
  type BuildMode,
  type BuildSettings,
  hostArch,
  type RemoteSettings,
  secretValues,
} from '../build/index.js';
import { checkArch } from '../snapcraft/index.js';
import { ConfigurationError } from '../platform/index.js';
import { DEFAULT_REQUIREMENTS_REPO, PIN_CONFLICT_POLICIES } from '../constraints/index.js';
import { BuildInputs as I } from './constants.js';
import { assertMayPublish, defaultRef, isTrustedRun, runUrl } from './github-event.js';
import {
  getBooleanInput,
  getChoiceInput,
  getListInput,
  getPathInput,
  runnerTemp,
} from './runner.js';

/** The build action's settings and where it keeps its caches, read and checked in one place. */
export interface BuildActionSettings extends BuildSettings {
  readonly useCache: boolean;
  readonly cacheDir?: string;
}

export function readBuildSettings(env: NodeJS.ProcessEnv = process.env): BuildActionSettings {
  const arch = checkArch(core.getInput(I.arch) || hostArch(), 'arch input');
  const constraints = getBooleanInput(I.constraints, false);
  const setup = core.getInput(I.setup) || 'auto';
  if (!['auto', 'true', 'false'].includes(setup))
    throw new ConfigurationError(`'${I.setup}' must be auto, true or false, not '${setup}'.`);
  const temp = runnerTemp();
  const mode = readMode();
  return {
    project: getPathInput(I.project, '.'),
    arch,
    mode,
    ...(mode === 'remote' ? { remote: readRemote(env) } : {}),
    platform: core.getInput(I.platform) || undefined,
    snapcraftChannel: core.getInput(I.snapcraftChannel) || undefined,
    snapcraft: core.getInput(I.snapcraft) || 'snapcraft',
    setup,
    image: core.getInput(I.image) || undefined,
    instanceConfig: parseConfig(core.getInput(I.lxdConfig)),
    timeoutMinutes: core.getInput(I.timeoutMinutes)
      ? wholeMinutes(core.getInput(I.timeoutMinutes))
      : undefined,
    // Empty: the base's own (snapcraft/bases.ts), known once snapcraft.yaml is read.
    containerCommand: core.getInput(I.containerCommand)
      ? splitCommandLine(core.getInput(I.containerCommand), I.containerCommand)
      : undefined,
    constraints,
    ref: constraints ? core.getInput(I.ref) || defaultRef(env) : undefined,
    requirementsRepo: core.getInput(I.requirementsRepo) || DEFAULT_REQUIREMENTS_REPO,
    constraintsCommit: core.getInput(I.constraintsCommit) || undefined,
    series: core.getInput(I.series) || undefined,
    pinConflicts: getChoiceInput(I.pinConflicts, PIN_CONFLICT_POLICIES, 'drop'),
    outputDir: getPathInput(I.outputDir, join(temp, 'snaps', arch)),
    logsDir: join(temp, 'snap-build-logs', arch),
    rootfs: core.getInput(I.rootfs) || undefined,
    storeApi: core.getInput(I.storeApi) || undefined,
    workDir: temp,
    buildUrl: runUrl(env),
    useCache: getBooleanInput(I.cache, true),
    cacheDir: getPathInput(I.cacheDir, undefined, { absoluteOutside: true }),
    trusted: isTrustedRun(env),
    // Kept where a self-hosted runner keeps tools between jobs; RUNNER_TEMP is emptied after each.
    imageRecords: join(env.RUNNER_TOOL_CACHE || temp, 'openstack-snap-actions', 'build-images'),
  };
}

/** `mode` (a matrix entry's), or the older `emulate`; the two may not disagree. */
function readMode(): BuildMode {
  const emulate = getBooleanInput(I.emulate, false);
  const mode = core.getInput(I.mode);
  if (!mode) return emulate ? 'emulated' : 'native';
  if (!BUILD_MODES.includes(mode as BuildMode))
    throw new ConfigurationError(
      `'${I.mode}' must be ${BUILD_MODES.join(', ')} or empty, not '${mode}'.`,
    );
  if (emulate && mode !== 'emulated')
    throw new ConfigurationError(
      `'${I.emulate}: true' and '${I.mode}: ${mode}' disagree: give a matrix entry's mode alone.`,
    );
  return mode as BuildMode;
}

/**
 * A remote build's settings; the credentials are masked before anything can print them. It
 * uploads the project with Launchpad's credentials: only on events trusted to publish, outside
 * forks, as every action that sends something out (release/events.ts).
 */
function readRemote(env: NodeJS.ProcessEnv): RemoteSettings {
  const credentials = core.getInput(I.launchpadCredentials);
  if (credentials) core.setSecret(credentials);
  for (const value of secretValues(credentials)) core.setSecret(value);
  assertMayPublish(
    env,
    'A remote build (it uploads the project to Launchpad with its credentials)',
    "Build this arch emulated for these events (the matrix's remote-fallback does).",
  );
  const timeout = core.getInput(I.launchpadTimeout) || '18600';
  return {
    credentials,
    acceptPublicUpload: getBooleanInput(I.launchpadAcceptPublicUpload, false),
    timeoutSeconds: /^\d+$/.test(timeout) ? Number(timeout) : Number.NaN,
    rules: {
      include: getListInput(I.launchpadInclude),
      allow: getListInput(I.launchpadAllow),
    },
  };
}

function parseConfig(text: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const at = line.indexOf('=');
    if (at <= 0) throw new ConfigurationError(`'${I.lxdConfig}' line '${line}' is not key=value.`);
    config[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return config;
}

/**
 * A command line as argv, the way a POSIX shell splits words: single quotes keep everything,
 * double quotes and backslashes escape; nothing is expanded (there is no shell).
 */
export function splitCommandLine(text: string, input: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && next !== undefined && '"\\$`'.includes(next)) {
        word += next;
        i++;
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && next !== undefined) {
      word += next;
      inWord = true;
      i++;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new ConfigurationError(`'${input}' has an unclosed ${quote} quote: ${text}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new ConfigurationError(`'${input}' is empty.`);
  return words;
}

function wholeMinutes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 360)
    throw new ConfigurationError(
      `'${I.timeoutMinutes}' must be a whole number of minutes from 1 to 360, not '${value}'.`,
    );
  return n;
}
