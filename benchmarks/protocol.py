"""A Streamlit client without a browser: Streamlit's own websocket protocol, spoken the way
the frontend speaks it (the load generator's simulated students use one each).

What a browser tab does, and so what :class:`Session` does:

* an HTTP GET of the page (cookies kept: a reverse proxy's route cookie rides along on the
  websocket, as in a browser), then the websocket ``/_stcore/stream`` with the
  ``streamlit`` subprotocol;
* a ``BackMsg.rerun_script`` with the page, the query string, the widget states and the
  hashes of the ForwardMsgs it has cached. The frontend repeats the value of every widget
  in every request; this client sends only the values that change, since the server keeps
  the others in the session (the answers are the same; it saves parsing a few dozen
  states per request, a small share of a run) (``ClientState.cached_message_hashes``): the
  server then sends a cacheable element it has seen as a ``ref_hash`` reference, which
  this client resolves from its cache as the browser does (and ages out the same way:
  ``maxCachedMessageAge`` finished runs, counted per fragment for fragment runs);
* widget changes as ``WidgetState`` values (a button: ``trigger_value``; a component
  event: ``json_trigger_value`` holding a JSON list of ``{"event", "value"}`` on the
  widget ``$$STREAMLIT_INTERNAL_KEY_<component id>__events``, as BidiComponent's
  ``setTriggerValue``), with the fragment id of the element when it lives in one;
* an ``AutoRerun`` message starts a timer that asks for the fragment's rerun every
  ``interval`` seconds with ``is_auto_rerun`` (``setInterval`` in the frontend: the next
  request goes out on time whether or not the last answer came); ``StopAutoRerun`` and a
  full run that does not draw the fragment again stop it;
* a canvas payload (``app_pages/canvas.py``) with ``tick: {after, n}`` (live training)
  sends the canvas's ``tick`` event ``after`` ms after it arrived, with the fragment id of
  the canvas, as ``static/canvas/plot.js`` does; a payload without ``tick`` cancels the
  one still waiting.

A run's answer ends with its ``script_finished`` message: :meth:`Session.rerun` returns
the seconds from sending the request to that message.
"""

from __future__ import annotations

import asyncio
import collections
import http.cookiejar
import json
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX
from websockets.asyncio.client import connect

FINISHED = {  # ScriptFinishedStatus values that end the answer to a request
    ForwardMsg.FINISHED_SUCCESSFULLY,
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY,
}


_CLOSED = -1  # pseudo status: the connection ended


class ProtocolError(RuntimeError):
    """The server answered something a browser would show as an error."""


@dataclass
class _Cached:
    msg: ForwardMsg
    run_count: int
    fragment_id: str | None


@dataclass
class Stats:
    """What one session received."""

    messages: int = 0
    bytes: int = 0
    ref_hits: int = 0
    exceptions: list[str] = field(default_factory=list)


class Session:
    """One browser tab on one page of a Streamlit app."""

    def __init__(self, base_url: str, page: str = "", query: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.page = page            # url path of the page ("" = the default page)
        self.query = query          # query string without "?"
        self.cookies = http.cookiejar.CookieJar()
        self.stats = Stats()
        self.widget_ids: dict[str, str] = {}    # user key -> widget id
        self.widgets: dict[str, Any] = {}        # user key -> the widget's proto (options...)
        self.fragment_of: dict[str, str] = {}   # user key -> id of its fragment ("" = none)
        self.component_ids: dict[str, str] = {}  # component key -> element id
        self.component_bytes: dict[str, bytes] = {}  # component key -> last data (JSON)
        self.markdown: collections.deque[str] = collections.deque(maxlen=100)  # latest
        self.pages: dict[str, str] = {}           # url path -> page script hash
        self.page_hash = ""
        self.auto_reruns: dict[str, float] = {}   # fragment id -> interval (s)
        self._timers: dict[str, asyncio.Task] = {}
        self._cache: dict[str, _Cached] = {}
        self._run_count = 0
        self._max_age = 2
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._finished: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
        # Auto reruns: the server merges the requests that arrive while a run is going on
        # into its next run, so a run answers every request sent before it started.
        self._auto_sent: list[float] = []     # send times of requests no run has taken yet
        self._auto_serving: list[float] = []  # ... of those the run going on answers
        self.auto_rerun_times: list[float] = []   # oldest request answered -> finished (s)
        self.auto_runs: list[float] = []          # when each auto rerun finished
        self.auto_reruns_sent = 0
        self._tick_sent_at: float | None = None  # a canvas tick waiting for its answer
        self.closed = False

    # ------------------------------------------------------------------ connection

    def _http_get(self, path: str) -> bytes:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        with opener.open(f"{self.base_url}/{path.lstrip('/')}", timeout=30) as response:
            return response.read()

    def _cookie_header(self) -> str:
        request = urllib.request.Request(self.base_url + "/")
        self.cookies.add_cookie_header(request)
        return request.get_header("Cookie") or ""

    async def open(self, timeout: float = 120.0) -> float:
        """Load the page as a browser does (page, health, websocket, first run); returns
        the seconds until the first run finished."""
        t0 = time.perf_counter()
        await asyncio.to_thread(self._http_get, self.page + (f"?{self.query}" if self.query
                                                             else ""))
        await asyncio.to_thread(self._http_get, "_stcore/health")
        parts = urlsplit(self.base_url)
        ws_url = f"ws://{parts.netloc}{parts.path}/_stcore/stream"
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}"}
        cookie = self._cookie_header()
        if cookie:
            headers["Cookie"] = cookie
        self._ws = await connect(ws_url, subprotocols=["streamlit"], additional_headers=headers,
                                 max_size=None, compression=None, open_timeout=timeout,
                                 ping_interval=None)
        self._reader = asyncio.create_task(self._read())
        await self.rerun(first=True, timeout=timeout)
        return time.perf_counter() - t0

    async def close(self) -> None:
        """Close the tab."""
        self.closed = True
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    # ------------------------------------------------------------------ requests

    def _context(self) -> ContextInfo:
        url = f"{self.base_url}/{self.page}" + (f"?{self.query}" if self.query else "")
        return ContextInfo(timezone="Asia/Seoul", timezone_offset=-540, locale="en-US",
                           url=url, is_embedded=False, color_scheme="light")

    async def _send_rerun(self, widgets: Iterable[WidgetState], fragment_id: str = "",
                          auto: bool = False, first: bool = False) -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        rerun.widget_states.widgets.extend(widgets)
        if first or not self.page_hash:
            rerun.page_name = self.page
        else:
            rerun.page_script_hash = self.page_hash
        rerun.fragment_id = fragment_id
        rerun.is_auto_rerun = auto
        rerun.cached_message_hashes.extend(self._cache)
        rerun.context_info.CopyFrom(self._context())
        await self._ws.send(msg.SerializeToString())

    async def rerun(self, widgets: Iterable[WidgetState] = (), fragment_id: str = "",
                    first: bool = False, full: bool = False, timeout: float = 120.0) -> float:
        """Send ``widgets`` (the values that changed: :meth:`widget`, :meth:`button`,
        :meth:`event`) and wait for the answer's script_finished; returns the seconds it
        took.

        ``full``: the answer is a full run (a widget whose callback reruns the page); the
        fragment runs that finish meanwhile (a live fragment's timer) are not it.
        """
        while not self._finished.empty():  # earlier answers (auto reruns) are not ours
            self._finished.get_nowait()
        t0 = time.perf_counter()
        await self._send_rerun(widgets, fragment_id=fragment_id, first=first)
        deadline = t0 + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no answer within {timeout:.0f} s")
            try:
                finished_at, status = await asyncio.wait_for(self._finished.get(), left)
            except TimeoutError:
                raise TimeoutError(f"no answer within {timeout:.0f} s") from None
            if status == _CLOSED:
                raise ProtocolError("the server closed the connection")
            if full and status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                continue
            return finished_at - t0

    def widget(self, key: str, **value: Any) -> WidgetState:
        """A new value of widget ``key`` (its user key), e.g.
        ``widget("opts", string_array_value=[...])``."""
        state = WidgetState(id=self.widget_ids[key])
        for name, v in value.items():
            target = getattr(state, name)
            if hasattr(target, "data"):  # an array value
                target.data.extend(v)
            else:
                setattr(state, name, v)
        return state

    def button(self, key: str) -> WidgetState:
        return WidgetState(id=self.widget_ids[key], trigger_value=True)

    def event(self, component_key: str, name: str, value: Any) -> WidgetState:
        """A component event, as BidiComponent's setTriggerValue sends it."""
        wid = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{self.component_ids[component_key]}__events"
        return WidgetState(id=wid, json_trigger_value=json.dumps([{"event": name,
                                                                   "value": value}]))

    async def goto(self, page: str, query: str = "", timeout: float = 120.0) -> float:
        """A click on another page in the sidebar navigation."""
        self.page, self.query = page, query
        self.page_hash = self.pages.get(page, "")
        self._stop_timers()
        return await self.rerun(full=True, timeout=timeout)

    # ------------------------------------------------------------------ auto reruns

    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if self.auto_reruns.get(fragment_id) == interval and fragment_id in self._timers:
            return
        self._stop_timer(fragment_id)
        self.auto_reruns[fragment_id] = interval
        self._timers[fragment_id] = asyncio.create_task(self._tick(fragment_id, interval))

    def _stop_timer(self, fragment_id: str) -> None:
        task = self._timers.pop(fragment_id, None)
        if task is not None:
            task.cancel()
        self.auto_reruns.pop(fragment_id, None)

    def _stop_timers(self) -> None:
        for fid in list(self._timers):
            self._stop_timer(fid)

    def _canvas_payload(self, key: str, fragment_id: str, data: bytes) -> None:
        """A canvas payload arrived: (re)schedule or cancel the canvas's ``tick`` event."""
        timer = f"canvas:{key}"
        task = self._timers.pop(timer, None)
        if task is not None:
            task.cancel()
        if b'"tick"' not in data:
            return
        tick = json.loads(data).get("tick")
        if isinstance(tick, dict):
            self._timers[timer] = asyncio.create_task(
                self._canvas_tick(key, fragment_id, tick["after"] / 1000, tick["n"]))

    async def _canvas_tick(self, key: str, fragment_id: str, after: float, n: int) -> None:
        await asyncio.sleep(after)
        self._timers.pop(f"canvas:{key}", None)
        if self.closed:
            return
        self._tick_sent_at = time.perf_counter()
        self.auto_reruns_sent += 1
        try:
            await self._send_rerun([self.event(key, "tick", n)], fragment_id=fragment_id)
        except Exception as exc:  # the connection went away: the reader reports it
            self.stats.exceptions.append(f"tick not sent: {exc!r}")

    async def _tick(self, fragment_id: str, interval: float) -> None:
        next_at = time.perf_counter() + interval
        while not self.closed:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
            self._auto_sent.append(time.perf_counter())
            self.auto_reruns_sent += 1
            try:
                await self._send_rerun((), fragment_id=fragment_id, auto=True)
            except Exception as exc:  # the connection went away: the reader reports it
                self.stats.exceptions.append(f"auto rerun not sent: {exc!r}")
                return

    # ------------------------------------------------------------------ messages

    async def _read(self) -> None:
        try:
            async for data in self._ws:
                self.stats.messages += 1
                self.stats.bytes += len(data)
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
        finally:
            if not self.closed:  # the server closed the connection: fail what waits
                self.stats.exceptions.append("connection closed by the server")
                self._finished.put_nowait((time.perf_counter(), _CLOSED))

    def _resolve(self, msg: ForwardMsg) -> ForwardMsg:
        """The browser's ForwardMsgCache: keep cacheable messages, resolve references."""
        if msg.HasField("ref_hash"):
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                raise ProtocolError(f"cached ForwardMsg missing: {msg.ref_hash}")
            self.stats.ref_hits += 1
            cached.run_count = self._run_count
            full = ForwardMsg()
            full.CopyFrom(cached.msg)
            full.metadata.CopyFrom(msg.metadata)
            return full
        if msg.metadata.cacheable and msg.hash and msg.hash not in self._cache:
            fragment = msg.delta.fragment_id if msg.HasField("delta") else ""
            self._cache[msg.hash] = _Cached(msg, self._run_count, fragment or None)
        return msg

    def _age_cache(self, fragment_ids: list[str]) -> None:
        self._run_count += 1
        for h, cached in list(self._cache.items()):
            if fragment_ids and (cached.fragment_id is None
                                 or cached.fragment_id not in fragment_ids):
                continue
            if self._run_count - cached.run_count > self._max_age:
                del self._cache[h]

    def _handle(self, msg: ForwardMsg) -> None:
        msg = self._resolve(msg)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            ns = msg.new_session
            self._max_age = ns.config.max_cached_message_age or self._max_age
            self.page_hash = ns.page_script_hash
            for page in ns.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
            if not msg.metadata.run.fragment_ids:
                # a full run: the frontend clears every timer (cleanupAutoReruns); the
                # run sends AutoRerun again for the fragments that still have one
                self._stop_timers()
                self._auto_sent.clear()
                self._auto_serving.clear()
            elif set(msg.metadata.run.fragment_ids) & set(self._timers):
                self._auto_serving, self._auto_sent = self._auto_sent, []
        elif kind == "navigation":
            for page in msg.navigation.app_pages:
                self.pages[page.url_pathname] = page.page_script_hash
            self.page_hash = msg.navigation.page_script_hash or self.page_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "delta":
            self._delta(msg)
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fid)
        elif kind == "script_finished":
            status = msg.script_finished
            fragment_ids = list(msg.metadata.run.fragment_ids)
            if status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self._age_cache(fragment_ids)
            if status in FINISHED:
                now = time.perf_counter()
                if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY \
                        and self._tick_sent_at is not None:
                    self.auto_runs.append(now)
                    self.auto_rerun_times.append(now - self._tick_sent_at)
                    self._tick_sent_at = None
                elif status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY \
                        and set(fragment_ids) & set(self._timers):
                    self.auto_runs.append(now)
                    if self._auto_serving:
                        self.auto_rerun_times.append(now - self._auto_serving[0])
                        self._auto_serving = []
                self._finished.put_nowait((now, status))

    def _delta(self, msg: ForwardMsg) -> None:
        delta = msg.delta
        kind = delta.WhichOneof("type")
        if kind != "new_element":
            return
        element = delta.new_element
        etype = element.WhichOneof("type")
        if etype is None:
            return
        body = getattr(element, etype)
        if etype == "exception":
            self.stats.exceptions.append(f"{body.type}: {body.message}")
            return
        if etype == "markdown":
            self.markdown.append(body.body)
            return
        if etype == "bidi_component":
            key = _user_key(body.id) or body.id
            self.component_ids[key] = body.id
            if body.HasField("bytes"):
                self.component_bytes[key] = body.bytes
                self._canvas_payload(key, delta.fragment_id, body.bytes)
            return
        wid = getattr(body, "id", "") if hasattr(type(body), "DESCRIPTOR") and \
            "id" in type(body).DESCRIPTOR.fields_by_name else ""
        user_key = _user_key(wid)
        if user_key:
            self.widget_ids[user_key] = wid
            self.widgets[user_key] = body
            self.fragment_of[user_key] = delta.fragment_id


def _user_key(element_id: str) -> str:
    """The key a script gave an element, from its id ``$$ID-<hash>-<key>`` ("" if none)."""
    if not element_id.startswith("$$ID-") or element_id.count("-") < 2:
        return ""
    key = element_id.split("-", 2)[2]
    return "" if key == "None" else key
