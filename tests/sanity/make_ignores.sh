#!/usr/bin/env bash
# Writes tests/sanity/ignore-2.19.txt. octavia.lbaas is Apache-2.0; validate-modules wants
# a GPLv3 header in every module, so that one check is ignored for each module (and only
# that one). Run after adding a module; tests/run-all.sh fails when the file is stale.
set -euo pipefail
cd "$(dirname "$0")/../.."
for m in plugins/modules/*.py; do
  echo "$m validate-modules:missing-gplv3-license # Apache-2.0 collection"
done > tests/sanity/ignore-2.19.txt
