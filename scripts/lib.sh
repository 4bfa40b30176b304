# Shared steps of scripts/test.sh, scripts/run.sh, scripts/build_meili_image.sh and .ci/run.
# Source it from the repository root. Every step is idempotent: re-running costs seconds.

NOZIRI_VENV="${NOZIRI_VENV:-.venv}"
PY="$NOZIRI_VENV/bin/python"

# Print a step heading on stderr.
say() { printf '==> %s\n' "$*" >&2; }

# Create the virtual environment if absent and install the package (editable) with the given
# extras, e.g. `ensure_venv test`. Skips pip when pyproject.toml has not changed since.
ensure_venv() {
    local extras="${1:-}" spec="." stamp
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x "$PY" ]; then
        say "creating $NOZIRI_VENV (python3 -m venv)"
        python3 -m venv "$NOZIRI_VENV"
    fi
    stamp="$NOZIRI_VENV/.noziri-installed${extras:+-$extras}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha256sum pyproject.toml)" ]; then
        return 0
    fi
    say "pip install -e '$spec'"
    "$PY" -m pip install --quiet --disable-pip-version-check -e "$spec"
    sha256sum pyproject.toml > "$stamp"
}

# Install (or find) the pinned Meilisearch binary and print what was done.
ensure_meilisearch() {
    say "meilisearch: python -m search_platform.install"
    "$PY" -m search_platform.install
}
