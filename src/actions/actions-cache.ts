import * as core from '@actions/core';
import type { MirrorStore } from '../mirror/index.js';
import { errorMessage, type FileCache, type PrefixCache } from '../platform/index.js';

/**
 * The Actions cache behind the library's cache interfaces. The SDK is 2.5 MB of bundle that more
 * than doubles an action's start-up, so it is loaded on first use, and only where the runner
 * has a cache service at all (it says so in the environment).
 */

type CacheSdk = typeof import('@actions/cache');
let sdk: Promise<CacheSdk> | undefined;
const load = (): Promise<CacheSdk> => (sdk ??= import('@actions/cache'));

/**
 * Whether the Actions cache service may be there: the runner sets ACTIONS_RESULTS_URL (cache
 * service v2) or ACTIONS_CACHE_URL (v1). The cache only saves work, so without one every action
 * runs uncached rather than failing.
 */
function serviceAnnounced(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!(env.ACTIONS_RESULTS_URL || env.ACTIONS_CACHE_URL);
}

/** The SDK when the service is really there (its own probe), else null. */
async function available(): Promise<CacheSdk | null> {
  try {
    const cache = await load();
    return cache.isFeatureAvailable() ? cache : null;
  } catch (error) {
    core.debug(`Actions cache unavailable: ${errorMessage(error)}`);
    return null;
  }
}

/** A save that fails (another job saved the key first, the service is down) is a warning. */
async function save(paths: string[], key: string): Promise<void> {
  const cache = await available();
  try {
    await cache?.saveCache(paths, key);
  } catch (error) {
    core.warning(`Could not save the cache entry ${key}: ${errorMessage(error)}`);
  }
}

/** The Actions cache as a FileCache (exact keys); undefined where the runner has none. */
export function actionsFileCache(): FileCache | undefined {
  if (!serviceAnnounced()) return undefined;
  return {
    restore: async (paths, key) => (await (await available())?.restoreCache(paths, key)) === key,
    save,
  };
}

/** The Actions cache with restoreKeys as a PrefixCache. */
export function actionsPrefixCache(): PrefixCache | undefined {
  if (!serviceAnnounced()) return undefined;
  return {
    restore: async (paths, key, prefixes) =>
      (await (await available())?.restoreCache(paths, key, prefixes)) ?? undefined,
    save,
  };
}

/** The mirror's bare copies in the Actions cache: restored by prefix, saved under a key per run. */
export function actionsMirrorStore(env: NodeJS.ProcessEnv = process.env): MirrorStore | undefined {
  const cache = actionsPrefixCache();
  if (!cache) return undefined;
  const run = `${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`;
  return {
    restore: async (slug, dir) =>
      !!(await cache.restore([dir], `osa-mirror-${slug}-${run}`, [`osa-mirror-${slug}-`])),
    save: (slug, dir) => cache.save([dir], `osa-mirror-${slug}-${run}`),
  };
}
