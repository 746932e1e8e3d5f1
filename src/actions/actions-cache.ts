import * as cache from '@actions/cache';
import * as core from '@actions/core';
import type { PrefixCache } from '../build-caches.js';
import type { FileCache } from '../constrain.js';
import { errorMessage } from '../errors.js';

/**
 * Whether the Actions cache service is there. The cache only saves work, so a runner (or a local
 * harness whose stub lacks the probe) without one runs uncached rather than failing.
 */
export function actionsCacheAvailable(): boolean {
  try {
    return cache.isFeatureAvailable();
  } catch (error) {
    core.debug(`Actions cache unavailable: ${String(error)}`);
    return false;
  }
}

/** A save that fails (another job saved the key first, the service is down) is a warning. */
async function save(paths: string[], key: string): Promise<void> {
  try {
    await cache.saveCache(paths, key);
  } catch (error) {
    core.warning(`Could not save the cache entry ${key}: ${errorMessage(error)}`);
  }
}

/** @actions/cache behind the library's FileCache (exact keys); absent without a cache service. */
export function actionsFileCache(): FileCache | undefined {
  if (!actionsCacheAvailable()) return undefined;
  return { restore: async (paths, key) => (await cache.restoreCache(paths, key)) === key, save };
}

/** @actions/cache with restoreKeys behind the library's PrefixCache. */
export function actionsPrefixCache(): PrefixCache | undefined {
  if (!actionsCacheAvailable()) return undefined;
  return {
    restore: async (paths, key, prefixes) =>
      (await cache.restoreCache(paths, key, prefixes)) ?? undefined,
    save,
  };
}
