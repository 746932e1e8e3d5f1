import * as core from '@actions/core';
import { type MatrixEntry, matrixFor } from '../build/index.js';
import { MatrixOutputs as O } from './constants.js';
import { readMatrixSettings } from './matrix-settings.js';
import { flushSummary, runAction, runAsEntry } from './runner.js';

/** The matrix action: the bundle runs it, and so do the tests. */
export async function run(): Promise<void> {
  await runAction('matrix', main);
}

async function main(): Promise<void> {
  const settings = readMatrixSettings();
  const { include, skipped } = await matrixFor(
    settings.project,
    settings.options,
    settings.branches,
  );
  core.setOutput(O.matrix, JSON.stringify({ include }));
  core.setOutput(O.skipped, JSON.stringify(skipped));
  core.setOutput(O.arches, [...new Set(include.map((e) => e.arch))].join(' '));
  core.setOutput(O.hasBuilds, String(include.length > 0));
  // Smoke tests need a cloud on the runner of the snap's arch: emulated and remote legs have none.
  const native = include.filter((e) => e.mode === 'native');
  core.setOutput(O.nativeMatrix, JSON.stringify({ include: native }));
  core.setOutput(O.hasNative, String(native.length > 0));
  for (const s of skipped)
    (s.notice ? core.notice : core.warning)(
      `Not building ${s.arch}${s.branch ? ` of ${s.branch}` : ''}: ${s.reason}`,
    );
  // A remote arch emulated on a pull request is as asked; on a release build it is a warning.
  const fallback = settings.options.remote?.trusted ? core.warning : core.notice;
  for (const e of include.filter((e) => e.mode === 'emulated' && e.reason))
    fallback(`${e.arch}${e.branch ? ` of ${e.branch}` : ''}: ${e.reason}`);
  // The branch column only for release rebuilds (several branches); a cell is never left empty.
  const byBranch = settings.branches.length > 0;
  const row = (branch: string | undefined, cells: string[]): string[] =>
    byBranch ? [branch ?? '', ...cells] : cells;
  core.summary
    .addHeading('Build matrix', 3)
    .addTable([
      row('Branch', ['Arch', 'Runner', 'How']).map((data) => ({ data, header: true })),
      ...include.map((e) =>
        row(e.branch, [e.arch, Array.isArray(e.runner) ? e.runner.join(', ') : e.runner, how(e)]),
      ),
      ...skipped.map((s) => row(s.branch, [s.arch, 'none', `skipped: ${s.reason}`])),
    ]);
  await flushSummary();
}

/** The summary's "How" for one leg: where it builds, and why when that is not the first choice. */
function how(e: MatrixEntry): string {
  const where =
    e.mode === 'remote'
      ? `remote on Launchpad (snapcraft remote-build, waits ${Math.round(e['launchpad-timeout']! / 60)} min)`
      : e.mode === 'emulated'
        ? `emulated ${e['build-on']} (qemu-user)`
        : e['build-on'] === e.arch
          ? 'native'
          : `cross from ${e['build-on']}`;
  return e.reason && e.mode !== 'remote' ? `${where}: ${e.reason}` : where;
}

await runAsEntry(import.meta.url, run);
