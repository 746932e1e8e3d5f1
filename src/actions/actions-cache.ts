import * as cache from '@actions/cache';
import * as core from '@actions/core';
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
