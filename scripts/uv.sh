#!/usr/bin/env bash
# Run uv, installing it from the package index first if this machine has none.
set -euo pipefail
if command -v uv >/dev/null 2>&1; then
  exec uv "$@"
fi
if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "uv not found: installing it with pip (python3 -m pip install --user uv)" >&2
  python3 -m pip install --quiet --user uv >&2 || python3 -m pip install --quiet uv >&2
fi
exec python3 -m uv "$@"
