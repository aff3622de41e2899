// The canvas: one Streamlit component (st.components.v2) that keeps Plotly charts alive.
//
// Streamlit calls the component's default export on every render whose data changed, with
// the same parentElement as long as the element stays mounted. A controller per element
// (chosen by data.view) builds its DOM and plot once and applies each new payload in
// place: Plotly.react / restyle / extendTraces, never a new plot. plotly.js comes from the
// installed plotly package, served by the app's static route, and is loaded once per page
// (a second page of the same session finds window.Plotly already there).
//
// Payload conventions (see app_pages/canvas.py):
//   typed arrays  {dtype: "f4" | "f8" | "i4" | "u2" | ..., bdata: base64, shape?}
//   assets        {asset: id, data?}: large parts (a map picture, a learning-rate sweep)
//                 that the server sends once; later payloads name them by id only. A
//                 controller that meets an id it does not hold asks for it again with the
//                 "resync" trigger.

let CONFIG = null;
let plotlyPromise = null;
const ASSETS = new Map(); // id -> decoded payload, most recently used last
const MAX_ASSETS = 48;
const VIEWS = new Map(); // view name -> module promise

export const bus = new EventTarget(); // page-wide events between canvases (race step, scrub)

const DTYPES = {
  f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
  u2: Uint16Array, i4: Int32Array, u4: Uint32Array,
};

/** A typed-array spec {dtype, bdata, shape?} as the TypedArray it encodes (little-endian);
 * a 2-D shape "rows, cols" gives an array of row views (what Plotly's z expects). */
export function decode(spec) {
  if (!spec || typeof spec !== "object" || typeof spec.bdata !== "string") return spec;
  const bytes = Uint8Array.from(atob(spec.bdata), (c) => c.charCodeAt(0));
  const Type = DTYPES[spec.dtype];
  if (!Type) throw new Error(`canvas: unknown dtype ${spec.dtype}`);
  const flat = new Type(bytes.buffer, bytes.byteOffset,
                        bytes.byteLength / Type.BYTES_PER_ELEMENT);
  const shape = typeof spec.shape === "string" ? spec.shape.split(",").map(Number) : null;
  if (!shape || shape.length < 2) return flat;
  const cols = shape[shape.length - 1];
  const rows = flat.length / cols;
  const out = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = flat.subarray(r * cols, (r + 1) * cols);
  return out;
}

/** Every typed-array spec inside ``value`` decoded (objects and arrays walked). */
export function decodeAll(value) {
  if (Array.isArray(value)) return value.map(decodeAll);
  if (value && typeof value === "object") {
    if (typeof value.bdata === "string" && typeof value.dtype === "string") return decode(value);
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = decodeAll(v);
    return out;
  }
  return value;
}

/** plotly.js of the installed plotly package, loaded once per page. Streamlit's own
 * charts may have put another plotly.js build on window.Plotly: ours is kept apart (taken
 * from window.Plotly right after its script ran, and the previous value put back). */
function loadPlotly() {
  if (!plotlyPromise) {
    plotlyPromise = new Promise((resolve, reject) => {
      const previous = Object.prototype.hasOwnProperty.call(window, "Plotly")
        ? window.Plotly : undefined;
      const script = document.createElement("script");
      script.src = CONFIG.plotly;
      script.async = true;
      script.onload = () => {
        const ours = window.Plotly;
        if (previous !== undefined) window.Plotly = previous;
        resolve(ours);
      };
      script.onerror = () => {
        plotlyPromise = null;
        reject(new Error("canvas: plotly.js could not be loaded"));
      };
      document.head.appendChild(script);
    });
  }
  return plotlyPromise;
}

function loadView(name) {
  if (!VIEWS.has(name)) {
    VIEWS.set(name, import(new URL(`${name}.js?v=${CONFIG.version}`, CONFIG.base).href));
  }
  return VIEWS.get(name);
}

function remember(id, value) {
  ASSETS.delete(id);
  ASSETS.set(id, value);
  while (ASSETS.size > MAX_ASSETS) ASSETS.delete(ASSETS.keys().next().value);
}

/** The payload with every asset reference replaced by its decoded data; ids not held here
 * are listed in ``missing`` (their place holds null). */
function resolveAssets(value, missing) {
  if (Array.isArray(value)) return value.map((v) => resolveAssets(v, missing));
  if (value && typeof value === "object") {
    if (typeof value.asset === "string") {
      if (value.data !== undefined) remember(value.asset, decodeAll(value.data));
      if (ASSETS.has(value.asset)) {
        const data = ASSETS.get(value.asset);
        remember(value.asset, data);
        return data;
      }
      missing.push(value.asset);
      return null;
    }
    if (typeof value.bdata === "string" && typeof value.dtype === "string") return value;
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveAssets(v, missing);
    return out;
  }
  return value;
}

let styled = false;
function injectStyle() {
  if (styled) return;
  styled = true;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL(`canvas.css?v=${CONFIG.version}`, CONFIG.base).href;
  document.head.appendChild(link);
}

/** Called by the component's loader on every render (see app_pages/canvas.py). */
export async function render(component, config) {
  CONFIG = CONFIG || config;
  injectStyle();
  const host = component.parentElement;
  let slot = host.__descentCanvas;
  if (!slot) {
    slot = host.__descentCanvas = { view: null, controller: null, queue: Promise.resolve(),
                                    asked: new Set(), component };
    // the controller talks to the newest render's setters (they belong to this element)
    slot.api = {
      bus, decode, decodeAll,
      setStateValue: (name, value) => slot.component.setStateValue(name, value),
      setTriggerValue: (name, value) => slot.component.setTriggerValue(name, value),
      resync: (reason) => {
        // ask once per reason until something arrives: asking again would loop if the
        // server cannot help
        const key = JSON.stringify(reason);
        if (slot.asked.has(key)) return;
        slot.asked.add(key);
        slot.component.setTriggerValue("resync", reason);
      },
    };
  }
  slot.component = component;
  // app_pages/canvas.py sends the payload as JSON bytes (one serialization on the server)
  const data = component.data instanceof Uint8Array || component.data instanceof ArrayBuffer
    ? JSON.parse(new TextDecoder().decode(component.data)) : component.data;
  // one update at a time, in order: extendTraces payloads build on each other
  slot.queue = slot.queue.then(async () => {
    slot.api.Plotly = await loadPlotly();
    const missing = [];
    const payload = resolveAssets(data, missing);
    if (!payload || typeof payload !== "object") return;
    if (slot.view !== payload.view) {
      slot.controller?.destroy();
      const module = await loadView(payload.view);
      slot.controller = module.create(host, slot.api);
      slot.view = payload.view;
    }
    if (missing.length) slot.api.resync({ assets: missing });
    else slot.asked.clear();
    await slot.controller.update(payload, missing);
  }).catch((error) => {
    console.error("canvas:", error);
    host.setAttribute("data-canvas-error", String(error && error.message));
  });
  await slot.queue;
  // Streamlit calls the returned function when the element unmounts, but also when a
  // render was superseded before it finished: only a host that left the page is torn down.
  return () => setTimeout(() => {
    if (!host.isConnected && host.__descentCanvas === slot) {
      slot.controller?.destroy();
      delete host.__descentCanvas;
    }
  }, 0);
}
