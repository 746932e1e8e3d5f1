/**
 * The caches the library uses. In actions they are @actions/cache; in tests and the CLI, a
 * directory (dir-cache.ts).
 */

/** A keyed file cache. */
export interface FileCache {
  /** Restores `paths` saved under `key`; true on a hit. */
  restore(paths: string[], key: string): Promise<boolean>;
  save(paths: string[], key: string): Promise<void>;
}

/**
 * A cache that can fall back to the newest entry under a key prefix, as @actions/cache's
 * restoreKeys do: pip wheels from an older constraints commit are still mostly right.
 */
export interface PrefixCache {
  /** Restores `paths`; returns the key that matched (`key` itself on an exact hit). */
  restore(paths: string[], key: string, prefixes: string[]): Promise<string | undefined>;
  save(paths: string[], key: string): Promise<void>;
}
