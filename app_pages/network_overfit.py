"""The Neural-network page's "Overfitting and its cures" view (scenario ``overfitting``).

One fixed experiment (engine/overfitting.py: 30 noisy moons, a 2-32-32-1 tanh network,
2,000 epochs), trained once per server for every cure from the same initial weights and
cached. The student sees the uncured network's training, validation and test losses, adds
each cure's curves with one click, and compares the trained weights of no cure, L2 and L1.
Every number the text states comes from :func:`story`, computed from that run (the tests
compare them with the engine's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app_pages import network_model as nm
from engine import overfitting as of
from texts import t
from viz import network_overfit as vo

CURE_BUTTONS = nm.OVERFIT_CURES  # the order of the buttons
HISTOGRAMS = ("none", "l2", "l1")
NEAR_ZERO = 0.01  # |w| below this counts as (nearly) zero
# Okabe-Ito, one per cure (the uncured network in vermillion: the problem)
COLORS = {"none": "#D55E00", "l2": "#0072B2", "dropout": "#009E73",
          of.EARLY_STOPPING: "#CC79A7", "l1": "#E69F00"}
SHOWN = "nn_of_shown"  # session key: the cures whose curves are on the chart


@st.cache_data(max_entries=1, show_spinner=False)
def overfitting_run() -> of.Curves:
    """engine.overfitting.run of the scenario (about 2 s: 4 networks × 2,000 epochs,
    batched), once per server: the same for every student."""
    return of.run(of.SCENARIO)


@dataclass(frozen=True)
class Story:
    """The numbers the view states, read off one run."""

    train_start: float      # uncured training loss at epoch 0 ...
    train_final: float      # ... and at the last epoch
    best_epoch: int         # epoch of the uncured network's lowest test loss
    best_test: float
    final_test: float       # its test loss at the last epoch
    rise: float             # final_test / best_test
    finals: dict            # cure -> final test loss (early stopping: of the kept weights)
    train_finals: dict      # cure -> final training loss
    dropout_best: float     # dropout's lowest test loss, and its epoch
    dropout_best_epoch: int
    early_epoch: int
    stopped_at: int
    near_zero: dict         # network -> fraction of weights with |w| < NEAR_ZERO
    largest: dict           # network -> largest |w|
    n_weights: int
    n_params: int


def story(c: of.Curves) -> Story:
    none = c.column("none")
    test, train = c.test[:, none], c.train[:, none]
    best = int(np.argmin(test))
    drop = c.test[:, c.column("dropout")]
    W = of.weights(c.net, c.theta)
    return Story(
        train_start=float(train[0]), train_final=float(train[-1]),
        best_epoch=int(c.epochs[best]), best_test=float(test[best]),
        final_test=float(test[-1]), rise=float(test[-1] / test[best]),
        finals={k: c.final_test(k) for k in (*c.keys, of.EARLY_STOPPING)},
        train_finals={k: float(c.train[-1, c.column(k)]) for k in c.keys},
        dropout_best=float(drop.min()), dropout_best_epoch=int(c.epochs[np.argmin(drop)]),
        early_epoch=c.early_epoch, stopped_at=c.stopped_at,
        near_zero={k: float(np.mean(np.abs(W[c.column(k)]) < NEAR_ZERO)) for k in c.keys},
        largest={k: float(np.max(np.abs(W[c.column(k)]))) for k in c.keys},
        n_weights=int(W.shape[1]), n_params=int(c.net.n_params))


def num(value: float) -> str:
    """A loss as the text writes it (three significant digits)."""
    return f"{value:.3g}"


def percent(share: float) -> str:
    return f"{100 * share:.1f}\u00a0%"


def cure_title(key: str) -> str:
    cure = of.CURES.get(key)
    return t(f"overfit.cure_{key}", l1=f"{cure.l1:g}" if cure else "",
             l2=f"{cure.l2:g}" if cure else "", p=f"{cure.dropout:g}" if cure else "")


def watch_text(s: Story) -> str:
    """The scenario's "what to watch" box."""
    sc = of.SCENARIO
    return t("overfit.watch", n_train=sc.n_train, n_test=sc.n_test, n_params=f"{s.n_params:,}",
             train_start=num(s.train_start), train_final=num(s.train_final),
             best_epoch=s.best_epoch, best_test=num(s.best_test), rise=f"{s.rise:.1f}",
             final_test=num(s.final_test), epochs=f"{sc.epochs:,}")


def result_text(key: str, s: Story) -> str:
    sc, cure = of.SCENARIO, of.CURES.get(key)
    return t(f"overfit.result_{key}", final=num(s.finals[key]), none=num(s.finals["none"]),
             train=num(s.train_finals.get(key, s.train_final)),
             l1=f"{cure.l1:g}" if cure else "", l2=f"{cure.l2:g}" if cure else "",
             p=f"{cure.dropout:g}" if cure else "", best=num(s.dropout_best),
             best_epoch=s.dropout_best_epoch, n_val=sc.n_validation, kept=s.early_epoch,
             stopped=s.stopped_at, patience=sc.patience)


def _toggle(key: str) -> None:
    shown = list(st.session_state.get(SHOWN, []))
    st.session_state[SHOWN] = [k for k in shown if k != key] if key in shown else [*shown, key]


def _chart(c: of.Curves, s: Story, shown: list[str]) -> None:
    lines = []
    for key in ("none", *[k for k in shown if k in c.keys]):
        col = c.column(key)
        splits = ("train", "validation", "test") if key == "none" else ("train", "test")
        for split in splits:
            # the validation line has its own legend entry (dotted), the others the cure's
            group = f"{key}:validation" if split == "validation" else key
            name = (t("overfit.line_validation", cure=cure_title(key))
                    if split == "validation" else cure_title(key))
            lines.append(dict(name=name, group=group, color=COLORS[key], split=split,
                              y=getattr(c, split)[:, col]))
    early = None
    if of.EARLY_STOPPING in shown:
        early = dict(stopped_at=s.stopped_at, kept_epoch=s.early_epoch,
                     kept_loss=s.finals[of.EARLY_STOPPING], color=COLORS[of.EARLY_STOPPING],
                     stop_label=t("overfit.stop_line", epoch=s.stopped_at),
                     kept_label=t("overfit.kept_point", epoch=s.early_epoch))
    fig = vo.cures_figure(c.epochs, lines, early=early,
                          titles=(t("overfit.train_panel"), t("overfit.test_panel")),
                          x_title=t("overfit.epoch_axis"), height=440)
    st.plotly_chart(fig, key="nn_of_curves", width="stretch",
                    config={"displayModeBar": False})


def _histograms(c: of.Curves, s: Story) -> None:
    st.markdown(f"**{t('overfit.hist_title')}**")
    W = of.weights(c.net, c.theta)
    weights = {k: W[c.column(k)] for k in HISTOGRAMS}
    titles = {k: t("overfit.hist_panel", name=cure_title(k), share=percent(s.near_zero[k]),
                   threshold=f"{NEAR_ZERO:g}") for k in HISTOGRAMS}
    fig = vo.weight_histograms_figure(weights, COLORS, titles, threshold=NEAR_ZERO,
                                      threshold_label=f"{NEAR_ZERO:g} ",
                                      x_title=t("overfit.size_axis"),
                                      y_title=t("overfit.count_axis"), height=330)
    st.plotly_chart(fig, key="nn_of_hist", width="stretch", config={"displayModeBar": False})
    with st.container(key="nn_of_hist_text"):
        st.markdown(t("overfit.hist_text", n_weights=f"{s.n_weights:,}",
                      threshold=f"{NEAR_ZERO:g}", l1=percent(s.near_zero["l1"]),
                      l2=percent(s.near_zero["l2"]), none=percent(s.near_zero["none"]),
                      l1_max=num(s.largest["l1"]), l2_max=num(s.largest["l2"]),
                      none_max=num(s.largest["none"])))


def view(curves: of.Curves) -> None:
    """The scenario's view (the "what to watch" box is the page's, from :func:`watch_text`)."""
    s = story(curves)
    sc = of.SCENARIO
    shown = [k for k in st.session_state.get(SHOWN, []) if k in CURE_BUTTONS]
    st.markdown(f"**{t('overfit.cures_title')}**")
    with st.container(horizontal=True, key="nn_of_buttons"):
        for key in CURE_BUTTONS:
            on = key in shown
            st.button(cure_title(key), key=f"nn_of_{key}", on_click=_toggle, args=(key,),
                      type="primary" if on else "secondary",
                      icon=":material/check:" if on else ":material/add:",
                      help=t("overfit.button_help"))
    _chart(curves, s, shown)
    for key in shown:
        with st.container(key=f"nn_of_result_{key}"):
            st.markdown(result_text(key, s))
    _histograms(curves, s)
    st.caption(t("overfit.setup", noise=f"{sc.noise:g}", n_train=sc.n_train,
                 n_val=sc.n_validation, n_test=sc.n_test,
                 sizes="-".join(str(n) for n in sc.sizes), lr=f"{sc.lr:g}",
                 epochs=f"{sc.epochs:,}", every=sc.every))
    st.caption(t("overfit.back_to_live"))
