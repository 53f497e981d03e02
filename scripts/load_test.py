"""Capacity of the rope-viz server, measured so that the server's cost is separated from the clients' (issue 11).

N sessions are simulated in ONE process by scripts/st_client.py, which speaks Streamlit's websocket protocol (the
BackMsg / ForwardMsg protobufs) the way the browser does, without rendering: each session opens a page, moves one of
its sliders a step at a time with a think time between moves (a slider inside a fragment reruns only that fragment,
as in the browser), and after a few moves goes to the next page. The server (or the replicas behind nginx) is started by
deploy/start.sh, the script a team deployment uses, and its processes are sampled from /proc every second.

Per level (1, 5, 10, 20 sessions by default) it reports:
  * reruns/s completed, server CPU (cores busy, CPU ms per rerun), the client process's CPU and the rest of the
    machine's (other processes share the cores: their load is printed, it inflates latencies);
  * errors: exception boxes, runs that never finished (timeout), dropped connections; st.error boxes separately;
  * moves that never redrew: the rerun a slider move started did not finish (within --timeout, or the connection
    dropped); moves that finished without changing any chart (a figure that does not depend on that step) are
    listed apart as "unchanged";
  * slider → chart latency p50 / p95: from sending the new slider value to receiving the last changed chart's
    message (the browser's plotly.js drawing is NOT included: scripts/bench_app.py measures that in a real browser);
    page switch → script finished p50 / p95;
  * server RSS: idle (after a warm-up visit of every page and its session closed), peak under load, and after the
    sessions closed and Streamlit dropped them (the deployment sets server.disconnectedSessionTTL to a few seconds).

    python scripts/load_test.py                           # 1 replica, no proxy
    python scripts/load_test.py --replicas 2              # 2 replicas behind nginx (apt-get install -y nginx)
    python scripts/load_test.py --sessions 1,5 --duration 30 --json out.json --app-dir /tmp/release

Loopback only (every server listens on 127.0.0.1), bounded (≤ 100 sessions, ≤ 600 s per level), stops by itself and
stops what it started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from appserver import free_port  # noqa: E402
from st_client import RunResult, StreamlitSession  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "deploy" / "start.sh"
TICK = os.sysconf("SC_CLK_TCK")
MAX_SESSIONS, MAX_DURATION = 100, 600.0
TRACE = bool(os.environ.get("LOAD_TEST_TRACE"))     # print every run


# -- /proc sampling ----------------------------------------------------------------------------------------------------
def proc_cpu_rss(pid: int) -> tuple[float, int] | None:
    """(user + system CPU seconds, resident bytes) of one process, None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
        rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        return cpu, rss
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_s() -> float:
    """CPU seconds spent busy by the whole machine since boot (all cores), from /proc/stat."""
    parts = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    vals = [int(x) for x in parts]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / TICK


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                st = (d / "stat").read_text()
                if int(st[st.rindex(")") + 2:].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


class Sampler:
    """Samples the servers' (and nginx's) CPU time and RSS every ``period`` s in a background asyncio task."""

    def __init__(self, servers: list[int], proxy: list[int], period: float = 1.0):
        self.servers, self.proxy, self.period = servers, proxy, period
        self.samples: list[dict] = []
        self._task: asyncio.Task | None = None

    def sample(self) -> dict:
        s = {"t": time.monotonic(), "machine_busy_s": machine_busy_s(), "client_cpu_s": time.process_time(),
             "server_cpu_s": [], "server_rss": [], "proxy_cpu_s": 0.0}
        for pid in self.servers:
            v = proc_cpu_rss(pid)
            s["server_cpu_s"].append(v[0] if v else float("nan"))
            s["server_rss"].append(v[1] if v else 0)
        for pid in self.proxy:
            v = proc_cpu_rss(pid)
            s["proxy_cpu_s"] += v[0] if v else 0.0
        return s

    async def _run(self) -> None:
        while True:
            self.samples.append(self.sample())
            await asyncio.sleep(self.period)

    def start(self) -> None:
        self.samples = [self.sample()]
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> list[dict]:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self.samples.append(self.sample())
        return self.samples


def rss_mb(pids: list[int]) -> float:
    return round(sum((proc_cpu_rss(p) or (0, 0))[1] for p in pids) / 2**20, 1)


# -- the deployment ----------------------------------------------------------------------------------------------------
class Deployment:
    """deploy/start.sh in the background: ``replicas`` Streamlit servers (behind nginx when ``proxy``)."""

    def __init__(self, replicas: int, proxy: bool, app_dir: Path, session_ttl: int):
        self.replicas, self.proxy, self.app_dir, self.session_ttl = replicas, proxy, app_dir, session_ttl
        self.run_dir = Path(tempfile.mkdtemp(prefix="rope-viz-load-"))
        self.port = free_port()
        self.base_port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port if self.proxy else self.base_port}"

    def __enter__(self) -> "Deployment":
        # the replicas take consecutive ports from base_port: find a run of free ones
        for _ in range(50):
            ports = [self.base_port + i for i in range(self.replicas)]
            if all(_port_free(p) for p in ports) and self.port not in ports:
                break
            self.base_port = free_port()
        env = dict(os.environ, RV_REPLICAS=str(self.replicas), RV_PROXY="1" if self.proxy else "0",
                   RV_LISTEN=f"127.0.0.1:{self.port}", RV_BIND="127.0.0.1", RV_BASE_PORT=str(self.base_port),
                   RV_RUN_DIR=str(self.run_dir), RV_PYTHON=sys.executable, RV_APP_DIR=str(self.app_dir),
                   RV_SESSION_TTL=str(self.session_ttl))
        self.log = open(self.run_dir / "start.log", "w")
        self.proc = subprocess.Popen(["bash", str(START)], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 600                    # start.sh warms every replica first
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"deploy/start.sh exited {self.proc.returncode}: "
                                   f"{(self.run_dir / 'start.log').read_text()[-800:]}")
            if (not self.proxy or (self.run_dir / "nginx-master.pid").exists()) and _healthy(self.url):
                break
            time.sleep(0.3)
        else:
            self.__exit__()
            raise RuntimeError(f"no healthy server at {self.url} after 600 s; logs in {self.run_dir}")
        self.servers = [int((self.run_dir / f"replica-{i}.pid").read_text()) for i in range(self.replicas)]
        self.proxy_pids: list[int] = []
        if self.proxy:
            master = int((self.run_dir / "nginx-master.pid").read_text())
            self.proxy_pids = [master] + children(master)
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()

    def sessions_per_replica(self) -> dict[str, int]:
        """Websockets per upstream, from nginx's access log (written when each websocket closes)."""
        counts: dict[str, int] = {}
        log = self.run_dir / "nginx-access.log"
        if log.exists():
            for line in log.read_text().splitlines():
                if "/_stcore/stream" in line and "upstream=" in line:
                    up = line.split("upstream=", 1)[1].split()[0]
                    counts[up] = counts.get(up, 0) + 1
        return counts


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


# -- one simulated visitor ---------------------------------------------------------------------------------------------
class Tally:
    """What every session of one level saw."""

    def __init__(self):
        self.reruns = 0
        self.finished_at: list[float] = []
        self.moves = 0
        self.redraw_ms: list[float] = []
        self.page_s: list[float] = []
        self.never_redrew: list[str] = []    # moves whose rerun never finished (the chart would never update)
        self.unchanged: list[str] = []       # moves that finished without changing a chart that slider changed before
        self.errors: list[str] = []
        self.error_boxes: list[str] = []
        self.redraws: dict[tuple[str, str], bool] = {}      # (page, slider label) -> has redrawn a chart
        self.per_page: dict[str, dict[str, list[float]]] = {}  # page -> {"load_s": [...], "redraw_ms": [...]}

    def page(self, name: str) -> dict[str, list[float]]:
        return self.per_page.setdefault(name or "Intuition", {"load_s": [], "redraw_ms": []})

    def run(self, r: RunResult, what: str) -> bool:
        """Count one run; False if it failed (the session then reloads its page)."""
        if r.finished_s is not None:
            self.reruns += 1
            self.finished_at.append(time.monotonic())
        if r.exceptions or r.finished_s is None:
            why = "; ".join(r.exceptions) or r.status
            self.errors.append(f"{what}: {why}"[:240])
            return False
        if r.errors:
            self.error_boxes.append(f"{what}: {r.errors[0]}"[:240])
        return True


async def visitor(idx: int, url: str, pages: list[str], deadline: float, tally: Tally, rng: random.Random,
                  think_s: float, moves_per_page: int, timeout: float) -> None:
    await asyncio.sleep(rng.uniform(0, min(5.0, 0.25 * idx + 0.5)))   # arrivals spread over a few seconds
    s = StreamlitSession(url, timeout=timeout)
    try:
        await s.connect()
    except Exception as e:  # noqa: BLE001 - counted
        tally.errors.append(f"connect: {type(e).__name__}: {e}"[:240])
        return
    order = pages[idx % len(pages):] + pages[:idx % len(pages)]
    direction: dict[str, int] = {}
    try:
        first = True
        while time.monotonic() < deadline:
            for page in order:
                if time.monotonic() >= deadline or s.closed_reason:
                    break
                if first:
                    r = await s.open(page)
                    first = False
                else:
                    target = next((p["hash"] for p in s.pages if p["url"].replace(" ", "_") == page), None)
                    r = await s.switch_page(target) if target else await s.open(page)
                if TRACE:
                    print(f"[{idx}] open {page or 'Intuition'}: {r.status} {r.finished_s} hash={s.page_hash[:8]}",
                          file=sys.stderr)
                if not tally.run(r, f"open {page or 'Intuition'}"):
                    await asyncio.sleep(think_s)           # then on to the next page, as a user would
                    continue
                tally.page_s.append(r.finished_s)
                tally.page(page)["load_s"].append(r.finished_s)
                for _ in range(moves_per_page):
                    await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))
                    if time.monotonic() >= deadline:
                        break
                    sliders = s.sliders()
                    known = [sl for sl in sliders if tally.redraws.get((page, sl.label)) is True]
                    untried = [sl for sl in sliders if (page, sl.label) not in tally.redraws]
                    pool = known + untried[:1] if known else untried
                    if not pool:
                        break
                    sl = rng.choice(pool)
                    d = direction.setdefault(sl.label, rng.choice((-1, 1)))
                    if not sl.lo < sl.value[-1] + d * sl.step < sl.hi:
                        direction[sl.label] = d = -d
                    r = await s.move_slider(sl, d)
                    tally.moves += 1
                    if TRACE:
                        print(f"[{idx}]   {sl.label[:30]} frag={sl.fragment_id[:8]}: {r.status} {r.finished_s} "
                              f"charts={r.charts_changed}", file=sys.stderr)
                    what = f"{page or 'Intuition'} / {sl.label}"
                    if not tally.run(r, what):
                        if r.finished_s is None:
                            tally.never_redrew.append(what)
                        break
                    if r.charts_changed:
                        tally.redraw_ms.append(1000 * r.last_chart_change_s)
                        tally.page(page)["redraw_ms"].append(1000 * r.last_chart_change_s)
                        tally.redraws[(page, sl.label)] = True
                    elif r.errors:
                        pass                         # the value is refused with an st.error box (counted above)
                    elif tally.redraws.get((page, sl.label)):
                        tally.unchanged.append(what)  # e.g. a figure that does not depend on that step
                    else:
                        tally.redraws.setdefault((page, sl.label), False)   # this slider changes no chart
    finally:
        await s.close()


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))]


async def run_level(dep: Deployment, n: int, pages: list[str], args, idle_mb: float) -> dict:
    tally = Tally()
    rng = random.Random(args.seed + n)
    sampler = Sampler(dep.servers, dep.proxy_pids)
    load0 = os.getloadavg()
    sampler.start()
    t0 = time.monotonic()
    deadline = t0 + args.duration
    await asyncio.gather(*(visitor(i, dep.url, pages, deadline, tally, random.Random(rng.random()), args.think,
                                   args.moves_per_page, args.timeout) for i in range(n)))
    wall = time.monotonic() - t0
    samples = await sampler.stop()
    load1 = os.getloadavg()
    a, b = samples[0], samples[-1]
    dt = b["t"] - a["t"]
    server_cpu = [y - x for x, y in zip(a["server_cpu_s"], b["server_cpu_s"])]
    busy = b["machine_busy_s"] - a["machine_busy_s"]
    client_cpu = b["client_cpu_s"] - a["client_cpu_s"]
    proxy_cpu = b["proxy_cpu_s"] - a["proxy_cpu_s"]
    peak = max(sum(s["server_rss"]) for s in samples) / 2**20
    await asyncio.sleep(dep.session_ttl + args.settle)       # Streamlit drops disconnected sessions after the TTL
    after_mb = rss_mb(dep.servers)
    return {
        "sessions": n, "wall_s": round(wall, 1), "reruns": tally.reruns, "moves": tally.moves,
        "reruns_per_s": round(tally.reruns / wall, 2),
        "reruns_per_s_5s_windows": _spread(tally.finished_at, t0, wall, 5.0),
        "errors": len(tally.errors), "error_samples": tally.errors[:5],
        "error_boxes": len(tally.error_boxes), "error_box_samples": sorted(set(tally.error_boxes))[:5],
        "never_redrew": len(tally.never_redrew), "never_redrew_samples": sorted(set(tally.never_redrew))[:5],
        "unchanged": len(tally.unchanged), "unchanged_samples": sorted(set(tally.unchanged))[:5],
        "redraw_p50_ms": _r(pct(tally.redraw_ms, 0.5)), "redraw_p95_ms": _r(pct(tally.redraw_ms, 0.95)),
        "redraw_max_ms": _r(max(tally.redraw_ms, default=None)), "redraw_samples": len(tally.redraw_ms),
        "page_p50_s": _r(pct(tally.page_s, 0.5), 2), "page_p95_s": _r(pct(tally.page_s, 0.95), 2),
        "server_cpu_cores": round(sum(server_cpu) / dt, 2), "server_cpu_per_replica": [round(c / dt, 2)
                                                                                         for c in server_cpu],
        "server_cpu_ms_per_rerun": _r(1000 * sum(server_cpu) / tally.reruns if tally.reruns else None),
        # what the replicas could complete if each had a core to itself (one script thread per process: the GIL)
        "cpu_bound_ceiling_reruns_per_s": round(min(len(server_cpu), os.cpu_count() or 1) * tally.reruns
                                                / sum(server_cpu), 1) if sum(server_cpu) > 0 else None,
        "proxy_cpu_cores": round(proxy_cpu / dt, 3), "client_cpu_cores": round(client_cpu / dt, 2),
        "other_cpu_cores": round((busy - sum(server_cpu) - client_cpu - proxy_cpu) / dt, 2),
        "machine_busy_cores": round(busy / dt, 2), "cores": os.cpu_count(),
        "load_avg_1m": [round(load0[0], 2), round(load1[0], 2)],
        "rss_idle_mb": idle_mb, "rss_peak_mb": round(peak, 1), "rss_after_close_mb": after_mb,
        "rss_after_minus_idle_mb": round(after_mb - idle_mb, 1),
        "per_page": {p: {"loads": len(v["load_s"]), "load_p50_s": _r(pct(v["load_s"], 0.5), 2),
                         "moves": len(v["redraw_ms"]), "redraw_p50_ms": _r(pct(v["redraw_ms"], 0.5)),
                         "redraw_p95_ms": _r(pct(v["redraw_ms"], 0.95))} for p, v in sorted(tally.per_page.items())},
        "rss_timeline_mb": [[round(s["t"] - a["t"], 1), round(sum(s["server_rss"]) / 2**20, 1)]
                            for s in samples[::max(1, len(samples) // 30)]],
    }


def _spread(times: list[float], t0: float, wall: float, w: float) -> list[float] | None:
    """[min, median, max] of the rerun rate over consecutive ``w``-second windows (the first one left out: arrivals)."""
    n = int(wall // w)
    if n < 3:
        return None
    counts = [0] * n
    for t in times:
        k = int((t - t0) // w)
        if 0 <= k < n:
            counts[k] += 1
    rates = sorted(c / w for c in counts[1:])
    return [round(rates[0], 2), round(statistics.median(rates), 2), round(rates[-1], 2)]


def _r(v, nd=0):
    return None if v is None else round(v, nd) if nd else round(v)


async def warm_up(dep: Deployment, pages: list[str], args) -> float:
    """Visit every page once (imports, first figures) with one session, close it, wait for the TTL: the idle RSS."""
    tally = Tally()
    await visitor(0, dep.url, pages, time.monotonic() + 10 + 5 * len(pages), tally, random.Random(0), 0.05,
                  1, max(args.timeout, 300.0))       # a first visit may convert a bundled model (minutes)
    await asyncio.sleep(dep.session_ttl + args.settle)
    if tally.errors and not args.allow_errors:
        raise SystemExit(f"the app fails before any load (measure a working commit, or --allow-errors): "
                         f"{tally.errors[:3]}")
    return rss_mb(dep.servers)


def page_names(app_dir: Path) -> list[str]:
    from appserver import app_pages

    return [p for _, p in app_pages(app_dir)]


async def main_async(args) -> dict:
    levels = [int(x) for x in args.sessions.split(",")]
    if not all(1 <= n <= MAX_SESSIONS for n in levels) or not 1 <= args.duration <= MAX_DURATION:
        raise SystemExit(f"sessions must be 1..{MAX_SESSIONS} and --duration 1..{MAX_DURATION:g} s")
    app_dir = Path(args.app_dir).resolve()
    pages = page_names(app_dir)
    if args.pages:
        want = set(args.pages.split(","))
        pages = [p for p in pages if (p or "Intuition") in want]
    proxy = args.replicas > 1 or args.proxy
    out = {"replicas": args.replicas, "proxy": "nginx" if proxy else None, "app_dir": str(app_dir),
           "pages": [p or "Intuition" for p in pages], "think_s": args.think, "moves_per_page": args.moves_per_page,
           "duration_s": args.duration, "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
           "levels": []}
    with Deployment(args.replicas, proxy, app_dir, args.session_ttl) as dep:
        idle = await warm_up(dep, pages, args)
        out["rss_idle_mb"] = idle
        print(f"{args.replicas} replica(s){' behind nginx' if proxy else ''} at {dep.url}; idle RSS {idle} MB",
              file=sys.stderr)
        for n in levels:
            res = await run_level(dep, n, pages, args, idle)
            out["levels"].append(res)
            print(json.dumps({k: v for k, v in res.items() if k not in ("rss_timeline_mb", "per_page")}),
                  file=sys.stderr, flush=True)
        if proxy:
            out["websockets_per_replica"] = dep.sessions_per_replica()
    return out


def print_table(out: dict) -> None:
    print(f"\n{out['replicas']} replica(s), proxy: {out['proxy']}; think time {out['think_s']} s; "
          f"{out['duration_s']:g} s per level; idle RSS {out['rss_idle_mb']} MB")
    cols = [("sessions", "N"), ("reruns_per_s", "reruns/s"), ("reruns_per_s_5s_windows", "5-s windows min/med/max"), ("errors", "errors"), ("never_redrew", "never redrew"),
            ("redraw_p50_ms", "p50 ms"), ("redraw_p95_ms", "p95 ms"), ("page_p95_s", "page p95 s"),
            ("server_cpu_cores", "server cores"), ("server_cpu_ms_per_rerun", "CPU ms/rerun"),
            ("cpu_bound_ceiling_reruns_per_s", "ceiling reruns/s"),
            ("client_cpu_cores", "client cores"), ("other_cpu_cores", "other cores"),
            ("rss_peak_mb", "RSS peak MB"), ("rss_after_minus_idle_mb", "after close − idle MB")]
    print(" | ".join(h for _, h in cols))
    for r in out["levels"]:
        print(" | ".join(str(r.get(k)) for k, _ in cols))
    if out.get("websockets_per_replica"):
        print(f"websockets per replica: {out['websockets_per_replica']}")


def markdown(paths: list[str]) -> str:
    """One markdown table comparing saved runs (``--json`` files), e.g. 1 replica against 2 behind nginx."""
    rows = ["| setup | sessions | reruns/s (5-s windows min–max) | errors | never redrew | slider → chart p50 / p95 ms "
            "| page p95 s | server cores (per replica) | CPU ms / rerun | client cores | other processes, cores "
            "| RSS idle → peak → after close, MB |", "|" + "---|" * 12]
    for path in paths:
        out = json.loads(Path(path).read_text())
        setup = f"{out['replicas']} replica{'s' if out['replicas'] > 1 else ''}" + (" + nginx" if out["proxy"] else "")
        for r in out["levels"]:
            w = r.get("reruns_per_s_5s_windows") or ["–", "–", "–"]
            rows.append(f"| {setup} | {r['sessions']} | {r['reruns_per_s']} ({w[0]}–{w[2]}) | {r['errors']} "
                        f"| {r['never_redrew']} | {r['redraw_p50_ms']} / {r['redraw_p95_ms']} | {r['page_p95_s']} "
                        f"| {r['server_cpu_cores']} ({', '.join(map(str, r['server_cpu_per_replica']))}) "
                        f"| {r['server_cpu_ms_per_rerun']} | {r['client_cpu_cores']} | {r['other_cpu_cores']} "
                        f"| {r['rss_idle_mb']:.0f} → {r['rss_peak_mb']:.0f} → {r['rss_after_close_mb']:.0f} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", default="1,5,10,20", help="comma-separated session counts (default 1,5,10,20)")
    ap.add_argument("--duration", type=float, default=45.0, help="seconds of load per level (default 45)")
    ap.add_argument("--replicas", type=int, default=1, choices=range(1, 9), metavar="1..8")
    ap.add_argument("--proxy", action="store_true", help="put nginx in front even of one replica")
    ap.add_argument("--think", type=float, default=1.0, help="mean think time between moves, s (default 1)")
    ap.add_argument("--moves-per-page", type=int, default=6)
    ap.add_argument("--timeout", type=float, default=60.0, help="a run not finished after this is an error")
    ap.add_argument("--session-ttl", type=int, default=5,
                    help="server.disconnectedSessionTTL for the measured servers, s (default 5)")
    ap.add_argument("--settle", type=float, default=5.0, help="extra wait before the after-close RSS, s")
    ap.add_argument("--pages", help="comma-separated URL names (default: all; Intuition = the landing page)")
    ap.add_argument("--app-dir", default=str(ROOT), help="folder with app.py (default: this checkout)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--allow-errors", action="store_true", help="measure even if the warm-up visit sees errors")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--markdown", nargs="+", metavar="JSON", help="only print a markdown table of saved runs")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown(args.markdown))
        return 0

    def stop(signum, frame):                                   # SIGTERM: stop the deployment on the way out
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    out = asyncio.run(main_async(args))
    print_table(out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
