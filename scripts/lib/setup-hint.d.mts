/** `bash scripts/setup.sh ARGS` as this user can run it, e.g. "sudo bash scripts/setup.sh --system". */
export function setupCommand(args?: string): string;
