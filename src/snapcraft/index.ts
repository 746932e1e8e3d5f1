/**
 * snapcraft/: snapcraft's world. snapcraft.yaml (parsed as snapcraft reads it, its python keys
 * per base, rewritten in place), the snapcraft CLI, its channel per base, architectures, .snap
 * files.
 */
export { KNOWN_ARCHES, checkArch, singleTargetYaml, snapArchitectures } from './architectures.js';
export type { BuildTarget } from './architectures.js';
export { snapcraftChannelFor, storeSnapcraftChannel } from './channel.js';
export { SnapcraftCli, StoreError } from './cli.js';
export { constraintsReference } from './keys.js';
export { constraintsEntryRef, rewriteConstraints } from './rewrite.js';
export { expandSnapPaths, readSnapInfo } from './snap-file.js';
export type { SnapInfo } from './snap-file.js';
export { localSources, locateSnapcraftYaml, parseSnapcraftYaml } from './yaml.js';
export type { SnapcraftProject } from './yaml.js';
