#!/usr/bin/env bash
# Start rope-viz for a team: RV_REPLICAS Streamlit servers on loopback ports and nginx in front of them (websocket
# upgrade, sticky sessions by cookie). Runs in the foreground; Ctrl-C / SIGTERM stops nginx and every replica.
# See docs/deployment.md.
#
#   bash deploy/start.sh                       # 2 replicas, nginx on 0.0.0.0:8080
#   RV_REPLICAS=4 RV_LISTEN=127.0.0.1:9000 bash deploy/start.sh [extra streamlit options...]
#
# Environment (defaults in brackets):
#   RV_REPLICAS [2]            Streamlit server processes (one per core is a good start: each runs scripts under one GIL)
#   RV_PROXY [1]               0: no nginx (only with RV_REPLICAS=1: the replica itself on RV_BIND:RV_BASE_PORT)
#   RV_LISTEN [0.0.0.0:8080]   where nginx listens (the only address users reach)
#   RV_BIND [127.0.0.1]        where the replicas listen; 0.0.0.0 only when nginx runs on another host (firewall them)
#   RV_BASE_PORT [8701]        replica i listens on RV_BASE_PORT + i
#   RV_RUN_DIR [/tmp/rope-viz-deploy]   nginx config, pid, logs and the replicas' logs
#   RV_PYTHON [.venv/bin/python]        the Python with rope-viz installed (bash dev.sh app sets it up)
#   RV_APP_DIR [this checkout]          the folder holding app.py (e.g. a `git archive` export of a release)
#   RV_COOKIE_SECRET [random]  shared by all replicas (XSRF tokens stay valid whichever replica checks them)
#   RV_SESSION_TTL [120]       seconds a disconnected session is kept for a reconnect, then freed
#   RV_WARM_UP [1]             visit every page of each replica once before nginx starts (0: skip)
#   ROPE_VIZ_MODELS_DIR        the only folder real models are read from (unset: bundled models only)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "${RV_APP_DIR:-$HERE/..}"
REPLICAS=${RV_REPLICAS:-2}
PROXY=${RV_PROXY:-1}
LISTEN=${RV_LISTEN:-0.0.0.0:8080}
BIND=${RV_BIND:-127.0.0.1}
BASE_PORT=${RV_BASE_PORT:-8701}
RUN_DIR=${RV_RUN_DIR:-/tmp/rope-viz-deploy}
PY=${RV_PYTHON:-.venv/bin/python}
SESSION_TTL=${RV_SESSION_TTL:-120}
NGINX=${RV_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ "$PROXY" = 0 ] || [ -x "$NGINX" ] || { echo "start.sh: nginx not found (Debian/Ubuntu: apt-get install -y nginx)" >&2; exit 2; }
[ "$PROXY" = 1 ] || [ "$REPLICAS" = 1 ] || { echo "start.sh: RV_PROXY=0 needs RV_REPLICAS=1" >&2; exit 2; }
[ -f app.py ] || { echo "start.sh: no app.py in $(pwd) (set RV_APP_DIR)" >&2; exit 2; }
[ -x "$PY" ] || { echo "start.sh: $PY not found (run: bash dev.sh app once, or set RV_PYTHON)" >&2; exit 2; }
[[ "$REPLICAS" =~ ^[1-9][0-9]?$ ]] || { echo "start.sh: RV_REPLICAS must be 1..99; got $REPLICAS" >&2; exit 2; }
COOKIE_SECRET=${RV_COOKIE_SECRET:-$("$PY" -c 'import secrets; print(secrets.token_hex(32))')}
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd)

pids=()
stop() {
  trap - TERM INT EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'stop; exit 0' TERM INT
trap stop EXIT

# glibc gives every script thread its own malloc arena; their fragments kept RSS ~230 MB above idle after 20
# sessions closed (measured, docs/deployment.md). Two arenas: RSS back to idle, no measurable throughput change.
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
upstreams=""   # the replicas' addresses, for nginx.conf
for ((i = 0; i < REPLICAS; i++)); do
  port=$((BASE_PORT + i))
  # Everything a team deployment needs is on this command line (and in .streamlit/config.toml): XSRF and CORS
  # checks on, uploads capped, no file watcher, no usage statistics (nothing fetched from outside), no error details.
  # rope_viz.ui.serve imports pandas, plotly, torch, ... before any script thread exists: plotly looks pandas up in
  # sys.modules without the import lock, so a first import of pandas in one session's thread showed another session
  # a half-initialised module ("AttributeError: partially initialized module 'pandas' has no attribute 'Series'").
  STREAMLIT_SERVER_COOKIE_SECRET="$COOKIE_SECRET" "$PY" -m rope_viz.ui.serve run app.py \
    --server.address "$BIND" --server.port "$port" --server.headless true \
    --server.enableXsrfProtection true --server.enableCORS true \
    --server.fileWatcherType none --server.runOnSave false --server.disconnectedSessionTTL "$SESSION_TTL" \
    --browser.gatherUsageStats false --client.showErrorDetails none --global.developmentMode false \
    "$@" > "$RUN_DIR/replica-$i.log" 2>&1 &
  pids+=($!)
  echo $! > "$RUN_DIR/replica-$i.pid"
  upstreams+="$BIND:$port "
done

for ((i = 0; i < REPLICAS; i++)); do
  port=$((BASE_PORT + i))
  for _ in $(seq 1 300); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "start.sh: replica $i exited; log: $RUN_DIR/replica-$i.log" >&2; tail -5 "$RUN_DIR/replica-$i.log" >&2; exit 1
    fi
    "$PY" -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://$BIND:$port/_stcore/health', timeout=2).read().strip() != b'ok')" 2>/dev/null && break
    sleep 0.2
  done
done

# One sequential visit of every page per replica before visitors arrive (first imports, first figures).
if [ "${RV_WARM_UP:-1}" = 1 ] && { [ "$BIND" = 127.0.0.1 ] || [ "$BIND" = 0.0.0.0 ]; }; then
  urls=(); for ((i = 0; i < REPLICAS; i++)); do urls+=("http://127.0.0.1:$((BASE_PORT + i))"); done
  "$PY" "$HERE/warm_up.py" "${urls[@]}" || echo "start.sh: warm-up found failing pages (see above)" >&2
fi

if [ "$PROXY" = 0 ]; then
  echo "rope-viz: 1 replica on http://$BIND:$BASE_PORT, no proxy (logs in $RUN_DIR)" >&2
  wait -n "${pids[@]}" || true
  exit 1
fi
"$PY" - "$RUN_DIR/nginx.conf" "$LISTEN" "$RUN_DIR" "$HERE/nginx.conf" $upstreams <<'PYEOF'
import sys
from pathlib import Path
out, listen, run_dir, template, *servers = sys.argv[1:]
text = Path(template).read_text()
opts = "max_fails=3 fail_timeout=10s"
blocks = []
for i, addr in enumerate(servers):
    backups = "".join(f"        server {b} backup;\n" for b in servers if b != addr)
    blocks.append(f"    upstream rv_{i} {{\n        server {addr} {opts};\n{backups}        keepalive 8;\n    }}\n")
fill = {"@LISTEN@": listen, "@RUN_DIR@": run_dir,
        "@UPSTREAMS@": "\n".join(f"        server {a} {opts};" for a in servers),
        "@REPLICA_MAP@": "\n".join(f'        "{a}" rv_{i};' for i, a in enumerate(servers)),
        "@REPLICA_UPSTREAMS@": "\n".join(blocks)}
for k, v in fill.items():
    text = text.replace(k, v)
Path(out).write_text(text)
PYEOF
"$NGINX" -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf"
"$NGINX" -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -g "daemon off;" &
pids+=($!)
echo $! > "$RUN_DIR/nginx-master.pid"
echo "rope-viz: $REPLICAS replicas behind nginx on http://$LISTEN (logs in $RUN_DIR)" >&2
wait -n "${pids[@]}" || true
echo "start.sh: a process exited; stopping the rest" >&2
exit 1
