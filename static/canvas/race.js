// The race map: the loss surface, every optimizer's path, playback and the learning-rate
// scrub, all in the browser.
//
// The server sends arrays (payload built by viz/race_canvas.py): per run the kept
// iterates (step index, x, y, f), and per optimizer a learning-rate sweep (an asset: the
// same race at ~40 learning rates). Play / Pause / the step slider / speed advance a step
// counter with requestAnimationFrame and restyle the path traces: nothing goes to the
// server while playing. Dragging an optimizer's learning-rate slider shows that
// optimizer's path from the sweep at once; releasing it commits the value (trigger "lr"),
// which reruns the page's fragment. A click on the map moves the start (trigger "click").

const KINDS_3D = { star: "diamond", hourglass: "cross", "triangle-up": "square-open" };
const SPEEDS = { slow: 16, normal: 6, fast: 2 }; // seconds for a whole race

function upperBound(sorted, value) {
  // number of entries <= value in an ascending typed array
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in values ? values[name] : `{${name}}`));
}

function num(value) {
  if (!Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(2).replace("e", "e");
  return Number(value.toPrecision(4)).toString();
}

function el(tag, className, parent, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

export function create(host, api) {
  return new RaceView(host, api);
}

class RaceView {
  constructor(host, api) {
    this.api = api;
    this.Plotly = api.Plotly;
    this.root = el("div", "dl-race", host);
    this.plot = el("div", "dl-plot dl-race-map", this.root);
    const bar = el("div", "dl-bar", this.root);
    this.playButton = el("button", "dl-btn dl-play", bar);
    this.playButton.type = "button";
    this.stepInput = el("input", "dl-step", bar);
    this.stepInput.type = "range";
    this.stepInput.min = "0";
    this.stepLabel = el("span", "dl-step-label", bar);
    this.speedBox = el("span", "dl-speeds", bar);
    this.fullButton = el("button", "dl-btn dl-full", bar);
    this.fullButton.type = "button";
    // an outline of four corners (no font has a full-screen glyph everywhere)
    this.fullButton.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" ' +
      'aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2.4" ' +
      'stroke-linecap="round"><path d="M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5"/></svg>';
    this.lrBox = el("div", "dl-lrs", this.root);
    this.note = el("div", "dl-note", this.root);

    this.step = 0;
    this.playing = false;
    this.speed = "normal";
    this.scrub = new Map(); // run index -> position in its learning-rate list
    this.sig = null;
    this.surface = null;
    this.frame = null;

    this.playButton.addEventListener("click", () => this.togglePlay());
    this.stepInput.addEventListener("input", () => {
      this.pause();
      this.showStep(Number(this.stepInput.value));
    });
    this.fullButton.addEventListener("click", () => this.toggleFullscreen());
    this.onFullscreen = () => this.resize();
    document.addEventListener("fullscreenchange", this.onFullscreen);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.root);
    this.installClick();
  }

  /** Plotly's resize, when there is a drawn and displayed plot to resize (a plot in a
   * closed tab or leaving the page is neither). */
  resizePlot() {
    if (!this.plot.data || !this.plot.isConnected || this.plot.offsetParent === null) return;
    Promise.resolve(this.Plotly.Plots.resize(this.plot)).catch(() => {});
  }

  destroy() {
    this.pause();
    this.resizeObserver.disconnect();
    document.removeEventListener("fullscreenchange", this.onFullscreen);
    document.removeEventListener("pointerup", this.onPointerUp, true);
    this.Plotly.purge(this.plot);
    this.root.remove();
  }

  // ---------------------------------------------------------------- data

  async update(p) {
    const decode = this.api.decodeAll;
    this.p = p;
    this.text = p.text;
    this.T = p.steps;
    this.three = Boolean(p.surface && p.surface.three_d);
    this.runs = p.runs.map((run) => ({ ...run, ...decode({ step: run.step, x: run.x, y: run.y,
                                                              loss: run.loss }) }));
    this.root.classList.toggle("dl-present", Boolean(p.present));
    const changed = p.sig !== this.sig;
    if (changed) {
      this.sig = p.sig;
      this.pause();
      this.step = this.T;
      this.scrub.clear();
      this.api.bus.dispatchEvent(new CustomEvent("race-scrub", { detail: { clear: true } }));
    }
    this.buildControls();
    this.buildLrRows();
    this.note.textContent = p.surface ? (this.three ? "" : this.text.click_hint) : "";
    // the same map, traces and layout (a released learning rate, a new start): only the
    // paths change, which is far cheaper than drawing the figure again
    const structure = JSON.stringify([p.surface_id, this.three, p.present, p.fonts,
                                      p.runs.map((r) => [r.key, r.name, r.color, r.dash]),
                                      p.start]);
    if (structure === this.structure && this.plot.data) {
      await this.redrawFrame(true);
    } else {
      this.structure = structure;
      await this.draw(changed);
    }
  }

  buildControls() {
    const t = this.text;
    this.stepInput.max = String(this.T);
    this.stepInput.setAttribute("aria-label", t.step_slider);
    this.fullButton.title = t.fullscreen;
    this.fullButton.setAttribute("aria-label", t.fullscreen);
    if (this.speedBox.childElementCount !== 3) {
      this.speedBox.textContent = "";
      for (const name of Object.keys(SPEEDS)) {
        const b = el("button", "dl-btn dl-speed", this.speedBox);
        b.type = "button";
        b.dataset.speed = name;
        b.addEventListener("click", () => {
          this.speed = name;
          this.markSpeed();
          if (!this.playing) this.play();
        });
      }
    }
    for (const b of this.speedBox.children) b.textContent = t.speeds[b.dataset.speed];
    this.markSpeed();
    this.markPlay();
  }

  markSpeed() {
    for (const b of this.speedBox.children) {
      b.classList.toggle("dl-on", b.dataset.speed === this.speed);
    }
  }

  markPlay() {
    const t = this.text;
    this.playButton.textContent = this.playing ? `❚❚ ${t.pause}` : `▶ ${t.play}`;
    this.playButton.classList.toggle("dl-on", this.playing);
    this.stepInput.value = String(Math.round(this.step));
    this.stepLabel.textContent = format(t.step_of, { step: Math.round(this.step), steps: this.T });
  }

  buildLrRows() {
    const t = this.text;
    const rows = this.lrBox;
    while (rows.childElementCount > this.runs.length) rows.lastChild.remove();
    this.runs.forEach((run, b) => {
      let row = rows.children[b];
      if (!row) {
        row = el("div", "dl-lr", rows);
        el("span", "dl-swatch", row);
        el("span", "dl-name", row);
        const input = el("input", "dl-lr-input", row);
        input.type = "range";
        input.min = "0";
        input.step = "1";
        el("span", "dl-lr-value", row);
        el("span", "dl-lr-note", row);
        input.addEventListener("input", () => this.onScrub(Number(row.dataset.run),
                                                            Number(input.value)));
        input.addEventListener("change", () => this.onCommit(Number(row.dataset.run),
                                                              Number(input.value)));
      }
      row.dataset.run = String(b);
      row.dataset.key = run.key;
      const [swatch, name, input, value] = row.children;
      swatch.textContent = run.glyph;
      swatch.style.color = run.color;
      name.textContent = run.name;
      input.max = String(run.lr_values.length - 1);
      input.setAttribute("aria-label", format(t.lr_slider, { name: run.name }));
      input.disabled = !run.sweep;
      input.style.setProperty("--dl-accent", run.color);
      const position = this.scrub.has(b) ? this.scrub.get(b) : run.lr_index;
      input.value = String(position);
      value.textContent = `${t.lr_symbol} = ${num(run.lr_values[position])}`;
      this.describe(b, position);
    });
  }

  /** The note beside a learning-rate slider: where that setting ends. */
  describe(b, position) {
    const run = this.runs[b];
    const row = this.lrBox.children[b];
    const note = row.children[4];
    const path = this.pathOf(b, position);
    row.classList.toggle("dl-preview", position !== run.lr_index);
    if (!path) {
      note.textContent = "";
      return;
    }
    note.classList.toggle("dl-bad", path.divergedAt >= 0);
    const stopped = { diverged: this.text.diverged_at, undefined: this.text.stopped_at,
                      start: this.text.no_start }[path.stop];
    note.textContent = stopped
      ? format(stopped, { step: path.divergedAt })
      : format(this.text.final, { f: num(path.loss[path.loss.length - 1]) });
  }

  /** Path of run b at learning-rate position j: the race's own (the committed value) or
   * the sweep's. {step, x, y, loss, divergedAt, stop, mark: [x, y] | null, markText}. */
  pathOf(b, j) {
    const run = this.runs[b];
    if (j === run.lr_index) {
      return { step: run.step, x: run.x, y: run.y, loss: run.loss, divergedAt: run.diverged_at,
               stop: run.stop, mark: run.mark, markText: run.mark_text };
    }
    const sweep = run.sweep;
    const col = run.sweep_column[j];
    if (!sweep || col < 0) return null;
    const a = sweep.offsets[col];
    const z = sweep.offsets[col + 1];
    const divergedAt = sweep.diverged_at[col];
    const stop = this.text.stops[sweep.stop[col]];
    let markText = "";
    if (stop === "diverged" || stop === "undefined") {
      const hover = stop === "diverged" ? this.text.cross_hover : this.text.stopped_hover;
      markText = format(hover, { name: run.name, step: divergedAt });
      if (sweep.left_at[col] >= 0) {
        markText += "<br>" + format(this.text.left_map, { step: sweep.left_at[col] });
      }
    }
    return {
      step: sweep.step.subarray(a, z), x: sweep.x.subarray(a, z), y: sweep.y.subarray(a, z),
      loss: sweep.loss.subarray(a, z), divergedAt, stop,
      mark: markText ? [sweep.mark_x[col], sweep.mark_y[col]] : null, markText,
    };
  }

  // ---------------------------------------------------------------- figure

  height3d(loss) {
    const tr = this.p.surface.transform;
    const out = new Float32Array(loss.length);
    for (let i = 0; i < loss.length; i++) {
      const v = tr.log ? Math.log10(Math.max(loss[i] - tr.fmin, 0) + 1) : loss[i];
      out[i] = v + tr.lift;
    }
    return out;
  }

  traces() {
    const p = this.p;
    const s = p.surface;
    const three = this.three;
    const type = three ? "scatter3d" : "scatter";
    const data = [];
    const index = {};
    // 0: the colour bar (2-D: on an invisible point; 3-D: the surface itself)
    if (three) {
      const g = s.three_d;
      data.push({ type: "surface", x: g.x, y: g.y, z: g.z, colorscale: s.colorbar.colorscale,
                  cmin: s.colorbar.cmin, cmax: s.colorbar.cmax, opacity: 0.92,
                  hoverinfo: "skip", showscale: true, colorbar: this.colorbar(),
                  contours: { z: { show: true, usecolormap: false, color: "#8090A0",
                                   width: 1, highlight: false } },
                  lighting: { ambient: 0.9, diffuse: 0.4, specular: 0.05 } });
    } else {
      data.push({ type: "scatter", x: [s.xrange[0]], y: [s.yrange[0]], mode: "markers",
                  hoverinfo: "skip", showlegend: false,
                  marker: { size: 1, opacity: 0, color: [s.colorbar.cmin],
                            cmin: s.colorbar.cmin, cmax: s.colorbar.cmax,
                            colorscale: s.colorbar.colorscale, showscale: true,
                            colorbar: this.colorbar() } });
    }
    index.critical = [];
    for (const group of s.critical) {
      index.critical.push(data.length);
      const marker = { symbol: three ? (KINDS_3D[group.symbol] || group.symbol) : group.symbol,
                       // a 3-D marker is a flat sprite that cuts through the surface:
                       // small, or it reads as a stray shape on the map
                       size: three ? Math.min(7, Math.round(group.size * 0.4)) : group.size,
                       color: group.fill, opacity: group.opacity,
                       line: { color: group.edge, width: group.width } };
      const trace = { type, mode: "markers", x: group.x, y: group.y, name: group.name,
                      hovertext: group.hover, hoverinfo: "text", marker, showlegend: false };
      if (three) trace.z = this.height3d(group.f);
      else trace.cliponaxis = false;
      data.push(trace);
    }
    index.start = data.length;
    const start = { type, mode: "markers", x: [p.start.x], y: [p.start.y], hoverinfo: "text",
                    hovertext: [p.start.hover], showlegend: false,
                    marker: { symbol: three ? "circle-open" : "circle-open-dot",
                              size: three ? 10 : 18, color: "#000000", line: { width: 3 } } };
    if (three) start.z = this.height3d([p.start.f]);
    data.push(start);
    index.paths = [];
    index.markers = [];
    const hover = `<b>%{fullData.name}</b><br>${this.text.step} %{customdata[0]}` +
      "<br>f = %{customdata[1]:.4g}<br>(x, y) = (%{x:.4g}, %{y:.4g})<extra></extra>";
    this.runs.forEach((run) => {
      index.paths.push(data.length);
      const trace = { type, mode: "lines", name: run.name, x: [], y: [], hovertemplate: hover,
                      line: { color: run.color, width: three ? 6 : 2.8, dash: run.dash } };
      data.push(trace);
    });
    this.runs.forEach((run) => {
      index.markers.push(data.length);
      data.push({ type, mode: "markers", name: run.name, x: [], y: [], hoverinfo: "skip",
                  showlegend: false, cliponaxis: false,
                  marker: three ? { color: run.color, size: 8, line: { color: "#FFFFFF", width: 2 } }
                    : { color: run.color, size: 17, symbol: run.symbol,
                        line: { color: "#FFFFFF", width: 2 } } });
    });
    index.cross = data.length;
    const cross = { type, mode: three ? "markers" : "markers+text", x: [], y: [], text: [],
                    hovertext: [], hoverinfo: "text", showlegend: false, cliponaxis: false,
                    textfont: { size: p.fonts.label, color: "#C00000" },
                    marker: { symbol: three ? "x" : "x", size: three ? 9 : 22, color: "#C00000",
                              line: { color: "#FFFFFF", width: 1.5 } } };
    data.push(cross);
    this.index = index;
    return data;
  }

  colorbar() {
    const c = this.p.surface.colorbar;
    const f = this.p.fonts;
    const bar = { title: { text: c.title, side: "right", font: { size: f.tick } },
                  thickness: 14, len: 0.8, x: 1.02, xanchor: "left", xpad: 4,
                  tickfont: { size: f.tick } };
    if (c.tickvals) {
      bar.tickvals = c.tickvals;
      bar.ticktext = c.ticktext;
    }
    return bar;
  }

  layout() {
    const p = this.p;
    const s = p.surface;
    const f = p.fonts;
    const layout = {
      margin: this.margins(),
      font: { size: f.tick },
      showlegend: false,
      hovermode: "closest",
      hoverlabel: { font: { size: f.tick, color: "#111111" }, bgcolor: "#FFFFFF",
                    bordercolor: "#555555" },
      uirevision: s.id,
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "#FFFFFF",
    };
    if (this.three) {
      layout.scene = {
        xaxis: { title: { text: "x" }, range: s.xrange },
        yaxis: { title: { text: "y" }, range: s.yrange },
        // the surface's own height range: a run that leaves downhill (a saddle) is cut
        // at the floor instead of squashing the surface flat
        zaxis: { title: { text: s.three_d.z_title },
                 range: [s.colorbar.cmin - 0.15 * (s.colorbar.cmax - s.colorbar.cmin),
                         s.colorbar.cmax + 0.15 * (s.colorbar.cmax - s.colorbar.cmin)] },
        aspectmode: "manual",
        aspectratio: { x: 1, y: (s.yrange[1] - s.yrange[0]) / (s.xrange[1] - s.xrange[0]), z: 0.6 },
      };
    } else {
      const axis = { showgrid: false, zeroline: false, ticks: "outside", constrain: "domain",
                     tickfont: { size: f.tick }, title: { font: { size: f.label } } };
      layout.xaxis = { ...axis, range: s.xrange, title: { ...axis.title, text: "x" } };
      layout.yaxis = { ...axis, range: s.yrange, scaleanchor: "x", scaleratio: 1,
                       title: { ...axis.title, text: "y" } };
      layout.images = [{ source: s.image.src, xref: "x", yref: "y", x: s.image.x, y: s.image.y,
                         sizex: s.image.sizex, sizey: s.image.sizey, sizing: "stretch",
                         layer: "below" }];
    }
    return layout;
  }

  async draw(rebuild) {
    if (!this.p.surface) return; // the surface asset is on its way (resync asked)
    this.resize(false);
    const config = { displaylogo: false, scrollZoom: false, responsive: true,
                     modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d",
                                              "toggleSpikelines"] };
    const data = this.traces();
    this.fill(data);
    await this.Plotly.react(this.plot, data, this.layout(), config);
    if (rebuild) this.api.bus.dispatchEvent(new CustomEvent("race-step",
                                                            { detail: { step: this.step } }));
  }

  /** (step, f) pairs of a path, for its hover text: made once per path, not per frame
   * (a prefix of the path shows with a prefix of the same pairs). */
  pairsOf(b, j, path) {
    const key = `${this.sig}|${b}|${j}`;
    this.pairCache = this.pairCache || new Map();
    if (!this.pairCache.has(key)) {
      if (this.pairCache.size > 64) this.pairCache.clear();
      const pairs = new Array(path.step.length);
      for (let i = 0; i < pairs.length; i++) pairs[i] = [path.step[i], path.loss[i]];
      this.pairCache.set(key, pairs);
    }
    return this.pairCache.get(key);
  }

  /** The paths, markers and crosses at the current step, with learning-rate previews in
   * place of their runs: per-trace arrays in the order paths, markers, cross. */
  frameUpdate() {
    const x = [];
    const y = [];
    const z = [];
    const custom = [];
    const mx = [];
    const my = [];
    const mz = [];
    const cross = { x: [], y: [], z: [], text: [], hovertext: [], textposition: [] };
    this.runs.forEach((run, b) => {
      const j = this.scrub.has(b) ? this.scrub.get(b) : run.lr_index;
      const previewing = j !== run.lr_index;
      const path = this.pathOf(b, j);
      const cut = Math.max(1, previewing ? path.step.length : upperBound(path.step, this.step));
      x.push(path.x.subarray(0, cut));
      y.push(path.y.subarray(0, cut));
      custom.push(this.pairsOf(b, j, path));
      mx.push([path.x[cut - 1]]);
      my.push([path.y[cut - 1]]);
      if (this.three) {
        const heights = this.height3d(path.loss.subarray(0, cut));
        z.push(heights);
        mz.push([heights[cut - 1]]);
      }
      const ended = previewing || cut >= path.step.length;
      if (path.mark && ended) {
        // one word per place: crosses that end at the same spot share the first's label
        const s = this.p.surface;
        const near = (px, py) => Math.abs(px - path.mark[0]) < 0.15 * (s.xrange[1] - s.xrange[0])
          && Math.abs(py - path.mark[1]) < 0.08 * (s.yrange[1] - s.yrange[0]);
        const labelled = cross.x.some((px, i) => cross.text[i] && near(px, cross.y[i]));
        cross.x.push(path.mark[0]);
        cross.y.push(path.mark[1]);
        if (this.three) cross.z.push(this.height3d([path.loss[path.loss.length - 1]])[0]);
        cross.text.push(labelled ? "" : path.stop === "undefined" ? this.text.cross_stopped
          : this.text.cross);
        cross.hovertext.push(path.markText);
        cross.textposition.push(this.labelSide(path.mark[0], path.mark[1]));
      }
    });
    const update = { x: [...x, ...mx, cross.x], y: [...y, ...my, cross.y] };
    if (this.three) update.z = [...z, ...mz, cross.z];
    return { update, custom, cross };
  }

  labelSide(x, y) {
    const s = this.p.surface;
    const fx = (x - s.xrange[0]) / (s.xrange[1] - s.xrange[0]);
    const fy = (y - s.yrange[0]) / (s.yrange[1] - s.yrange[0]);
    const vertical = fy > 0.9 ? "bottom" : "top";
    const horizontal = fx > 0.8 ? "left" : fx < 0.2 ? "right" : "center";
    return `${vertical} ${horizontal}`;
  }

  traceOrder() {
    return [...this.index.paths, ...this.index.markers, this.index.cross];
  }

  fill(data) {
    const { update, custom, cross } = this.frameUpdate();
    this.traceOrder().forEach((i, k) => {
      data[i].x = update.x[k];
      data[i].y = update.y[k];
      if (this.three) data[i].z = update.z[k];
    });
    this.index.paths.forEach((i, b) => { data[i].customdata = custom[b]; });
    const c = data[this.index.cross];
    c.text = cross.text;
    c.hovertext = cross.hovertext;
    c.textposition = cross.textposition;
    this.crossKey = JSON.stringify(cross.hovertext);
    this.customKey = custom;
  }

  /** One redraw per animation frame, however many steps or slider positions came in
   * between: the latest state is drawn. */
  requestRedraw(only = null) {
    // several runs asked for in the same frame: redraw them all
    this.redrawOnly = this.redrawWanted && this.redrawOnly !== only ? null : only;
    this.redrawWanted = true;
    if (this.redrawPending) return;
    this.redrawPending = true;
    requestAnimationFrame(async () => {
      while (this.redrawWanted) {
        this.redrawWanted = false;
        await this.redrawFrame(false, this.redrawOnly);
      }
      this.redrawPending = false;
    });
  }

  /** The moving traces at the current step. In 2-D an animation frame without redraw
   * moves only their SVG paths (half the cost of a restyle, which replots the subplot);
   * the hover data of the paths follows when asked (not while a slider is dragged). */
  async redrawFrame(withHover = false, only = null) {
    if (!this.index || !this.plot.data) return;
    const { update, custom, cross } = this.frameUpdate();
    let order = this.traceOrder();
    if (only !== null && !this.three) {
      // a learning-rate drag moves one run: its path, its marker and the crosses
      const keep = new Set([this.index.paths[only], this.index.markers[only],
                            this.index.cross]);
      const picked = order.map((trace, k) => [trace, k]).filter(([trace]) => keep.has(trace));
      update.x = picked.map(([, k]) => update.x[k]);
      update.y = picked.map(([, k]) => update.y[k]);
      order = picked.map(([trace]) => trace);
    }
    if (withHover && custom.some((c, b) => c !== this.customKey[b])) {
      // Hover reads each point's (step, f) from the trace when the pointer is there, so
      // the new hover data is set on the plot's traces as they are, with no replot (a
      // restyle would redraw the whole subplot for text nobody sees yet).
      this.customKey = custom;
      this.index.paths.forEach((i, b) => {
        this.plot.data[i].customdata = custom[b];
        if (this.plot._fullData && this.plot._fullData[i]) {
          this.plot._fullData[i].customdata = custom[b];
        }
      });
    }
    if (this.three) {
      await this.Plotly.restyle(this.plot, update, order);
    } else {
      const data = order.map((_, k) => ({ x: update.x[k], y: update.y[k] }));
      await this.Plotly.animate(this.plot, { data, traces: order },
                                { transition: { duration: 0 },
                                  frame: { duration: 0, redraw: false }, mode: "immediate" });
    }
    const crossKey = JSON.stringify(cross.hovertext);
    if (crossKey !== this.crossKey) {
      this.crossKey = crossKey;
      await this.Plotly.restyle(this.plot, { text: [cross.text], hovertext: [cross.hovertext],
                                             textposition: [cross.textposition] },
                                [this.index.cross]);
    }
  }

  margins() {
    if (this.three) return { l: 0, r: 0, t: 0, b: 0 };
    const present = Boolean(this.p && this.p.present);
    return present ? { l: 76, r: 122, t: 12, b: 62 } : { l: 58, r: 92, t: 10, b: 46 };
  }

  /** The map as large as the column and the screen allow, at the surface's aspect: the
   * plot area keeps one unit of x as long as one unit of y, the map, the playback bar and
   * the learning-rate sliders fit on the first screen. */
  resize(relayout = true) {
    const s = this.p && this.p.surface;
    if (!s) return;
    const width = this.root.clientWidth || 600;
    const full = document.fullscreenElement === this.root;
    const chrome = this.root.offsetHeight - this.plot.offsetHeight; // bars under the map
    if (this.top === undefined || full) {
      const scroller = this.root.closest('[data-testid="stMain"]');
      this.top = full ? 16 : this.root.getBoundingClientRect().top
        + (scroller ? scroller.scrollTop : window.scrollY);
    }
    const room = Math.max(300, window.innerHeight - this.top - chrome - 12);
    const m = this.margins();
    const aspect = this.three ? 0.75
      : (s.yrange[1] - s.yrange[0]) / (s.xrange[1] - s.xrange[0]);
    let pw = width - m.l - m.r;
    let ph = pw * aspect;
    if (ph > room - m.t - m.b) {
      ph = room - m.t - m.b;
      pw = ph / aspect;
    }
    const w = Math.round(Math.min(width, pw + m.l + m.r));
    const h = Math.round(ph + m.t + m.b);
    if (Math.abs(this.plot.offsetHeight - h) > 1 || Math.abs(this.plot.offsetWidth - w) > 1) {
      this.plot.style.width = `${w}px`;
      this.plot.style.height = `${h}px`;
      if (relayout) this.resizePlot();
    }
  }

  // ---------------------------------------------------------------- playback

  togglePlay() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (!this.runs) return;
    if (this.step >= this.T) this.step = 0;
    if (this.scrub.size) {
      this.scrub.clear();
      this.buildLrRows();
      this.api.bus.dispatchEvent(new CustomEvent("race-scrub", { detail: { clear: true } }));
    }
    this.playing = true;
    this.markPlay();
    let last = performance.now();
    const tick = async (now) => {
      if (!this.playing) return;
      const perSecond = Math.max(this.T / SPEEDS[this.speed], 1);
      this.step = Math.min(this.T, this.step + ((now - last) / 1000) * perSecond);
      last = now;
      await this.showStep(this.step, false);  // drawn before the next frame is asked
      if (this.step >= this.T) {
        this.pause();
        return;
      }
      this.frame = requestAnimationFrame(tick);
    };
    this.frame = requestAnimationFrame(tick);
  }

  pause() {
    this.playing = false;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = null;
    if (this.text) this.markPlay();
  }

  async showStep(step, mark = true) {
    this.step = Math.max(0, Math.min(this.T, step));
    this.markPlay();
    if (!mark) this.stepInput.value = String(Math.round(this.step));
    await this.redrawFrame();
    this.api.bus.dispatchEvent(new CustomEvent("race-step", { detail: { step: this.step } }));
  }

  toggleFullscreen() {
    if (document.fullscreenElement === this.root) document.exitFullscreen();
    else this.root.requestFullscreen?.();
  }

  // ---------------------------------------------------------------- learning-rate scrub

  onScrub(b, position) {
    const run = this.runs[b];
    if (!run) return;
    this.pause();
    this.scrub.set(b, position);
    const row = this.lrBox.children[b];
    row.children[3].textContent = `${this.text.lr_symbol} = ${num(run.lr_values[position])}`;
    this.describe(b, position);
    // drawn at the next frame: a released slider's commit (the change event right after
    // this input event) reaches the server first
    this.requestRedraw(b);
    const path = this.pathOf(b, position);
    this.scrubEvent = { run: b, step: path.step, loss: path.loss, lr: run.lr_values[position],
                        divergedAt: path.divergedAt, preview: position !== run.lr_index };
    // the loss chart follows at most ten times a second: the map's path comes first
    if (!this.scrubTimer) {
      this.scrubTimer = setTimeout(() => {
        this.scrubTimer = null;
        this.api.bus.dispatchEvent(new CustomEvent("race-scrub", { detail: this.scrubEvent }));
      }, 100);
    }
  }

  onCommit(b, position) {
    const run = this.runs[b];
    if (!run || position === run.lr_index) return;
    this.api.setTriggerValue("lr", { key: run.key, value: run.lr_values[position] });
    // the committed race is on its way, with its own loss curve: no preview of it
    clearTimeout(this.scrubTimer);
    this.scrubTimer = null;
  }

  // ---------------------------------------------------------------- click to move the start

  installClick() {
    // Plotly covers the page while a mouse button is down (to follow a zoom drag), so the
    // browser's own click lands elsewhere: a press and release within a few pixels on the
    // plot area is the click. A second click soon after is Plotly's double-click reset.
    let down = null;
    let pending = null;
    this.plot.addEventListener("pointerdown", (e) => {
      const target = e.target;
      down = target.classList && target.classList.contains("nsewdrag")
        ? { x: e.clientX, y: e.clientY, rect: target.getBoundingClientRect() } : null;
    }, true);
    this.onPointerUp = (e) => {
      const start = down;
      down = null;
      if (!start || this.three || !this.p || !this.p.surface) return;
      if (Math.hypot(e.clientX - start.x, e.clientY - start.y) > 4) return;
      if (pending) { // the second click of a double click
        clearTimeout(pending);
        pending = null;
        return;
      }
      const full = this.plot._fullLayout;
      const x = full.xaxis.p2d(start.x - start.rect.left);
      const y = full.yaxis.p2d(start.y - start.rect.top);
      pending = setTimeout(() => {
        pending = null;
        if (!Number.isFinite(x) || !Number.isFinite(y)) return;
        this.Plotly.restyle(this.plot, { x: [[x]], y: [[y]] }, [this.index.start]);
        this.api.setTriggerValue("click", { x, y });
      }, 280);
    };
    document.addEventListener("pointerup", this.onPointerUp, true);
  }
}
