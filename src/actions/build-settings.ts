import * as core from '@actions/core';
import { join } from 'node:path';
import { type BuildSettings, hostArch } from '../build/index.js';
import { checkArch } from '../snapcraft/index.js';
import { ConfigurationError } from '../platform/index.js';
import { DEFAULT_REQUIREMENTS_REPO } from '../constraints/index.js';
import { BuildInputs as I } from './constants.js';
import { defaultRef, isTrustedRun, runUrl } from './github-event.js';
import { getBooleanInput, getPathInput, runnerTemp } from './runner.js';

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
  return {
    project: getPathInput(I.project, '.'),
    arch,
    emulate: getBooleanInput(I.emulate, false),
    platform: core.getInput(I.platform) || undefined,
    snapcraftChannel: core.getInput(I.snapcraftChannel) || undefined,
    snapcraft: core.getInput(I.snapcraft) || 'snapcraft',
    setup,
    image: core.getInput(I.image) || undefined,
    instanceConfig: parseConfig(core.getInput(I.lxdConfig)),
    containerCommand: splitCommandLine(
      core.getInput(I.containerCommand) || 'snapcraft pack --destructive-mode',
      I.containerCommand,
    ),
    constraints,
    ref: constraints ? core.getInput(I.ref) || defaultRef(env) : undefined,
    requirementsRepo: core.getInput(I.requirementsRepo) || DEFAULT_REQUIREMENTS_REPO,
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
