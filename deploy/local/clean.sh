#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `make clean`: stop the stack, then remove all its state ($PLUME_HOME and the cluster).
set -euo pipefail
HERE="$(dirname "$0")"
source "$HERE/common.sh"
source "$HERE/postgres.sh"

"$HERE/down.sh"
remove_postgres_data
rm -rf "$PLUME_HOME"
say "removed $PLUME_HOME"
