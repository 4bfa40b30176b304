#!/usr/bin/env bash
# THE run command: bash scripts/run.sh [bot arguments]
# Creates .venv if absent, installs the package and the pinned Meilisearch, indexes the seed into
# the embedded Meilisearch (or the server MEILI_URL names), then starts the bot. Without
# TELEGRAM_BOT_TOKEN the bot runs as an offline chat in this terminal. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv
ensure_meilisearch
say "python -m index_builder build"
"$PY" -m index_builder build
say "python -m bot"
exec "$PY" -m bot "$@"
