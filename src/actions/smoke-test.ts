import * as core from '@actions/core';
import { smokeTest, type SmokeOutcome, type SmokeTestOptions } from '../smoke/index.js';
import { batchError } from '../platform/index.js';
import { SmokeOutputs as O } from './constants.js';
import { flushSummary, runAction, runAsEntry } from './runner.js';
import { readSmokeSettings } from './smoke-settings.js';

/** The smoke-test action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('smoke-test', main);
}

async function main(): Promise<void> {
  const settings = readSmokeSettings();
  core.setOutput(O.logsDir, settings.logsDir);
  const outcome = await smokeTest({ ...settings, log: core.info });
  core.setOutput(O.result, outcome.result);
  await report(settings, outcome);
}

const ICON = { passed: '✅', failed: '❌', skipped: '⏭️' };

async function report(settings: SmokeTestOptions, outcome: SmokeOutcome): Promise<void> {
  const { level } = settings;
  if (outcome.result === 'skipped') {
    core.summary.addRaw(`**Smoke test skipped**: ${outcome.why}.\n`, true);
    core.notice(`smoke test skipped: ${outcome.brief}`);
  } else if (outcome.result === 'dry-run') {
    const { snap, steps } = outcome;
    for (const step of steps) core.info(`would run: ${step}`);
    core.summary
      .addHeading(`Smoke test plan (${level}) of ${snap.name} ${snap.version}: dry run`, 3)
      .addRaw(
        `Companion snaps from the first of ${(settings.channels ?? [`${settings.track}/edge`]).map((c) => `<code>${c}</code>`).join(', ')} that has them; each step bounded.\n`,
        true,
      )
      .addList(steps, true);
  } else {
    const { snap, suite } = outcome;
    core.setOutput(O.junit, outcome.junit);
    core.summary
      .addHeading(`Smoke test (${level}) of ${snap.name} ${snap.version}: ${outcome.result}`, 3)
      .addTable([
        ['Step', 'Result', 'Time'].map((data) => ({ data, header: true })),
        ...suite.steps.map((s) => [
          s.name,
          `${ICON[s.status]} ${s.status}${s.attempts > 1 ? ` (${s.attempts} tries)` : ''}`,
          `${s.seconds.toFixed(1)} s`,
        ]),
      ]);
    const fellBack = outcome.fromStore.filter((f) => f.passed.length > 0);
    if (fellBack.length)
      core.summary.addRaw(
        `**Companions from another track:** ${fellBack.map((f) => `${f.snap} from <code>${f.channel}</code> (${f.passed.join(', ')} had none)`).join('; ')}.\n`,
        true,
      );
    if (suite.failed)
      core.summary.addCodeBlock(`${suite.failed.error}\n\n${suite.failed.lastLines.join('\n')}`);
  }
  await flushSummary();
  const failed = outcome.result === 'failed' ? outcome.suite.failed : undefined;
  if (failed?.failure)
    throw batchError([failed.failure], `Smoke test failed at '${failed.name}': ${failed.error}`);
}

await runAsEntry(import.meta.url, run);
