/** Input and output names of every action, in one place (action.yml files must match; a test checks). */
export const ConstraintsInputs = {
  project: 'project',
  ref: 'ref',
  series: 'series',
  requirementsRepo: 'requirements-repo',
  constraintsCommit: 'constraints-commit',
  constraintsFile: 'constraints-file',
  exclude: 'exclude',
  constraintsPath: 'constraints-path',
  output: 'output',
  trackMap: 'track-map',
  cache: 'cache',
  dryRun: 'dry-run',
  pinConflicts: 'pin-conflicts',
} as const;

export const ConstraintsOutputs = {
  series: 'series',
  seriesName: 'series-name',
  releaseId: 'release-id',
  track: 'track',
  constraintsRef: 'constraints-ref',
  constraintsCommit: 'constraints-commit',
  constraintsFile: 'constraints-file',
  snapcraftYaml: 'snapcraft-yaml',
  changed: 'changed',
  excluded: 'excluded',
  applied: 'applied',
  pinConflicts: 'pin-conflicts',
  manifest: 'manifest',
} as const;

export const MirrorInputs = {
  repos: 'repos',
  refs: 'refs',
  token: 'token',
  concurrency: 'concurrency',
  maxDestructiveFraction: 'max-destructive-fraction',
  allowDestructive: 'allow-destructive',
  cache: 'cache',
  cacheDir: 'cache-dir',
  dryRun: 'dry-run',
  inProcess: 'in-process',
  repoTimeoutMinutes: 'repo-timeout-minutes',
  dispatchWorkflow: 'dispatch-workflow',
  dispatchBranches: 'dispatch-branches',
  dispatchInput: 'dispatch-input',
  dispatchToken: 'dispatch-token',
} as const;

export const MirrorOutputs = {
  changes: 'changes',
  changed: 'changed',
  changedRepos: 'changed-repos',
  failedRepos: 'failed-repos',
  dispatched: 'dispatched',
} as const;

export const PublishInputs = {
  snaps: 'snaps',
  channel: 'channel',
  ref: 'ref',
  risk: 'risk',
  trackMap: 'track-map',
  release: 'release',
  snapName: 'snap-name',
  storeCredentials: 'store-credentials',
  snapcraft: 'snapcraft',
  attempts: 'attempts',
  retryDelay: 'retry-delay',
  promoteRevisions: 'promote-revisions',
  dryRun: 'dry-run',
  setup: 'setup',
  snapcraftChannel: 'snapcraft-channel',
  sha: 'sha',
  githubToken: 'github-token',
  repository: 'repository',
} as const;

export const PublishOutputs = {
  snapName: 'snap-name',
  channel: 'channel',
  revisions: 'revisions',
  released: 'released',
  result: 'result',
} as const;

export const MatrixInputs = {
  project: 'project',
  arches: 'arches',
  selfHosted: 'self-hosted',
  emulate: 'emulate',
  branches: 'branches',
  remoteArches: 'remote-arches',
  remoteCredentials: 'remote-credentials',
  remoteFallback: 'remote-fallback',
  remoteTimeoutMinutes: 'remote-timeout-minutes',
  launchpadAcceptPublicUpload: 'launchpad-accept-public-upload',
  publish: 'publish',
  nativeBuildMinutes: 'native-build-minutes',
  timeoutMinutes: 'timeout-minutes',
  emulatedTimeoutMinutes: 'emulated-timeout-minutes',
  changeTimeoutMinutes: 'change-timeout-minutes',
} as const;

export const MatrixOutputs = {
  matrix: 'matrix',
  skipped: 'skipped',
  arches: 'arches',
  hasBuilds: 'has-builds',
  nativeMatrix: 'native-matrix',
  hasNative: 'has-native',
} as const;

export const BuildInputs = {
  project: 'project',
  arch: 'arch',
  emulate: 'emulate',
  mode: 'mode',
  launchpadCredentials: 'launchpad-credentials',
  launchpadAcceptPublicUpload: 'launchpad-accept-public-upload',
  launchpadTimeout: 'launchpad-timeout',
  launchpadInclude: 'launchpad-include',
  launchpadAllow: 'launchpad-allow',
  platform: 'platform',
  snapcraftChannel: 'snapcraft-channel',
  snapcraft: 'snapcraft',
  setup: 'setup',
  image: 'image',
  lxdConfig: 'lxd-config',
  containerCommand: 'container-command',
  timeoutMinutes: 'timeout-minutes',
  constraints: 'constraints',
  ref: 'ref',
  requirementsRepo: 'requirements-repo',
  constraintsCommit: 'constraints-commit',
  series: 'series',
  pinConflicts: 'pin-conflicts',
  outputDir: 'output-dir',
  cache: 'cache',
  cacheDir: 'cache-dir',
  rootfs: 'rootfs',
  storeApi: 'store-api',
} as const;

/** What the build action's main step leaves its post step (never a secret). */
export const BuildState = {
  isPost: 'isPost',
} as const;

export const BuildOutputs = {
  snaps: 'snaps',
  snap: 'snap',
  name: 'name',
  version: 'version',
  arch: 'arch',
  manifest: 'manifest',
  logsDir: 'logs-dir',
  buildImage: 'build-image',
} as const;

export const PlanInputs = {
  branch: 'branch',
  publish: 'publish',
  series: 'series',
  repository: 'repository',
  requirementsRepo: 'requirements-repo',
  constraintsCommit: 'constraints-commit',
} as const;

export const PlanOutputs = {
  ref: 'ref',
  checkout: 'checkout',
  publish: 'publish',
  constraints: 'constraints',
  series: 'series',
  reason: 'reason',
  constraintsCommit: 'constraints-commit',
} as const;

export const SmokeInputs = {
  snap: 'snap',
  track: 'track',
  trackMap: 'track-map',
  ref: 'ref',
  level: 'level',
  companions: 'companions',
  cirrosImage: 'cirros-image',
  timeout: 'timeout',
  emulated: 'emulated',
  dryRun: 'dry-run',
} as const;

export const SmokeOutputs = {
  result: 'result',
  junit: 'junit',
  logsDir: 'logs-dir',
} as const;

export const DispatchInputs = {
  repos: 'repos',
  branch: 'branch',
  workflow: 'workflow',
  publish: 'publish',
  token: 'token',
  wait: 'wait',
  timeoutMinutes: 'timeout-minutes',
  requirementsRepo: 'requirements-repo',
  requirementsBranches: 'requirements-branches',
  stateBranch: 'state-branch',
  stateToken: 'state-token',
} as const;

export const DispatchOutputs = {
  results: 'results',
  failed: 'failed',
} as const;

export const FleetInputs = {
  step: 'step',
  config: 'config',
  token: 'token',
  stateBranch: 'state-branch',
  publishedDir: 'published-dir',
  statusDir: 'status-dir',
} as const;

export const FleetOutputs = {
  targets: 'targets',
  hasTargets: 'has-targets',
  statusDir: 'status-dir',
  failed: 'failed',
  repos: 'repos',
} as const;

/** The root action.yml (one step: constraints, build, publish): each input is read by name. */
export const SnapInputs = {
  project: BuildInputs.project,
  ref: BuildInputs.ref,
  requirementsRepo: BuildInputs.requirementsRepo,
  constraints: BuildInputs.constraints,
  pinConflicts: BuildInputs.pinConflicts,
  setup: BuildInputs.setup,
  snapcraftChannel: BuildInputs.snapcraftChannel,
  cache: BuildInputs.cache,
  publish: 'publish',
  risk: PublishInputs.risk,
  trackMap: PublishInputs.trackMap,
  storeCredentials: PublishInputs.storeCredentials,
  dryRun: PublishInputs.dryRun,
} as const;

export const SnapOutputs = {
  snap: BuildOutputs.snap,
  snaps: BuildOutputs.snaps,
  manifest: BuildOutputs.manifest,
  series: ConstraintsOutputs.series,
  track: ConstraintsOutputs.track,
  channel: PublishOutputs.channel,
  revisions: PublishOutputs.revisions,
} as const;
