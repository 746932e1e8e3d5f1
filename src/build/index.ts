/**
 * build/: turning a snap project into .snap files for each architecture. The matrix (which
 * runner builds which arch, native or under qemu-user), runner provisioning, the native build
 * (snapcraft --use-lxd) and the container build (an LXD instance of the target arch, its image
 * made with debootstrap), the wheel cache, and the checks that every binary is for the arch.
 */
export type { CacheUse } from './caches.js';
export { hostArch } from './elf.js';
export { BuildError } from './failure.js';
export { matrixFor } from './matrix-branches.js';
export { BUILD_MODES, DEFAULT_ARCHES, parseSelfHosted, REMOTE_FALLBACKS } from './matrix.js';
export type { BuildMode, MatrixEntry, MatrixOptions, RemoteFallback } from './matrix.js';
export { buildManifest, runBuild } from './run.js';
export type { BuildIO, BuildResult, BuildSettings, RemoteSettings } from './run.js';
export { cleanUpRemoteBuilds, secretValues } from './remote.js';
export type { SentFile } from './remote.js';
export { prepareRunner, runnerSetupPlan, shouldPrepare } from './runner-setup.js';
