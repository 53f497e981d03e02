"""A minimal Streamlit client that speaks the app's own websocket protocol (the ``BackMsg`` / ``ForwardMsg`` protobufs of
``streamlit.proto``), as the browser's JavaScript does, without rendering anything. Used by scripts/load_test.py (many
sessions from one process, so the measured cost is the server's, not N browsers') and tests/test_faults.py (drive an
export over the websocket, then hurt the server).

What it does like the browser: GET the page once (an nginx in front may set its affinity cookie), open
``/_stcore/stream`` with the ``streamlit`` subprotocol and the cookies, send ``rerun_script`` with the page, the query
string (kept in step with ``page_info_changed``), the widget values it changed and the hashes of the large messages it
already holds (the server then sends references, as to a browser), run a fragment alone when the moved widget lives in
one, and ask for deferred download data (``backend_operation_request``). What it does not: render, run plotly.js,
fetch the static JavaScript, send the values of widgets it never touched (the server keeps those in the session).

Elements are tracked by their delta path; a chart "redraws" when its figure spec differs from the one drawn at that
path before (the browser would repaint it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import urllib.parse
import urllib.request
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_CACHE_LIMIT = 400           # large messages kept for ref_hash references (the browser keeps a bounded cache too)
_FINISHED = ForwardMsg.ScriptFinishedStatus
_OK = {_FINISHED.FINISHED_SUCCESSFULLY, _FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


@dataclasses.dataclass
class Slider:
    id: str
    label: str
    lo: float
    hi: float
    step: float
    value: list[float]
    fragment_id: str
    options: list[str]      # st.select_slider: the value is an index into these (sent as the option strings)


@dataclasses.dataclass
class RunResult:
    """One script run as the client saw it. Times are seconds after the request was sent."""
    ok: bool = False
    status: str = ""
    finished_s: float | None = None
    first_msg_s: float | None = None
    last_chart_change_s: float | None = None
    charts_changed: int = 0
    exceptions: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)      # st.error boxes drawn in this run
    tabs: list[str] = dataclasses.field(default_factory=list)        # tab labels drawn in this run (st.tabs)
    tab_param: str | None = None     # the URL name of the page's section tabs (rope_viz.ui.sections), if any


def section_param(block_id: str) -> str | None:
    """The URL name of rope_viz's section tabs (``ui.sections``) from their tab container's id: Streamlit ends a keyed
    container's id with "-<key>", and ``ui.persist`` keys a page control "_rvp_<URL name>"; None for other tabs."""
    head, sep, name = str(block_id).rpartition("-_rvp_")
    return name if sep and name else None


class StreamlitSession:
    """One browser-like session. ``async with StreamlitSession(url) as s: r = await s.open("Frequencies")``."""

    def __init__(self, base_url: str, *, timeout: float = 60.0, http_get: bool = True):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http_get = http_get
        self.cookies: dict[str, str] = {}
        self.pages: list[dict[str, str]] = []           # {"hash", "name", "url"} from new_session.app_pages
        self.page_hash = ""
        self.query = ""
        self.elements: dict[tuple, tuple[str, Any, str]] = {}   # delta path -> (kind, proto, fragment id)
        self._chart_specs: dict[tuple, int] = {}
        self._touched: set[tuple] = set()
        self._widgets: dict[str, WidgetState] = {}
        self._cache: dict[str, ForwardMsg] = {}
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._run: RunResult | None = None
        self._run_t0 = 0.0
        self._run_done: asyncio.Event | None = None
        self._fragment_run = False
        self._ops: dict[str, asyncio.Future] = {}
        self.closed_reason: str | None = None
        self.session_id = ""
        self._run_hash = ""
        self.bytes_received = 0

    # -- connection ------------------------------------------------------------------------------------------------
    async def __aenter__(self) -> "StreamlitSession":
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self) -> None:
        if self.http_get:
            await asyncio.to_thread(self._get_index)
        ws_url = self.base_url.replace("http://", "ws://", 1) + "/_stcore/stream"
        headers = {"Origin": self.base_url}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await websockets.connect(ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                            max_size=MAX_MESSAGE_BYTES, open_timeout=self.timeout,
                                            compression=None, ping_interval=None)
        self._reader = asyncio.create_task(self._read_loop())

    def _get_index(self) -> None:
        req = urllib.request.Request(self.base_url + "/", headers={"Accept": "text/html"})
        with urllib.request.urlopen(req, timeout=self.timeout) as r:
            r.read()
            for h in r.headers.get_all("Set-Cookie") or ():
                name, _, rest = h.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing anyway
                pass
        self._ws = None

    # -- requests --------------------------------------------------------------------------------------------------
    async def open(self, page_name: str = "", query: str = "") -> RunResult:
        """Load a page by its URL name ("" = the landing page), as typing the address does."""
        self.query = query
        self._widgets.clear()
        return await self._rerun(ClientState(query_string=query, page_name=page_name))

    async def switch_page(self, page_hash: str) -> RunResult:
        """Go to another page (as a page link does): its script hash, the query string cleared."""
        self.query = ""
        self._widgets.clear()
        return await self._rerun(ClientState(query_string="", page_script_hash=page_hash))

    def sliders(self) -> list[Slider]:
        out = []
        for path in sorted(self.elements):
            kind, el, frag = self.elements[path]
            if kind != "slider" or el.disabled:
                continue
            options = list(el.options) if el.type == el.Type.SELECT_SLIDER else []
            if el.id in self._widgets:
                w = self._widgets[el.id]
                val = [float(options.index(x)) for x in w.string_array_value.data] if options else \
                    list(w.double_array_value.data)
            elif options:
                val = [float(options.index(x)) for x in el.raw_value if x in options] or list(el.default)
            else:
                val = list(el.value) if el.set_value and el.value else list(el.default)
            lo, hi, step = (0.0, float(len(options) - 1), 1.0) if options else (el.min, el.max, el.step or 1.0)
            if hi > lo and val:
                out.append(Slider(el.id, el.label, lo, hi, step, val, frag, options))
        return out

    async def move_slider(self, slider: Slider, direction: int = 1) -> RunResult:
        """One key press on the slider (one step; the last value of a range slider); reverses at an end."""
        v = list(slider.value)
        new = v[-1] + direction * slider.step
        if not slider.lo <= new <= slider.hi:
            new = v[-1] - direction * slider.step
        v[-1] = min(max(new, slider.lo), slider.hi)
        slider.value = v
        ws = WidgetState(id=slider.id)
        if slider.options:
            ws.string_array_value.data.extend(slider.options[int(x)] for x in v)
        else:
            ws.double_array_value.data.extend(v)
        self._widgets[slider.id] = ws
        return await self._rerun(ClientState(query_string=self.query, page_script_hash=self.page_hash,
                                             fragment_id=slider.fragment_id))

    def downloads(self) -> list[tuple[str, str]]:
        """(label, deferred file id) of the download buttons whose data is made on request."""
        return [(el.label, el.deferred_file_id) for kind, el, _ in self.elements.values()
                if kind == "download_button" and el.deferred_file_id]

    async def deferred_file(self, file_id: str, timeout: float | None = None) -> tuple[bytes | None, str]:
        """Ask the server to make a deferred download (what clicking the button does): (bytes, "") or (None, why)."""
        rid = f"r{time.monotonic_ns()}"
        fut = asyncio.get_running_loop().create_future()
        self._ops[rid] = fut
        msg = BackMsg()
        msg.backend_operation_request.request_id = rid
        msg.backend_operation_request.session_id = self.session_id
        msg.backend_operation_request.deferred_file.file_id = file_id
        await self._ws.send(msg.SerializeToString())
        try:
            resp = await asyncio.wait_for(fut, timeout or self.timeout)
        except asyncio.TimeoutError:
            return None, f"no answer within {timeout or self.timeout:g} s"
        finally:
            self._ops.pop(rid, None)
        if resp.error_msg:
            return None, resp.error_msg
        url = resp.deferred_file.url
        data = await asyncio.to_thread(self._http_bytes, url)
        return data, ""

    def _http_bytes(self, url: str) -> bytes:
        full = urllib.parse.urljoin(self.base_url + "/", url)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        with urllib.request.urlopen(urllib.request.Request(full, headers=headers), timeout=self.timeout) as r:
            return r.read()

    async def _rerun(self, state: ClientState) -> RunResult:
        if self._ws is None or self.closed_reason:
            return RunResult(status=f"closed: {self.closed_reason}")
        on_page = {el.id for kind, el, _ in self.elements.values() if hasattr(el, "id")}
        state.widget_states.CopyFrom(WidgetStates(widgets=[w for k, w in self._widgets.items() if k in on_page]))
        state.cached_message_hashes.extend(self._cache)
        msg = BackMsg()
        msg.rerun_script.CopyFrom(state)
        self._run = RunResult()
        self._run_done = asyncio.Event()
        self._touched = set()
        self._run_hash = ""
        self._fragment_run = bool(state.fragment_id)
        self._run_t0 = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        try:
            await asyncio.wait_for(self._run_done.wait(), self.timeout)
        except asyncio.TimeoutError:
            self._run.status = f"no script_finished within {self.timeout:g} s"
        return self._run

    # -- messages --------------------------------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            async for raw in self._ws:
                self.bytes_received += len(raw)
                msg = ForwardMsg.FromString(raw)
                self._handle(msg)
        except websockets.ConnectionClosed as e:
            self.closed_reason = f"connection closed ({e.rcvd.code if e.rcvd else 'no code'})"
        except Exception as e:  # noqa: BLE001 - reported as the session's failure
            self.closed_reason = f"{type(e).__name__}: {e}"
        finally:
            self.closed_reason = self.closed_reason or "connection closed"
            if self._run_done is not None and not self._run_done.is_set():
                self._run.status = self.closed_reason
                self._run_done.set()
            for fut in self._ops.values():
                if not fut.done():
                    fut.set_exception(ConnectionError(self.closed_reason))

    def _elapsed(self) -> float:
        return time.perf_counter() - self._run_t0

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        run = self._run
        if run is not None and run.first_msg_s is None and kind != "heartbeat_ack":
            run.first_msg_s = self._elapsed()
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                if run is not None:
                    run.exceptions.append(f"unknown ref_hash {msg.ref_hash}")
                return
            full = ForwardMsg()
            full.CopyFrom(cached)
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, full.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.pop(next(iter(self._cache)))
            self._cache[msg.hash] = msg
        if kind == "new_session":
            ns = msg.new_session
            self.pages = [{"hash": p.page_script_hash, "name": p.page_name, "url": p.url_pathname}
                          for p in ns.app_pages]
            self.page_hash = ns.page_script_hash
            if ns.initialize.session_id:
                self.session_id = ns.initialize.session_id
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta":
            self._delta(msg)
        elif kind == "page_not_found" and run is not None:
            run.exceptions.append(f"page not found: {msg.page_not_found.page_name}")
        elif kind == "script_finished" and run is not None and self._run_done is not None:
            status = msg.script_finished
            if status == _FINISHED.FINISHED_EARLY_FOR_RERUN:
                return                                   # superseded by a newer run: keep waiting
            if status == _FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY and not self._fragment_run:
                return                                   # some fragment's run, not the full run asked for
            run.status = _FINISHED.Name(status)
            run.ok = status in _OK and not run.exceptions
            run.finished_s = self._elapsed()
            if status == _FINISHED.FINISHED_SUCCESSFULLY:  # a full run: what was not drawn again is gone
                if self._run_hash:                         # the page that ran (its deltas name their script)
                    self.page_hash = self._run_hash
                for path in [p for p in self.elements if p not in self._touched]:
                    self.elements.pop(path, None)
                    self._chart_specs.pop(path, None)
            self._run_done.set()
        elif kind == "backend_operation_response":
            fut = self._ops.get(msg.backend_operation_response.request_id)
            if fut is not None and not fut.done():
                fut.set_result(msg.backend_operation_response)

    def _delta(self, msg: ForwardMsg) -> None:
        if msg.metadata.active_script_hash:
            self._run_hash = msg.metadata.active_script_hash
        path = tuple(msg.metadata.delta_path)
        delta = msg.delta
        self._touched.add(path)
        if delta.WhichOneof("type") != "new_element":
            block = delta.add_block if delta.WhichOneof("type") == "add_block" else None
            if block is not None and self._run is not None:
                if block.WhichOneof("type") == "tab":
                    self._run.tabs.append(block.tab.label)
                elif block.WhichOneof("type") == "tab_container":
                    self._run.tab_param = section_param(block.id) or self._run.tab_param
            self.elements.pop(path, None)                # a container now stands where an element was
            self._chart_specs.pop(path, None)
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        proto = getattr(el, kind) if kind else None
        self.elements[path] = (kind, proto, delta.fragment_id)
        run = self._run
        if kind == "plotly_chart":
            h = hash(proto.spec)
            if self._chart_specs.get(path) != h:
                self._chart_specs[path] = h
                if run is not None:
                    run.charts_changed += 1
                    run.last_chart_change_s = self._elapsed()
        elif kind == "exception" and run is not None:
            run.exceptions.append(f"{proto.type}: {proto.message}"[:300])
        elif kind == "alert" and proto.format == proto.Format.ERROR and run is not None:
            run.errors.append(proto.body[:300])
