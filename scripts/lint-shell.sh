#!/usr/bin/env bash
# Lints every shell script of the project with shellcheck. Without shellcheck (scripts/setup.sh installs
# it) this check is skipped with the reason printed; under CI=true that is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts=(.ci/run scripts/*.sh scripts/system/*.sh test/standins/*.sh test/standins/machine/record)
if ! command -v shellcheck >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    echo "lint: error: shellcheck is not installed (bash scripts/setup.sh installs it)" >&2
    exit 1
  fi
  echo "SKIPPED: shellcheck of ${#scripts[@]} shell scripts: shellcheck is not installed (sudo bash scripts/setup.sh installs it)" >&2
  exit 0
fi
shellcheck "${scripts[@]}"
