#!/usr/bin/env bash
# Refreshes test/fixtures from the shared OpenStack fixtures (real files; origins in MANIFEST.tsv).
# Usage: scripts/sync-fixtures.sh [SOURCE]   (default ../shared/fixtures)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-../shared/fixtures}
[ -f "$src/MANIFEST.tsv" ] || { echo "no fixtures at $src" >&2; exit 2; }
rm -rf test/fixtures
mkdir -p test/fixtures
cp -R "$src/." test/fixtures/
chmod -R u+w test/fixtures
echo "test/fixtures now mirrors $src"
