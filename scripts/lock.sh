#!/usr/bin/env bash
# Regenerate the hashed lock files from pyproject.toml: bash scripts/lock.sh [--upgrade]
#   requirements/lock.txt       the bot, resolver and index builder (what scripts/run.sh installs)
#   requirements/test-lock.txt  the same plus the test extras (scripts/test.sh and .ci/run)
# Both pin every package (setuptools too, which builds the editable install) with the sha256 of
# every file the index has for that version, wheels for every platform included, so
# `pip install --require-hashes` works on any machine. Existing pins are kept unless --upgrade.
# pyproject.toml keeps its version ranges for library users. Needs pip-tools in the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

compile() {
    local output="$1"
    shift
    say "pip-compile -> $output"
    "$NOZIRI_VENV/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
        --build-deps-for editable --no-emit-index-url --no-emit-find-links \
        "$@" --output-file "$output" pyproject.toml
}

compile requirements/lock.txt "$@"
compile requirements/test-lock.txt --extra test "$@"
