#!/usr/bin/env bash
# rope-viz developer entry point.
#   bash dev.sh app    set up .venv (first run: ~1 min) and start the app on http://127.0.0.1:8501
#   bash dev.sh test   set up .venv with the test tools and run the whole test suite
# Extra arguments are passed on (to streamlit for `app`, to pytest for `test`).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv

setup() {  # $1 = requirements file; reinstalls only when it (or what it includes) changed
  local req=$1 stamp="$VENV/.installed-$(basename "$1")"
  local want; want=$(cat requirements*.txt pyproject.toml | sha256sum | cut -c1-16)
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "dev.sh: installing $req into $VENV ..." >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # torch first, pinned: on machines without CUDA this resolves to the CPU wheel (see README).
    "$VENV/bin/python" -m pip install -q "$(grep -E '^torch==' requirements.txt)"
    "$VENV/bin/python" -m pip install -q -r "$req" -e .
    echo "$want" > "$stamp"
  fi
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    echo "dev.sh: note: no chromium found; PNG/SVG/PDF export and browser tests need it" \
         "(Debian/Ubuntu: sudo apt-get install -y chromium)" >&2
  fi
}

case "${1:-app}" in
  app)
    shift || true
    setup requirements.txt
    exec "$VENV/bin/python" -m streamlit run app.py "$@"
    ;;
  test)
    shift || true
    setup requirements-dev.txt
    exec "$VENV/bin/python" -m pytest -q "$@"
    ;;
  *)
    echo "usage: bash dev.sh app | bash dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
