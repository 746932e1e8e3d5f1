import * as core from '@actions/core';
import { releaseAll, publish, type PublishResult } from '../publish.js';
import { SnapcraftCli } from '../snapcraft-cli.js';
import { formatChannel } from '../store-channel.js';
import { PublishOutputs as O } from './constants.js';
import { readPublishSettings } from './publish-settings.js';
import { flushSummary, isEntryPoint, runAction } from './runner.js';

/** The publish action: the bundle runs it, and so do local-action and the tests. */
export async function run(): Promise<void> {
  await runAction('publish', main);
}

async function main(): Promise<void> {
  const settings = readPublishSettings();
  const cli = new SnapcraftCli({
    command: settings.snapcraft,
    credentials: settings.credentials,
    onOutput: (line) => core.info(line),
  });
  const channel = formatChannel(settings.channel);
  let result: PublishResult;
  if (settings.promote) {
    const name = settings.expectedName;
    if (!name) throw new Error(`promotion needs 'snap-name'`);
    const snaps = Object.entries(settings.promote).map(([arch, revision]) => ({
      file: '',
      name,
      version: '',
      arch,
      revision,
      status: 'uploaded' as const,
      released: false,
    }));
    result = await core.group(`Promote ${name} to ${channel}`, () =>
      releaseAll(cli, name, channel, snaps, settings.retry, core.info),
    );
  } else {
    result = await core.group(`Publish to ${channel}`, () =>
      publish({ ...settings, cli, log: core.info }),
    );
  }
  core.setOutput(O.snapName, result.name);
  core.setOutput(O.channel, result.channel);
  core.setOutput(
    O.revisions,
    JSON.stringify(
      Object.fromEntries(
        result.snaps.filter((s) => s.revision !== null).map((s) => [s.arch, s.revision]),
      ),
    ),
  );
  core.setOutput(O.released, String(result.released));
  core.setOutput(O.result, JSON.stringify(result));
  await writeSummary(result, settings.dryRun);
  if (result.error) core.setFailed(result.error);
}

async function writeSummary(result: PublishResult, dryRun: boolean): Promise<void> {
  const icon: Record<string, string> = {
    uploaded: '✅',
    duplicate: '♻️',
    failed: '❌',
    skipped: '⏭️',
    'would-upload': '📝',
  };
  core.summary
    .addHeading(
      `${dryRun ? 'Dry run: ' : ''}${result.name} → ${result.channel}${result.released ? ' (released)' : ''}`,
      3,
    )
    .addTable([
      ['Architecture', 'Version', 'Revision', 'Upload', 'Released'].map((data) => ({
        data,
        header: true,
      })),
      ...result.snaps.map((s) => [
        s.arch,
        s.version,
        s.revision === null ? '' : String(s.revision),
        `${icon[s.status] ?? ''} ${s.status}`,
        s.released ? 'yes' : 'no',
      ]),
    ]);
  if (result.error) core.summary.addRaw(`\n**${result.error.replace(/</g, '&lt;')}**\n`, true);
  await flushSummary();
}

if (isEntryPoint(import.meta.url)) await run();
