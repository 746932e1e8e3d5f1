import { publishWith, reportPublish } from './publish-report.js';
import { readPublishSettings } from './publish-settings.js';
import { runAction, runAsEntry } from './runner.js';

/** The publish action: the bundle runs it, and so do local-action and the tests. */
export async function run(): Promise<void> {
  await runAction('publish', main);
}

async function main(): Promise<void> {
  const settings = readPublishSettings();
  const result = await publishWith(settings);
  await reportPublish(result, settings.dryRun);
}

await runAsEntry(import.meta.url, run);
