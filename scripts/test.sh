#!/usr/bin/env bash
# THE test command: bash scripts/test.sh [extra pytest arguments]
# Creates .venv if absent, installs the package with its test extras and the pinned Meilisearch,
# then runs ruff (lint and format), mypy and pytest. Every check runs; the exit status is non-zero
# if any of them failed. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv test
ensure_meilisearch

failed=()
# Run one check, remembering its name if it fails.
check() {
    local name="$1"
    shift
    say "$name"
    "$@" || failed+=("$name")
}

check "ruff check ." "$NOZIRI_VENV/bin/ruff" check .
check "ruff format --check ." "$NOZIRI_VENV/bin/ruff" format --check .
check "mypy" "$NOZIRI_VENV/bin/mypy"
check "pytest" "$PY" -m pytest -q -ra "$@"

if ((${#failed[@]})); then
    printf 'FAILED checks: %s\n' "$(IFS=,; echo "${failed[*]}")" >&2
    exit 1
fi
say "all checks passed"
