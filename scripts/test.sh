#!/usr/bin/env bash
# Set up (see setup.sh), then run the test suite; arguments go to pytest,
# e.g. scripts/test.sh -m 'not slow' or scripts/test.sh tests/test_images.py
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
# Tests are mostly independent emulator runs: spread them over the cores.
exec .venv/bin/python -m pytest -q -n "${PYTEST_JOBS:-auto}" "$@"
