import * as core from '@actions/core';
import type { ConstrainResult } from '../constraints/index.js';
import { ConstraintsOutputs as O } from './constants.js';
import { escapeHtml, flushSummary } from './runner.js';

/** The constraints step's outputs, warnings, diff and summary. */
export async function reportConstraints(result: ConstrainResult, dryRun: boolean): Promise<void> {
  setOutputs(result);
  for (const note of result.notes) core.info(note);
  for (const warning of result.warnings) core.warning(warning);
  if (result.diff) core.info(result.diff);
  await writeSummary(result, dryRun);
}

function manifestOf(result: ConstrainResult): Record<string, unknown> {
  const { release } = result;
  return {
    ref: release.ref,
    refKind: release.kind,
    series: {
      key: release.series.key,
      name: release.series.name,
      releaseId: release.series.releaseId,
      status: release.series.status,
      slurp: release.series.slurp,
    },
    track: result.track,
    constraints: {
      repo: result.requirementsRepo,
      ref: result.constraintsRef,
      commit: result.constraintsCommit,
      file: result.constraintsFile,
      cacheHit: result.cacheHit,
      excluded: result.excluded.map((e) => ({ name: e.name, from: e.from, removed: e.removed })),
      applied: result.applied,
      pinConflicts: result.pinConflicts,
      pinPolicy: result.pinPolicy,
      dropped: result.dropped,
    },
    notes: result.notes,
    warnings: result.warnings,
    snap: {
      ...result.snap,
      snapcraftYaml: result.snapcraftYaml,
      changed: result.changed,
      parts: result.parts,
    },
  };
}

function setOutputs(result: ConstrainResult): void {
  core.setOutput(O.series, result.release.series.key);
  core.setOutput(O.seriesName, result.release.series.name);
  core.setOutput(O.releaseId, result.release.series.releaseId ?? '');
  core.setOutput(O.track, result.track);
  core.setOutput(O.constraintsRef, result.constraintsRef?.name ?? '');
  core.setOutput(O.constraintsCommit, result.constraintsCommit ?? '');
  core.setOutput(O.constraintsFile, result.constraintsFile ?? '');
  core.setOutput(O.applied, String(result.applied));
  core.setOutput(O.pinConflicts, JSON.stringify(result.pinConflicts));
  core.setOutput(O.snapcraftYaml, result.snapcraftYaml);
  core.setOutput(O.changed, String(result.changed));
  core.setOutput(
    O.excluded,
    result.excluded
      .filter((e) => e.removed.length > 0)
      .map((e) => e.name)
      .join(' '),
  );
  core.setOutput(O.manifest, JSON.stringify(manifestOf(result)));
}

async function writeSummary(result: ConstrainResult, dryRun: boolean): Promise<void> {
  const { release } = result;
  const source = result.constraintsRef
    ? `${result.constraintsRef.type} <code>${result.constraintsRef.name}</code> at <code>${result.constraintsCommit?.slice(0, 12)}</code> (${result.constraintsRef.rule})`
    : 'pre-fetched file';
  core.summary
    .addHeading(`OpenStack constraints for ${result.snap.name}${dryRun ? ' (dry run)' : ''}`, 3)
    .addTable([
      [
        { data: 'Ref', header: true },
        { data: 'Series', header: true },
        { data: 'Track', header: true },
        { data: 'openstack/requirements', header: true },
        { data: 'Cache', header: true },
      ],
      [
        release.ref,
        `${release.series.name} (${release.series.key}, ${release.series.status})`,
        result.track,
        source,
        result.cacheHit ? 'hit' : 'miss',
      ],
    ]);
  addConstraintsAccount(result);
  const removed = result.excluded.filter((e) => e.removed.length > 0);
  if (removed.length > 0) {
    core.summary.addRaw(
      `Removed from the constraints (built from source): ${removed.map((e) => `<code>${e.name}</code> (${e.from})`).join(', ')}`,
      true,
    );
  }
  core.summary.addRaw(
    result.changed
      ? '\n```diff\n' + result.diff + '```\n'
      : result.applied
        ? '\nsnapcraft.yaml already points at the constraints.\n'
        : '',
    true,
  );
  await flushSummary();
}

/**
 * What happened to the constraints, beyond the table: what was done and why (a uv part, no pip
 * part, pins dropped), and what to look at. Used by the constraints and build summaries alike.
 */
export function addConstraintsAccount(result: ConstrainResult): void {
  if (result.notes.length > 0)
    core.summary.addRaw('\n**What was done:**\n', true).addList(result.notes.map(escapeHtml));
  if (result.warnings.length > 0)
    core.summary.addRaw('\n**Look at:**\n', true).addList(result.warnings.map(escapeHtml));
}
