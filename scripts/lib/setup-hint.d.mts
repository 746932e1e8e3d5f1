/** `bash scripts/setup.sh ARGS` as this user can run it, e.g. "sudo bash scripts/setup.sh --system". */
export function setupCommand(args?: string): string;
/** True when `command` is an executable on PATH. */
export function onPath(command: string): boolean;
/** Why LXD cannot run emulated builds here, with what fixes it; null when it can. */
export function lxdProblem(images: readonly string[], handlers?: readonly string[]): string | null;
