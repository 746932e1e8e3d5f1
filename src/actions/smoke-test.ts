import * as core from '@actions/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigurationError } from '../errors.js';
import { parseTrackMap, releaseTarget } from '../release-ref.js';
import { SeriesTable } from '../series.js';
import { readSnapInfo } from '../snap-file.js';
import { deploymentSteps, hasSmokeRecipe, SERVICES, type SmokeLevel } from '../smoke/deploy.js';
import { collectLogs } from '../smoke/collect.js';
import { junitXml, runSteps } from '../smoke/engine.js';
import { SmokeInputs as I, SmokeOutputs as O } from './constants.js';
import { defaultRef } from './github-event.js';
import {
  flushSummary,
  getBooleanInput,
  getListInput,
  isEntryPoint,
  runAction,
  runnerTemp,
} from './runner.js';

/** The smoke-test action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('smoke-test', main);
}

// snap-test's config snippets ship beside the bundle: dist/smoke-test/index.js -> ../../smoke/etc.
const ETC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'smoke', 'etc');

async function main(): Promise<void> {
  const level = (core.getInput(I.level) || 'smoke') as SmokeLevel;
  if (!['deploy', 'smoke', 'upgrade'].includes(level)) {
    throw new ConfigurationError(`'${I.level}' must be deploy, smoke or upgrade, not '${level}'.`);
  }
  const logsDir = join(runnerTemp(), 'smoke-test');
  const junit = join(logsDir, 'junit.xml');
  core.setOutput(O.logsDir, logsDir);
  if (getBooleanInput(I.emulated, false)) {
    // A cloud under qemu-user emulation would time out, not test anything.
    core.setOutput(O.result, 'skipped');
    core.summary.addRaw(
      `**Smoke test skipped**: this build is emulated; the cloud runs only on native amd64 or arm64 runners.\n`,
      true,
    );
    await flushSummary();
    core.notice('smoke test skipped: emulated architecture');
    return;
  }
  const snap = await readSnapInfo(core.getInput(I.snap, { required: true }));
  if (!hasSmokeRecipe(snap.name)) {
    const why = `the all-in-one cloud has no recipe for ${snap.name} (it tests ${SERVICES.map((s) => s.snap).join(', ')})`;
    core.setOutput(O.result, 'skipped');
    core.summary.addRaw(`**Smoke test skipped**: ${why}.\n`, true);
    await flushSummary();
    core.notice(`smoke test skipped: ${why}`);
    return;
  }
  const table = new SeriesTable();
  const trackMap = core.getInput(I.trackMap);
  const track =
    core.getInput(I.track) ||
    releaseTarget(core.getInput(I.ref) || defaultRef(process.env), {
      table,
      trackMap: trackMap ? parseTrackMap(trackMap, table) : undefined,
    }).track;
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
  const steps = deploymentSteps({
    level,
    snap: snap.name,
    file: snap.file,
    track,
    companions,
    etcDir: ETC_DIR,
    waitMs: timeout * 1000,
    asRoot: true,
    cirrosImage: core.getInput(I.cirrosImage) || undefined,
  });
  if (getBooleanInput(I.dryRun, false)) {
    for (const step of steps) core.info(`would run: ${step.name}`);
    core.setOutput(O.result, 'dry-run');
    core.summary
      .addHeading(`Smoke test plan (${level}) of ${snap.name} ${snap.version}: dry run`, 3)
      .addRaw(`Companion snaps from <code>${track}/edge</code>; each step bounded.\n`, true)
      .addList(
        steps.map((s) => s.name),
        true,
      );
    await flushSummary();
    return;
  }
  const suite = await runSteps(`${snap.name} ${level}`, steps, {
    log: core.info,
    collect: async (failed) => void (await collectLogs(logsDir, failed, { asRoot: true })),
  });
  mkdirSync(logsDir, { recursive: true });
  writeFileSync(junit, junitXml(suite));
  core.setOutput(O.junit, junit);
  core.setOutput(O.result, suite.passed ? 'passed' : 'failed');
  const icon = { passed: '✅', failed: '❌', skipped: '⏭️' };
  core.summary
    .addHeading(
      `Smoke test (${level}) of ${snap.name} ${snap.version}: ${suite.passed ? 'passed' : 'failed'}`,
      3,
    )
    .addTable([
      ['Step', 'Result', 'Time'].map((data) => ({ data, header: true })),
      ...suite.steps.map((s) => [
        s.name,
        `${icon[s.status]} ${s.status}${s.attempts > 1 ? ` (${s.attempts} tries)` : ''}`,
        `${s.seconds.toFixed(1)} s`,
      ]),
    ]);
  if (suite.failed)
    core.summary.addCodeBlock(`${suite.failed.error}\n\n${suite.failed.lastLines.join('\n')}`);
  await flushSummary();
  if (suite.failed)
    core.setFailed(`Smoke test failed at '${suite.failed.name}': ${suite.failed.error}`);
}

if (isEntryPoint(import.meta.url)) await run();
