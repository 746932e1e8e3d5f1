import * as core from '@actions/core';
import { buildAndReport } from './build-report.js';
import { readBuildSettings } from './build-settings.js';
import { SnapInputs as I, SnapOutputs as O } from './constants.js';
import { publishWith, reportPublish } from './publish-report.js';
import { readPublishSettings } from './publish-settings.js';
import { getBooleanInput, runAction, runAsEntry } from './runner.js';

/**
 * The one-step action (the root action.yml): constraints, a build for this runner's architecture,
 * and, when asked, publishing it, all from this one bundle, so every part runs from the commit the
 * caller pinned.
 */
export async function run(): Promise<void> {
  await runAction('snap', main);
}

async function main(): Promise<void> {
  const build = readBuildSettings();
  const publishing = getBooleanInput(I.publish, false);
  // Read (and refused, where publishing may not run) before anything is built.
  const publishSettings = publishing ? readPublishSettings(process.env, []) : null;
  const result = await buildAndReport(build);
  if (result.constraints) {
    core.setOutput(O.series, result.constraints.release.series.key);
    core.setOutput(O.track, result.constraints.track);
  }
  if (!publishSettings) return;
  const published = await publishWith({
    ...publishSettings,
    files: result.snaps.map((s) => s.file),
  });
  await reportPublish(published, publishSettings.dryRun);
}

await runAsEntry(import.meta.url, run);
