#!/usr/bin/env bash
# Build a Python 3.8 environment with the edge extras: the classic Jetson Nano's Python.
set -euo pipefail
venv="${1:-.venv38}"
py38=""
for cand in "$(pyenv prefix 3.8 2>/dev/null)/bin/python3.8" "$(command -v python3.8 || true)"; do
    if [ -x "$cand" ]; then py38="$cand"; break; fi
done
if [ -z "$py38" ]; then
    echo "Python 3.8 not found (pyenv prefix 3.8, python3.8): the 3.8 edge check cannot run" >&2
    exit 1
fi
"$py38" -m venv "$venv"
"$venv/bin/pip" install -q -U pip
"$venv/bin/pip" install -q -e '.[serial,lsl,replay,mpd,dev]'
"$venv/bin/python" -c "import sys, numpy, onnxruntime; print('py', sys.version.split()[0], 'numpy', numpy.__version__, 'onnxruntime', onnxruntime.__version__)"
