# Shared steps of scripts/test.sh, scripts/run.sh, scripts/build_meili_image.sh and .ci/run.
# Source it from the repository root. Every step is idempotent: re-running costs seconds.

NOZIRI_VENV="${NOZIRI_VENV:-.venv}"
PY="$NOZIRI_VENV/bin/python"

# Print a step heading on stderr.
say() { printf '==> %s\n' "$*" >&2; }

# Create the virtual environment if absent, install the locked dependencies (every file's sha256
# checked: requirements/lock.txt, or requirements/test-lock.txt for `ensure_venv test`) and then
# the package itself, editable and without resolving anything more. Skips pip when neither
# pyproject.toml nor the lock file has changed since. Regenerate the locks with scripts/lock.sh.
ensure_venv() {
    local extras="${1:-}" lock="requirements/lock.txt" stamp fingerprint
    [ -n "$extras" ] && lock="requirements/${extras}-lock.txt"
    if [ ! -f "$lock" ]; then
        echo "error: no lock file $lock for extras '$extras': run bash scripts/lock.sh" >&2
        return 1
    fi
    if [ ! -x "$PY" ]; then
        say "creating $NOZIRI_VENV (python3 -m venv)"
        python3 -m venv "$NOZIRI_VENV"
    fi
    stamp="$NOZIRI_VENV/.noziri-installed${extras:+-$extras}"
    fingerprint="$(sha256sum pyproject.toml "$lock")"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
        return 0
    fi
    say "pip install --require-hashes -r $lock"
    "$PY" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
    say "pip install --no-deps --no-build-isolation -e ."
    "$PY" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    if ! "$PY" -m pip check >&2; then
        echo "error: $lock does not cover pyproject.toml: run bash scripts/lock.sh" >&2
        return 1
    fi
    printf '%s\n' "$fingerprint" > "$stamp"
}

# Install (or find) the pinned Meilisearch binary and print what was done.
ensure_meilisearch() {
    say "meilisearch: python -m search_platform.install"
    "$PY" -m search_platform.install
}
