import * as core from '@actions/core';
import { addConstraintsAccount } from './constraints-report.js';
import {
  BuildError,
  type BuildIO,
  buildManifest,
  type BuildResult,
  type CacheUse,
  runBuild,
  type SentFile,
} from '../build/index.js';
import { DirectoryCache, type FileCache, type PrefixCache } from '../platform/index.js';
import { actionsFileCache, actionsPrefixCache } from './actions-cache.js';
import type { BuildActionSettings } from './build-settings.js';
import { BuildOutputs as O } from './constants.js';
import { escapeHtml, flushSummary } from './runner.js';

/** Builds, then writes the outputs and the summary; a failed build's summary says why. */
export async function buildAndReport(settings: BuildActionSettings): Promise<BuildResult> {
  core.setOutput(O.logsDir, settings.logsDir);
  let result: BuildResult;
  try {
    result = await runBuild(settings, buildIO(settings));
  } catch (error) {
    if (error instanceof BuildError) {
      core.summary.addHeading(`${settings.arch}: build failed`, 3).addCodeBlock(error.message);
      await flushSummary();
    }
    throw error;
  }
  await reportBuild(result, settings);
  return result;
}

/** The runner's log, log groups and caches (cache-dir on self-hosted runners, else Actions'). */
export function buildIO(settings: BuildActionSettings): BuildIO {
  let fileCache: FileCache | undefined;
  let prefixCache: PrefixCache | undefined;
  if (settings.useCache) {
    const directory = settings.cacheDir ? new DirectoryCache(settings.cacheDir) : undefined;
    fileCache = directory ?? actionsFileCache();
    prefixCache = directory?.prefixCache() ?? actionsPrefixCache();
  }
  return {
    log: core.info,
    warn: core.warning,
    group: core.group,
    fileCache,
    prefixCache,
    announce: announceUpload,
  };
}

/**
 * What a remote build sends to Launchpad, where it becomes public: in the job summary, written
 * before the upload starts, so a cancelled or failed run still shows it.
 */
async function announceUpload(files: readonly SentFile[]): Promise<void> {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  core.summary
    .addHeading(`Sent to Launchpad (public): ${files.length} files, ${kib(total)}`, 3)
    .addTable([
      ['File', 'Size', 'Why it goes'].map((data) => ({ data, header: true })),
      ...files.map((f) => [
        escapeHtml(f.path),
        kib(f.size),
        f.tracked ? 'tracked by git, or the constraints' : 'launchpad-include',
      ]),
    ]);
  await flushSummary();
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Outputs and the job summary of a build. */
export async function reportBuild(
  result: BuildResult,
  settings: BuildActionSettings,
): Promise<void> {
  const env = process.env;
  const manifest = buildManifest(result, settings, {
    name: env.RUNNER_NAME ?? null,
    image: env.ImageOS ?? null,
    os: env.RUNNER_OS ?? null,
  });
  const [first] = result.snaps;
  core.setOutput(O.snaps, result.snaps.map((s) => s.file).join('\n'));
  core.setOutput(O.snap, first!.file);
  core.setOutput(O.name, first!.name);
  core.setOutput(O.version, first!.version);
  core.setOutput(O.arch, settings.arch);
  core.setOutput(O.manifest, JSON.stringify(manifest));
  if (result.buildImage) core.setOutput(O.buildImage, result.buildImage.alias);
  const { constraints } = result;
  core.summary
    .addHeading(`${result.name} ${first!.version} for ${settings.arch}`, 3)
    .addTable([
      ['Snap', 'Arch', 'How', 'Constraints', 'Time'].map((data) => ({ data, header: true })),
      ...result.snaps.map((s) => [
        s.file.split('/').pop()!,
        s.arch,
        how(result, settings),
        !constraints
          ? 'as in snapcraft.yaml'
          : !constraints.applied
            ? 'none apply (no pip part)'
            : `${constraints.constraintsRef?.name ?? 'file'} ${constraints.constraintsCommit?.slice(0, 12) ?? ''}`,
        `${result.seconds.toFixed(0)} s`,
      ]),
    ])
    .addTable(cacheRows(result, settings.useCache));
  if (constraints) addConstraintsAccount(constraints);
  if (result.setup.length > 0)
    core.summary.addRaw('\n**Runner setup:**\n', true).addList(result.setup);
  await flushSummary();
}

/** Where and with what the snap was built. */
function how(result: BuildResult, settings: BuildActionSettings): string {
  const snapcraft = result.snapcraftVersion ?? `snapcraft ${result.snapcraftChannel}`;
  if (settings.mode === 'emulated') return `emulated in ${result.image}`;
  if (settings.mode === 'remote') return `on Launchpad (${snapcraft} remote-build)`;
  return `${snapcraft}, LXD`;
}

type SummaryRow = (string | { data: string; header: boolean })[];

/** The summary's account of what the caches gave and kept. */
function cacheRows(result: BuildResult, enabled: boolean): SummaryRow[] {
  const header = ['Cache', 'Key', 'Result'].map((data) => ({ data, header: true }));
  if (!enabled) return [header, ['all', '', 'off (cache: false)']];
  const rows: SummaryRow[] = [header];
  if (result.buildImage) {
    const { source, cacheKey, saved } = result.buildImage;
    const how =
      source === 'present'
        ? 'hit: already in LXD'
        : source === 'restored'
          ? 'hit: restored'
          : `miss: built${saved ? ', saved' : ''}`;
    rows.push(['build image', cacheKey, how]);
  }
  rows.push(
    result.wheels
      ? ['pip wheels', result.wheels.key, wheelsResult(result.wheels)]
      : ['pip wheels', '', "none: Launchpad's builders keep no cache of ours"],
  );
  return rows;
}

function wheelsResult({ key, restoredFrom, saved, files }: CacheUse): string {
  const how =
    restoredFrom === key ? 'hit' : restoredFrom ? `partial: restored ${restoredFrom}` : 'miss';
  return `${how}; ${files ?? 0} files after the build${saved ? ', saved' : ''}`;
}
