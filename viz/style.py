"""The app's shared look: one style per optimizer, font sizes per role, number formats.

Every optimizer has its own colour (Okabe–Ito first, colour-blind safe), its own marker
shape and its own line dash, so two optimizers are told apart without colour (under
deuteranopia several of the colours merge; shapes and dashes do not). The tests check
that no two optimizers share a colour-and-dash or a marker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import texts

__all__ = [
    "FONTS",
    "OPTIMIZER_COLORS",
    "OPTIMIZER_STYLES",
    "OPTIMIZER_SYMBOLS",
    "PLOTLY_CONFIG",
    "Fonts",
    "OptimizerStyle",
    "Words",
    "fonts",
    "log_axis_ticks",
    "num",
    "point_label",
    "tex_num",
]


@dataclass(frozen=True)
class OptimizerStyle:
    """How one optimizer looks everywhere: ``color`` (hex), ``symbol`` (Plotly marker),
    ``glyph`` (the same shape as a character, for text beside a slider), ``dash`` (Plotly
    line dash: a name or a list of dash/gap lengths in px)."""

    color: str
    symbol: str
    glyph: str
    dash: str


OPTIMIZER_STYLES: dict[str, OptimizerStyle] = {
    "gd": OptimizerStyle("#D55E00", "circle", "●", "solid"),              # vermillion
    "momentum": OptimizerStyle("#0072B2", "square", "■", "dash"),         # blue
    "nag": OptimizerStyle("#56B4E9", "diamond", "◆", "dot"),              # sky blue
    "adagrad": OptimizerStyle("#009E73", "triangle-up", "▲", "dashdot"),  # bluish green
    "rmsprop": OptimizerStyle("#CC79A7", "triangle-down", "▼", "longdash"),  # purple-pink
    "adadelta": OptimizerStyle("#E69F00", "pentagon", "⬟", "longdashdot"),  # orange
    "adam": OptimizerStyle("#000000", "hexagon", "⬢", "solid"),           # black
    "adamw": OptimizerStyle("#7B3294", "hexagram", "✶", "12px,4px,3px,4px,3px,4px"),
    "nadam": OptimizerStyle("#8C510A", "triangle-left", "◀", "3px,3px"),  # brown
    "adamax": OptimizerStyle("#7A8B00", "triangle-right", "▶", "16px,5px"),  # olive
}
OPTIMIZER_COLORS: dict[str, str] = {k: s.color for k, s in OPTIMIZER_STYLES.items()}
OPTIMIZER_SYMBOLS: dict[str, str] = {k: s.symbol for k, s in OPTIMIZER_STYLES.items()}

# Pass as st.plotly_chart(..., config=PLOTLY_CONFIG): no Plotly logo, no mode-bar clutter.
PLOTLY_CONFIG = {"displaylogo": False, "scrollZoom": False,
                 "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}


@dataclass(frozen=True)
class Fonts:
    """Font sizes in px, one per role: tick labels, axis titles and marks' labels, legend
    entries, chart titles. Readable at the back of a room on a 1280×720 projector; Present
    mode uses :data:`PRESENT_FONTS`."""

    tick: int
    label: int
    legend: int
    title: int


FONTS = Fonts(tick=15, label=16, legend=15, title=18)
PRESENT_FONTS = Fonts(tick=21, label=23, legend=22, title=26)


def fonts(present: bool = False) -> Fonts:
    return PRESENT_FONTS if present else FONTS


def apply_fonts(fig, present: bool, ink: str = "#222222") -> None:
    """The shared sizes per role on a ``go.Figure`` (ticks, axis titles, legend, hover,
    annotations), white background, legend in a row above the plot."""
    f = fonts(present)
    fig.update_layout(font=dict(size=f.tick, color=ink), paper_bgcolor="white",
                      plot_bgcolor="white", hoverlabel=dict(font_size=f.tick),
                      legend=dict(orientation="h", x=0.0, y=1.01, yanchor="bottom",
                                  font=dict(size=f.legend)))
    fig.update_xaxes(tickfont=dict(size=f.tick), title_font=dict(size=f.label))
    fig.update_yaxes(tickfont=dict(size=f.tick), title_font=dict(size=f.label))
    fig.update_annotations(font_size=f.label)


def log_axis_ticks(values) -> dict:
    """Tick settings for a log axis showing the positive finite ``values``, with labels at
    every range. Plotly labels only powers of ten (and, over a decade or two, the digits
    between them in small type): a curve that moves by less than a factor of ten then gets
    no number on its axis at all. Here:

    * under one decade: explicit ticks at round values (step 1, 2 or 5 × 10^k chosen for
      3 to 6 ticks inside the range);
    * one to two decades: explicit ticks at 1, 2, 5 × 10^k;
    * wider: a tick per decade (per two decades beyond twelve), as Plotly draws them.

    Returns keys for a Plotly axis (``tickvals``/``ticktext`` or ``dtick``)."""
    import numpy as np  # local: style is imported by every figure, NumPy is anyway

    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return {}
    lo, hi = float(v.min()), float(v.max())
    decades = math.log10(hi / lo)
    if decades > 2.0:
        return dict(tickvals=None, ticktext=None, dtick=1 if decades <= 12 else 2)
    if decades >= 1.0:
        ticks = [m * 10.0 ** k for k in range(math.floor(math.log10(lo)),
                                              math.ceil(math.log10(hi)) + 1)
                 for m in (1, 2, 5) if lo * (1 - 1e-9) <= m * 10.0 ** k <= hi * (1 + 1e-9)]
    else:
        ticks = []
        span = hi - lo if hi > lo else abs(hi) or 1.0
        for exponent in range(math.floor(math.log10(span)) + 1, math.floor(math.log10(span)) - 3,
                              -1):
            for mant in (5, 2, 1):
                step = mant * 10.0 ** exponent
                first = math.ceil(lo / step - 1e-9)
                ticks = [n * step for n in range(first, math.floor(hi / step + 1e-9) + 1)
                         if n * step > 0]
                if len(ticks) >= 3:
                    break
            if len(ticks) >= 3:
                break
        if len(ticks) < 2:  # a flat line: the value itself
            ticks = [lo] if hi == lo else [lo, hi]
    return dict(tickvals=ticks, ticktext=[f"{t:.3g}" for t in ticks], dtick=None)


def num(value: float) -> str:
    """Short human number: 4 significant digits (``1.235e-05``, ``0.001``, ``42``)."""
    return f"{float(value):.4g}"


def point_label(x: float, y: float) -> str:
    return f"({float(x):.3g}, {float(y):.3g})"


def tex_num(value: float) -> str:
    """4 significant digits, scientific notation as a·10^{b} for LaTeX."""
    value = float(value)
    if not math.isfinite(value):
        return r"\infty" if value > 0 else (r"-\infty" if value < 0 else r"\text{NaN}")
    text = f"{value:.4g}"
    if "e" in text:
        mant, exp = text.split("e")
        return rf"{mant}\cdot 10^{{{int(exp)}}}"
    return text


@dataclass(frozen=True)
class Words:
    """The strings a figure needs, given to it as an argument (hashable, so a page's cache
    is keyed by the words themselves, not by a language code): ``pairs`` of (key, template).
    ``words.t(key, **fields)`` fills a template as :func:`texts.t` does."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def current(cls, keys: Iterable[str]) -> Words:
        """The templates of ``keys`` in the current language (texts.t)."""
        return cls(tuple((key, texts.t(key)) for key in keys))

    def t(self, key: str, /, **fields) -> str:
        template = dict(self.pairs)[key]
        return template.format(**fields) if fields else template
