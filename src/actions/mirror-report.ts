import * as core from '@actions/core';
import type { DispatchResult } from '../github/index.js';
import type { RepoResult } from '../mirror/index.js';
import { batchError, type ItemFailure } from '../platform/index.js';
import { MirrorOutputs as O } from './constants.js';
import { escapeHtml, flushSummary } from './runner.js';

/** The mirror's outputs and summary; fails the step for each repository or dispatch that failed. */
export async function reportMirror(
  results: RepoResult[],
  dispatched: DispatchResult[],
): Promise<void> {
  // Reported as changed: what the destinations accepted (results of refused repos carry none).
  const changed = results.filter(
    (r) =>
      (r.status === 'mirrored' || r.status === 'partial') &&
      r.created.length + r.updated.length + r.deleted.length > 0,
  );
  const failed = results.filter((r) => ['failed', 'partial', 'refused'].includes(r.status));
  core.setOutput(O.changes, JSON.stringify(results.map(changesOf)));
  core.setOutput(O.changed, String(changed.length > 0));
  core.setOutput(O.changedRepos, changed.map((r) => r.destination).join(' '));
  core.setOutput(O.failedRepos, failed.map((r) => r.destination).join(' '));
  core.setOutput(O.dispatched, JSON.stringify(dispatched));
  await writeSummary(results, dispatched);
  const failedDispatches = dispatched.filter((d) => !d.ok);
  if (failed.length > 0 || failedDispatches.length > 0) {
    // Reported by the most serious failure: a bug as a bug, a refusal as the user's to decide.
    throw batchError(
      [
        ...failed.map((r) => r.failure ?? externalFailure(r.error)),
        ...failedDispatches.map((d) => externalFailure(d.error)),
      ],
      [
        ...failed.map((r) => `${r.destination}: ${r.status}: ${r.error}`),
        ...failedDispatches.map((d) => `dispatch ${d.repository} ${d.branch}: ${d.error}`),
      ].join('\n'),
    );
  }
}

function changesOf(result: RepoResult): Record<string, unknown> {
  return {
    source: result.source,
    destination: result.destination,
    status: result.status,
    created: result.created.map((c) => ({ ref: c.ref, new: c.new })),
    updated: result.updated.map((c) => ({ ref: c.ref, old: c.old, new: c.new, forced: c.forced })),
    deleted: result.deleted.map((c) => ({ ref: c.ref, old: c.old })),
    rejected: result.rejected,
    error: result.error ?? null,
  };
}

export function describe(result: RepoResult): string {
  const counts = `${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted`;
  const skipped = result.skipped.length
    ? `; skipped ${result.skipped.map((s) => `${s.ref} (${s.reason})`).join(', ')}`
    : '';
  return `${result.status} (${counts}; ${result.path.how}: ${result.path.why})${skipped}${result.error ? `: ${result.error}` : ''}`;
}

async function writeSummary(results: RepoResult[], dispatched: DispatchResult[]): Promise<void> {
  const icon: Record<string, string> = {
    mirrored: '✅',
    unchanged: '➖',
    'dry-run': '📝',
    partial: '⚠️',
    refused: '⛔',
    failed: '❌',
  };
  core.summary
    .addHeading('Mirror', 3)
    .addTable([
      [
        'Repository',
        'Status',
        'Created',
        'Updated (forced)',
        'Deleted',
        'Path',
        'Time',
        'Note',
      ].map((data) => ({ data, header: true })),
      ...results.map((r) => [
        `${r.destination}`,
        `${icon[r.status] ?? ''} ${r.status}`,
        String(r.created.length),
        `${r.updated.length} (${r.updated.filter((c) => c.forced).length})`,
        String(r.deleted.length),
        `${r.path.how}: ${escapeHtml(r.path.why)}`,
        `${(r.durationMs / 1000).toFixed(1)} s`,
        escapeHtml(r.error ?? note(r)),
      ]),
    ]);
  if (dispatched.length > 0) {
    core.summary
      .addHeading('Dispatched', 4)
      .addList(
        dispatched.map(
          (d) =>
            `${d.skipped ? '➖' : d.ok ? '✅' : '❌'} ${d.repository} ${d.branch}${d.skipped ? `: not dispatched, ${escapeHtml(d.skipped)}` : ''}${d.error ? `: ${escapeHtml(d.error)}` : ''}`,
        ),
      );
  }
  await flushSummary();
}

function note(result: RepoResult): string {
  const facts = [
    result.cacheHit ? 'restored from cache' : '',
    result.base === 'destination' && result.fetched ? 'began from the destination' : '',
    result.base === 'direct' && result.fetched ? 'from the source to the destination, no copy' : '',
    result.fetched ? 'fetched' : '',
  ];
  return facts.filter(Boolean).join(', ');
}

/** A failure known only by its message (a dispatch the API refused): outside, and final. */
function externalFailure(message = ''): ItemFailure {
  return { message, kind: 'external', retryable: false };
}
