import { ConfigurationError } from '../platform/index.js';

/**
 * The snapcraft channel that builds a base: snapcraft 9 dropped core20 (8.x builds it), core18
 * needs 7.x; core22 and later build with the current stable snapcraft.
 */
export function snapcraftChannelFor(base: string | null, file: string): string {
  if (base === 'core18') return '7.x/stable';
  if (base === 'core20') return '8.x/stable';
  if (base && /^core(2[2-9]|[3-9]\d)$/.test(base)) return 'latest/stable';
  throw new ConfigurationError(
    `${file} has ${base ? `base ${base}` : 'no base'}, which no maintained snapcraft builds: add base: core22 (or newer) ` +
      `and port the parts, or set 'snapcraft-channel' to a snapcraft that still builds it.`,
  );
}

/**
 * The snapcraft to upload and release with: the one for the snap's base where there is one
 * (the store commands of each track match its builds), else the current stable.
 */
export function storeSnapcraftChannel(base: string | null): string {
  try {
    return snapcraftChannelFor(base, 'the snap');
  } catch {
    return 'latest/stable';
  }
}
