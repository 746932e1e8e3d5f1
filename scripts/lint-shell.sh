#!/usr/bin/env bash
# Lints every shell script of the project with shellcheck. Without shellcheck (scripts/setup.sh installs
# it) this check is skipped with the reason printed; under CI=true that is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts=(.ci/run scripts/*.sh scripts/system/*.sh test/standins/*.sh test/standins/machine/record)
if ! command -v shellcheck >/dev/null 2>&1; then
  # As scripts/lib/setup-hint.mjs says it: as is when root, sudo where there is sudo.
  setup="bash scripts/setup.sh"
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then setup="sudo $setup"; else setup="as root: $setup"; fi
  fi
  if [ "${CI:-}" = true ]; then
    echo "lint: error: shellcheck is not installed ($setup installs it)" >&2
    exit 1
  fi
  echo "SKIPPED: shellcheck of ${#scripts[@]} shell scripts: shellcheck is not installed ($setup installs it)" >&2
  exit 0
fi
shellcheck "${scripts[@]}"
