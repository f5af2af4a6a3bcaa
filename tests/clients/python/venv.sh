#!/usr/bin/env bash
# Creates (or refreshes) the Python suite's virtualenv with the pinned clients of
# requirements.txt, and prints its interpreter. Run by run.sh and by tests/browser/run.sh (whose dashboard
# test checks what the page shows against boto3).
#
#   PY="$(bash tests/clients/python/venv.sh)"
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" >&2
fi
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ] || [ ! -x "$VENV/bin/aws" ]; then
    "$VENV/bin/python" -m pip install -q -r "$HERE/requirements.txt" >&2
    echo "$WANT" > "$STAMP"
fi
echo "$VENV/bin/python"
