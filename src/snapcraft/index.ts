/**
 * snapcraft/: snapcraft's world. snapcraft.yaml (parsed as snapcraft reads it, its python keys
 * per base, rewritten in place), the snapcraft CLI, its channel per base, architectures, .snap
 * files.
 */
export { KNOWN_ARCHES, checkArch, singleTargetYaml, snapArchitectures } from './architectures.js';
export type { BuildTarget } from './architectures.js';
export {
  BASE_SERIES,
  baseFacts,
  snapcraftBuilds,
  snapcraftChannelFor,
  storeSnapcraftChannel,
} from './bases.js';
export type { BaseFacts } from './bases.js';
export { SnapcraftCli, StoreError } from './cli.js';
export { constraintsReference, PYTHON_PLUGINS, UV_PLUGIN } from './generations.js';
export type { PythonPluginGeneration } from './generations.js';
export { constraintsEntryRef, rewriteConstraints } from './rewrite.js';
export { expandSnapPaths, readSnapInfo } from './snap-file.js';
export type { SnapInfo } from './snap-file.js';
export { localSources, locateSnapcraftYaml, parseSnapcraftYaml } from './yaml.js';
export type { SnapcraftProject } from './yaml.js';
