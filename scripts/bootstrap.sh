#!/usr/bin/env bash
# Create .venv (if missing) and install Dermatox with the pinned versions of requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "bootstrap: installing python3-venv (Debian's venv support)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv .venv
    else
      echo "bootstrap: '$PYTHON -m venv' failed. On Debian install it with: sudo apt-get install python3-venv" >&2
      exit 1
    fi
  fi
fi
echo "bootstrap: installing pinned dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
