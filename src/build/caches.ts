import { existsSync, readdirSync } from 'node:fs';
import type { PrefixCache } from '../platform/index.js';

export interface CacheKeys {
  readonly key: string;
  readonly prefixes: string[];
}

/**
 * Keys for pip's wheel cache of one build: wheels depend on the Ubuntu series (its Python), the
 * architecture and the pinned versions, so the constraints commit is in the key and an older
 * commit's wheels are the fallback. An untrusted build (a pull request, whose code fills the
 * cache) saves under its own scope and may fall back to the trusted one; a trusted build reads
 * only its own scope, so a wheel a pull request built never reaches a release.
 */
export function wheelCacheKeys(options: {
  readonly kind: 'pip' | 'craft';
  readonly series: string;
  readonly arch: string;
  readonly constraintsCommit: string | null;
  readonly trusted: boolean;
}): CacheKeys {
  const scoped = (scope: string): string =>
    `${scope}-${options.kind}-v1-${options.series}-${options.arch}-`;
  const prefix = scoped(trustScope(options.trusted));
  return {
    key: `${prefix}${options.constraintsCommit ?? 'unconstrained'}`,
    prefixes: options.trusted ? [prefix] : [prefix, scoped(trustScope(true))],
  };
}

/** The name prefix of what a build of this trust writes: caches and build images. */
export function trustScope(trusted: boolean): string {
  return trusted ? 'osa' : 'osa-pr';
}

/** ISO 8601 week, e.g. 2026w48: build images are rebuilt weekly to pick up security updates. */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day); // the Thursday of this week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86400000 + 1) / 7);
  return `${d.getUTCFullYear()}w${String(week).padStart(2, '0')}`;
}

export interface CacheUse {
  readonly key: string;
  /** The key restored from: the key itself, an older one, or none. */
  readonly restoredFrom: string | null;
  readonly saved: boolean;
  readonly files: number | null;
}

/** Restores a wheel cache directory; says what matched. */
export async function restoreWheels(
  cache: PrefixCache | undefined,
  dir: string,
  keys: CacheKeys,
): Promise<string | null> {
  if (!cache) return null;
  return (await cache.restore([dir], keys.key, keys.prefixes)) ?? null;
}

/**
 * Saves the wheel cache after a build, unless it was restored by exactly this key (Actions cache
 * entries are immutable) or the build left nothing in it.
 */
export async function saveWheels(
  cache: PrefixCache | undefined,
  dir: string,
  keys: CacheKeys,
  restoredFrom: string | null,
): Promise<CacheUse> {
  const files = existsSync(dir) ? countFiles(dir) : 0;
  const use = { key: keys.key, restoredFrom, files };
  if (!cache || restoredFrom === keys.key || files === 0) return { ...use, saved: false };
  await cache.save([dir], keys.key);
  return { ...use, saved: true };
}

/** Regular files under `dir`, at any depth. */
export function countFiles(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) count++;
  return count;
}
