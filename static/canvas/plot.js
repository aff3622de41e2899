// A plot that stays: a Plotly figure drawn once and changed in place.
//
// Payload (app_pages/canvas.py):
//   figure   {data, layout, config?}: Plotly.react (same DOM node, no blank frame)
//   height   px, or
//   fit      {aspect, width, height, max}: the plot area at ``aspect`` (height / width) as
//            wide as the element, plus ``width`` / ``height`` px of margins, at most ``max``
//   series   {doc, from: [n per trace], x: [...], y: [...]}: points appended to the first
//            traces with extendTraces; ``from`` must match what the plot holds, else the
//            canvas asks the server for everything again ("resync")
//   restyle  {doc, traces: [i...] | last: true, update: {attr: [value per trace]}}: e.g. a
//            new heat map z; ``last`` addresses the figure's last trace
//   frames   {doc, interval, steps: [restyle, ...]}: restyles shown one after another,
//            ``interval`` ms apart (live training sends a few snapshots per server tick)
//   relayout {attr: value}: e.g. the tick spacing of a log axis that grew
//   tick     {after, n}: live training: send the ``tick`` event (value n) ``after`` ms from
//            now; a payload without ``tick`` (paused) cancels the one still waiting. The
//            browser clocks the ticks: one request at a time, never a backlog
//   race     {scrub: "loss" | null, f_star}: follow the race map on the same page: a
//            cursor at the played step, and the learning-rate preview as a dotted line

export function create(host, api) {
  return new PlotView(host, api);
}

class PlotView {
  constructor(host, api) {
    this.api = api;
    this.Plotly = api.Plotly;
    this.root = document.createElement("div");
    this.root.className = "dl-plotview";
    this.plot = document.createElement("div");
    this.plot.className = "dl-plot";
    this.root.appendChild(this.plot);
    host.appendChild(this.root);
    this.doc = null;
    this.queue = []; // restyles still to show (frames)
    this.timer = null;
    this.tickTimer = null;
    this.preview = null; // index of the learning-rate preview trace
    this.cursorStep = null;
    this.resizeObserver = new ResizeObserver(() => {
      this.fit();
      this.resizePlot();
    });
    this.resizeObserver.observe(this.root);
    this.onStep = (e) => this.moveCursor(e.detail.step);
    this.onScrub = (e) => this.showPreview(e.detail);
  }

  /** Plotly's resize, when there is a drawn and displayed plot to resize (a plot in a
   * closed tab or leaving the page is neither). */
  resizePlot() {
    if (!this.plot.data || !this.plot.isConnected || this.plot.offsetParent === null) return;
    Promise.resolve(this.Plotly.Plots.resize(this.plot)).catch(() => {});
  }

  destroy() {
    clearTimeout(this.timer);
    clearTimeout(this.tickTimer);
    this.listen(false);
    this.resizeObserver.disconnect();
    this.Plotly.purge(this.plot);
    this.root.remove();
  }

  listen(on) {
    const bus = this.api.bus;
    bus.removeEventListener("race-step", this.onStep);
    bus.removeEventListener("race-scrub", this.onScrub);
    if (on) {
      bus.addEventListener("race-step", this.onStep);
      bus.addEventListener("race-scrub", this.onScrub);
    }
  }

  scheduleTick(tick) {
    clearTimeout(this.tickTimer);
    this.tickTimer = null;
    if (!tick) return;
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      this.api.setTriggerValue("tick", tick.n);
    }, tick.after);
  }

  async update(p) {
    this.scheduleTick(p.tick);
    const decode = this.api.decodeAll;
    this.race = p.race || null;
    this.listen(Boolean(this.race));
    this.fitting = p.fit || null;
    if (p.height) this.plot.style.height = `${p.height}px`;
    this.fit();
    if (p.figure) {
      const figure = decode(p.figure);
      const config = { displaylogo: false, responsive: true, scrollZoom: false,
                       modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
                       ...(figure.config || {}) };
      const layout = { ...figure.layout, autosize: true };
      delete layout.height;
      delete layout.width;
      this.dropFrames();
      await this.Plotly.react(this.plot, figure.data, layout, config);
      this.doc = p.doc ?? null;
      this.preview = null;
      if (this.cursorStep !== null) this.moveCursor(this.cursorStep);
    }
    // a payload without a figure for a document this plot does not show (the plot was
    // rebuilt, say): ask for the figure
    if (!p.figure && p.doc !== undefined && !this.mine(p.doc)) return;
    if (p.restyle) {
      this.dropFrames(); // a settled state (a Step, a Pause): show it now
      await this.restyle(p.restyle);
    }
    if (p.frames) {
      if (!this.mine(p.frames.doc)) return;
      // appended to what is still to show; a backlog of more than two ticks (a slow
      // browser) drops its oldest frames: the picture never lags far behind the counter
      const steps = p.frames.steps;
      this.queue = this.queue.concat(steps).slice(-2 * steps.length);
      this.interval = p.frames.interval;
      if (this.timer === null) this.nextFrame();
    }
    if (p.series) await this.extend(p.series);
    if (p.relayout && this.plot.data) await this.Plotly.relayout(this.plot, p.relayout);
  }

  fit() {
    const f = this.fitting;
    if (!f) return;
    const width = this.root.clientWidth || 400;
    const height = Math.round(Math.min(f.max, Math.max(240, (width - f.width) * f.aspect
                                                              + f.height)));
    if (Math.abs(this.plot.offsetHeight - height) > 1) this.plot.style.height = `${height}px`;
  }

  /** Whether a payload meant for document ``doc`` applies to what this plot shows; if
   * not, ask for the whole figure again. */
  mine(doc) {
    if (this.plot.data && (doc === undefined || doc === this.doc)) return true;
    this.api.resync({ doc, held: this.doc });
    return false;
  }

  async restyle(r) {
    if (!this.mine(r.doc)) return;
    const traces = r.last ? [this.plot.data.length - 1] : r.traces;
    const update = this.api.decodeAll(r.update);
    // {"copy": {"1": 0}}: trace 1 gets the values sent for trace 0 (sent once)
    for (const [to, from] of Object.entries(r.copy || {})) {
      for (const values of Object.values(update)) values[Number(to)] = values[from];
    }
    await this.Plotly.restyle(this.plot, update, traces);
  }

  dropFrames() {
    clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }

  nextFrame() {
    const step = this.queue.shift();
    if (!step) {
      this.timer = null;
      return;
    }
    const started = performance.now();
    this.restyle(step).finally(() => {
      const wait = Math.max(0, this.interval - (performance.now() - started));
      this.timer = setTimeout(() => this.nextFrame(), wait);
    });
  }

  async extend(series) {
    const data = this.plot.data;
    const traces = series.from.map((_, i) => i);
    const held = traces.map((i) => (data && data[i] && data[i].x ? data[i].x.length : -1));
    if (!data || series.doc !== this.doc || held.some((n, i) => n !== series.from[i])) {
      // (a figure sent with the series is already drawn: its doc is this.doc)
      this.api.resync({ doc: series.doc, held });
      return;
    }
    // extendTraces wants new points of the same array type as the trace already holds
    const like = (target, values) => {
      const v = this.api.decode(values) || [];
      return ArrayBuffer.isView(target) ? new target.constructor(v) : Array.from(v);
    };
    const x = traces.map((i) => like(data[i].x, series.x[i]));
    const y = traces.map((i) => like(data[i].y, series.y[i]));
    if (!x.some((v) => v.length)) return;
    // only the traces that gained points (extendTraces rejects empty updates on some)
    const pick = traces.filter((i) => x[i].length);
    await this.Plotly.extendTraces(this.plot, { x: pick.map((i) => x[i]),
                                                y: pick.map((i) => y[i]) }, pick);
  }

  // ---------------------------------------------------------------- following the race

  moveCursor(step) {
    this.cursorStep = step;
    if (!this.plot.data || this.pendingCursor) return;
    this.pendingCursor = requestAnimationFrame(() => {
      this.pendingCursor = null;
      const shape = { type: "line", xref: "x", yref: "paper", x0: this.cursorStep,
                      x1: this.cursorStep, y0: 0, y1: 1,
                      line: { color: "#475569", width: 1.5, dash: "dot" } };
      this.Plotly.relayout(this.plot, { shapes: [shape] });
    });
  }

  async showPreview(detail) {
    if (!this.race || !this.plot.data) return;
    if (detail.clear || !detail.preview || this.race.scrub !== "loss") {
      if (this.preview !== null) {
        const index = this.preview;
        this.preview = null;
        await this.Plotly.deleteTraces(this.plot, index);
      }
      return;
    }
    const shift = this.race.f_star;
    const y = new Float32Array(detail.loss.length);
    for (let i = 0; i < y.length; i++) {
      y[i] = shift === null || shift === undefined ? detail.loss[i]
        : Math.max(detail.loss[i] - shift, 0) + 1e-12;
    }
    const source = this.plot.data[detail.run];
    const color = source && source.line ? source.line.color : "#2563eb";
    const name = `${source ? source.name : ""} · lr ${Number(detail.lr.toPrecision(3))}`;
    const trace = { type: "scatter", mode: "lines", x: Array.from(detail.step), y, name,
                    line: { color, width: 3.5, dash: "dot" }, showlegend: true,
                    hovertemplate: `${name}: %{y:.4g}<extra></extra>` };
    if (this.preview === null) {
      await this.Plotly.addTraces(this.plot, trace);
      this.preview = this.plot.data.length - 1;
    } else {
      await this.Plotly.restyle(this.plot, { x: [trace.x], y: [trace.y], name: [name],
                                             "line.color": [color] }, [this.preview]);
    }
  }
}
