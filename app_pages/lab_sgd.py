"""The lab's "SGD on a real loss" view: batch, mini-batch and stochastic gradient descent on
linear regression (MSE) or logistic regression (BCE), two parameters (w, b) so the loss
surface can be drawn.

The three runs share the rule, the learning rate, the start and the number of epochs; they
differ only in the batch size (n, the chosen size, 1). The notes' claims are checked on
the numbers of these runs, and the page says when a claim does not hold here (or is
overstated in general). Settings live in the URL through the lab page's fields (FIELDS).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages import lab_compute as lc
from app_pages import lesson_state as ls
from app_pages import race_work
from app_pages import registry_texts as rt
from app_pages.lab_widgets import K, fmt, ss
from engine import datasets, optimizers, regression
from texts import t
from viz import regression as vr
from viz.style import PLOTLY_CONFIG, num

SGD = ("sgd",)
MAX_N = 500  # points of a dataset on this page (uploads too)
MAX_EPOCHS = 200
MAX_UPLOAD_BYTES = 200_000
F = ls.Field
FIELDS = [
    F("m", "linear", "choice", options=tuple(regression.MODELS), views=SGD),
    F("src", "seed", "choice", options=("seed", "upload"), views=SGD),
    F("dn", 60, "int", low=10, high=MAX_N, views=SGD),
    F("dz", 0.5, low=0.0, high=3.0, views=SGD),
    F("ds", 0, "int", low=0, high=1_000_000, views=SGD),
    F("so", "gd", "choice", options=tuple(optimizers.OPTIMIZERS), views=SGD),
    F("glr", 0.05, low=1e-4, high=10.0, views=SGD),
    F("bsz", 10, "int", low=2, high=MAX_N, views=SGD),
    F("ep", 20, "int", low=1, high=MAX_EPOCHS, views=SGD),
    F("w0", -2.0, low=-20.0, high=20.0, views=SGD),
    F("b0", 2.0, low=-20.0, high=20.0, views=SGD),
    F("sh", 0, "int", low=0, high=1_000_000, views=SGD),
    F("bv", "mini", "choice", options=("none", "mini", "sgd"), views=SGD),
    F("k", 0, "int", low=0, high=regression.MAX_UPDATES, views=SGD),
]
COLORS = {"full": ("#0072B2", "solid"), "mini": ("#009E73", "dash"), "sgd": ("#D55E00", "dot")}


def data_controls() -> tuple[np.ndarray, np.ndarray, str | None]:
    """The dataset (generated, or the user's CSV), and a message when an upload failed."""
    sb = st.sidebar
    model = ss[K("m")]
    sb.radio(t("sgd.source"), options=("seed", "upload"), key=K("src"), horizontal=True,
             format_func=lambda v: t(f"sgd.source_{v}"))
    problem = None
    if ss[K("src")] == "upload":
        file = sb.file_uploader(t("sgd.upload"), type=["csv", "txt"], key="lab_csv",
                                help=t("sgd.upload_help", n=MAX_N))
        if file is None:
            problem = t("sgd.upload_missing")
        else:
            try:
                table = datasets.read_numeric_csv(file.getvalue(), ("x", "y"), max_rows=MAX_N,
                                                  max_bytes=MAX_UPLOAD_BYTES)
                return (*regression.check_data(model, table[:, 0], table[:, 1]), None)
            except datasets.DatasetError as exc:
                problem = t("sgd.upload_bad", problem=rt.error_message(exc))
    c1, c2 = sb.columns(2)
    c1.slider(t("sgd.n"), min_value=10, max_value=MAX_N, step=10, key=K("dn"))
    c2.slider(t("sgd.noise"), min_value=0.0, max_value=3.0, step=0.1, key=K("dz"))
    sb.number_input(t("sgd.data_seed"), min_value=0, max_value=1_000_000, key=K("ds"))
    x, y = regression.make_data(model, int(ss[K("dn")]), float(ss[K("dz")]), int(ss[K("ds")]))
    return x, y, problem


def training_controls(n: int) -> None:
    sb = st.sidebar
    sb.subheader(t("sgd.training"))
    sb.selectbox(t("sgd.rule"), options=list(optimizers.OPTIMIZERS), key=K("so"),
                 format_func=rt.optimizer_title, help=t("sgd.rule_help"))
    spec = optimizers.OPTIMIZERS[ss[K("so")]].hyper_spec("lr")
    value = min(max(float(ss[K("glr")]), spec.slider_min), spec.slider_max)
    if value != ss[K("glr")]:
        st.warning(t("lab.clamped", name="glr", raw=str(ss[K("glr")]), value=fmt(value)),
                   icon=":material/link_off:")
        ss[K("glr")] = value
    sb.select_slider(t("sgd.lr"), options=race_work.log_grid(float(spec.slider_min),
                                                         float(spec.slider_max), value),
                     key=K("glr"), format_func=fmt)
    if ss[K("bsz")] > n - 1:
        ss[K("bsz")] = max(2, n // 4)
    sb.slider(t("sgd.batch_size"), min_value=2, max_value=max(n - 1, 3), key=K("bsz"),
              help=t("sgd.batch_size_help"))
    cap = max(1, min(MAX_EPOCHS, regression.MAX_UPDATES // n))
    if ss[K("ep")] > cap:
        st.info(t("sgd.epochs_capped", cap=cap, n=n, updates=f"{regression.MAX_UPDATES:,}"),
                icon=":material/info:")
        ss[K("ep")] = cap
    sb.slider(t("sgd.epochs"), min_value=1, max_value=max(cap, 2), key=K("ep"),
              help=t("sgd.epochs_help", cap=cap))
    c1, c2 = sb.columns(2)
    c1.number_input(t("sgd.start_w"), min_value=-20.0, max_value=20.0, step=0.5, key=K("w0"))
    c2.number_input(t("sgd.start_b"), min_value=-20.0, max_value=20.0, step=0.5, key=K("b0"))
    sb.number_input(t("sgd.shuffle_seed"), min_value=0, max_value=1_000_000, key=K("sh"))


def view() -> None:
    sb = st.sidebar
    sb.subheader(t("lab.setup"))
    sb.selectbox(t("sgd.model"), options=list(regression.MODELS), key=K("m"),
                 format_func=lambda k: t(f"sgd.model_{k}"))
    model = ss[K("m")]
    x, y, problem = data_controls()
    if problem:
        st.error(problem, icon=":material/upload_file:")
        st.markdown(t("sgd.upload_format"))
    n = x.size
    training_controls(n)
    key, lr = ss[K("so")], float(ss[K("glr")])
    epochs, start = int(ss[K("ep")]), (float(ss[K("w0")]), float(ss[K("b0")]))
    sizes = {"full": n, "mini": int(min(ss[K("bsz")], n)), "sgd": 1}
    # SGD's loop is the long one (n updates per epoch): a progress bar when it is long
    tasks = [lambda size=size: lc.training(model, x, y, key, lr, size, epochs, start,
                                           int(ss[K("sh")])) for size in sizes.values()]
    runs = dict(zip(sizes, lc.with_progress(tasks, 100 * epochs * n, t("lab.computing")),
                    strict=True))
    best = lc.minimum(model, x, y)
    names = {"full": t("sgd.name_full", n=n), "mini": t("sgd.name_mini", m=sizes["mini"]),
             "sgd": t("sgd.name_sgd")}
    methods = {name: vr.Method(names[name], *COLORS[name], run.path[:, 0], run.full_loss[:, 0],
                               run.updates_per_epoch) for name, run in runs.items()}

    left, right = st.columns([5, 3], gap="medium")
    with left:
        contour_panel(model, x, y, runs, methods, best, start)
    with right:
        st.markdown(t("sgd.intro", model=t(f"sgd.model_{model}"), rule=rt.optimizer_title(key),
                      lr=fmt(lr), epochs=epochs, n=n))
        minimum_panel(model, best)
        claims_panel(runs, names, best, n, sizes["mini"], epochs)
    best_loss = best.loss if best.exists else None
    st.plotly_chart(vr.loss_curves_figure(list(methods.values()), best_loss=best_loss),
                    key="lab_sgd_curves", config=PLOTLY_CONFIG)
    lines = [(m.name, m.color, m.dash, float(m.path[-1, 0]), float(m.path[-1, 1]))
             for m in methods.values()]
    st.plotly_chart(vr.data_figure(x, y, model, lines), key="lab_sgd_data",
                    config=PLOTLY_CONFIG)


def contour_panel(model, x, y, runs, methods, best, start) -> None:
    points = [np.asarray(start, float)] + [run.path[:, 0] for run in runs.values()
                                           if not run.diverged[0]]
    if best.exists:
        points.append(np.array([best.w, best.b]))
    box = vr.view_box(np.concatenate([np.reshape(p, (-1, 2)) for p in points]))
    ws, bs, grid = lc.loss_grid(model, x, y, box)
    shown = ss[K("bv")]
    batch = positions = None
    caption = None
    slider = None
    if shown in ("mini", "sgd"):
        run = runs[shown]
        total = run.path.shape[0] - 2
        if ss[K("k")] > total:
            ss[K("k")] = total
        k = int(min(ss[K("k")], total))
        idx = run.batches[k, 0]
        idx = idx[idx >= 0]
        gw, gb = np.meshgrid(ws, bs)
        bgrid = regression.loss(model, x[idx], y[idx], np.stack([gw, gb], axis=-1))
        batch = (bgrid, run.path[k, 0], run.path[k + 1, 0])
        epoch = k / max(run.updates_per_epoch, 1)
        positions = [int(round(epoch * r.updates_per_epoch)) for r in runs.values()]
        caption = t("sgd.update_caption", k=k, epoch=f"{epoch:.2f}", size=idx.size,
                    before=f"{run.batch_loss[k, 0]:.4g}", full=f"{run.full_loss[k, 0]:.4g}",
                    after=f"{run.full_loss[k + 1, 0]:.4g}")
        slider = (methods[shown].name, total)
    minimum = (best.w, best.b) if best.exists else None
    fig = vr.contour_figure(ws, bs, grid, list(methods.values()), minimum=minimum,
                            positions=positions, batch=batch, height=520)
    st.plotly_chart(fig, key="lab_sgd_map", config=PLOTLY_CONFIG)
    c1, c2 = st.columns([2, 3], vertical_alignment="bottom")
    c1.segmented_control(t("sgd.batch_view"), options=("none", "mini", "sgd"), key=K("bv"),
                         required=True, format_func=lambda v: t(f"sgd.batch_view_{v}"),
                         help=t("sgd.batch_view_help"))
    if slider is not None:
        name, total = slider
        c2.slider(t("sgd.update", name=name), min_value=0, max_value=max(total, 1), key=K("k"),
                  disabled=total < 1)
        st.caption(caption)
    for name, run in runs.items():
        if run.diverged[0]:
            st.warning(t("sgd.diverged", name=methods[name].name, update=int(run.diverged_at[0])),
                       icon=":material/close:")


def minimum_panel(model: str, best: regression.Minimum) -> None:
    with st.container(border=True, key="lab_sgd_minimum"):
        st.latex(r"\begin{gathered}" + regression.MODELS[model].latex + r"\end{gathered}")
        if best.exists:
            st.markdown(t(f"sgd.minimum_{best.method}", w=f"{best.w:.5g}", b=f"{best.b:.5g}",
                          loss=f"{best.loss:.5g}"))
        else:
            st.markdown(t(f"sgd.no_minimum_{best.reason}"))


def _to_basins() -> None:
    ss[K("view")] = "basins"


def _mark(ok: bool) -> str:
    """A check or a cross (Material icons: Chromium without an emoji font draws them too)."""
    return ":green[:material/check_circle:]" if ok else ":red[:material/cancel:]"


def claims_panel(runs, names, best, n: int, m: int, epochs: int) -> None:
    """The notes' claims, each checked on these runs' numbers (✅ holds here, ❌ does not)."""
    full, mini = runs["full"], runs["mini"]
    target = best.loss if best.exists else 0.0
    gap = {k: r.epoch_loss[:, 0] - target for k, r in runs.items()}
    up = {k: float(r.uphill_fraction()[0]) for k, r in runs.items()}
    with st.container(border=True, key="lab_sgd_claims"):
        st.markdown(t("sgd.claims_title"))
        stable = up["full"] == 0.0
        st.markdown(_mark(stable) + " " + t("sgd.claim_stable", updates=full.path.shape[0] - 1,
                                              share=f"{100 * up['full']:.0f}"))
        slow = gap["full"][1] > gap["mini"][1] and gap["full"][1] > gap["sgd"][1]
        st.markdown(_mark(slow) + " " + t("sgd.claim_slow", full=f"{gap['full'][1]:.3g}",
                                            mini=f"{gap['mini'][1]:.3g}",
                                            sgd=f"{gap['sgd'][1]:.3g}", m=m,
                                            k=mini.updates_per_epoch, n=n))
        noisy = up["sgd"] > up["mini"] >= up["full"]
        st.markdown(_mark(noisy) + " " + t("sgd.claim_noisy", sgd=f"{100 * up['sgd']:.0f}",
                                             mini=f"{100 * up['mini']:.0f}",
                                             full=f"{100 * up['full']:.0f}"))
        if best.exists:
            target_point = np.array([best.w, best.b])
            dist = {k: float(np.linalg.norm(r.path[-1, 0] - target_point))
                    for k, r in runs.items()}
            st.markdown(t("sgd.claim_distance", epochs=epochs, full=f"{dist['full']:.3g}",
                          mini=f"{dist['mini']:.3g}", sgd=f"{dist['sgd']:.3g}"))
        st.markdown(t("sgd.claim_global"))
        st.button(t("sgd.to_basins"), key="lab_sgd_to_basins", icon=":material/landscape:",
                  on_click=_to_basins)
    st.caption(t("sgd.claims_caption", best=num(target)))
