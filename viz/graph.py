"""Computational graphs as Graphviz DOT text (drawn by ``st.graphviz_chart``), and the
sentences that explain one step of a forward or backward pass.

Layout is Graphviz's ``dot`` engine, left to right: inputs on the left, the result on the
right.  Inputs and constants are plain labels; operations are circles with their symbol
(and the name of the value they produce underneath: t, z, v₃, ...).  Every edge carries the
value flowing forward (dark, first line) and, once the backward pass has reached it, the
gradient flowing back (red, second line), as in the notes' figures.  The output gets one
more edge to a "result" label, which carries the seed ∂out/∂out = 1 back.

No number ever reaches the drawing as NaN or inf: they are written "undefined" / "∞".
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping

import numpy as np

from engine.graph import OPS, Backward, Edge, Graph, Reveal, Step
from texts import t

__all__ = ["FORWARD_COLOR", "GRADIENT_COLOR", "format_number", "graph_css", "graph_dot",
           "node_names", "step_lines"]

FORWARD_COLOR = "#1F2937"
GRADIENT_COLOR = "#C00000"
PATH_COLOR = "#7B3294"
CONST_COLOR = "#6B7280"
CURRENT_FORWARD_FILL = "#FFE08A"
CURRENT_BACKWARD_FILL = "#F9C6C6"
OP_FILL = "#EEF2F7"
SINK = "__result__"
FONT_SIZE = 24   # Graphviz points = SVG user units; see graph_css


def graph_css(font_size: int = FONT_SIZE) -> str:
    """CSS that gives the drawing's text the sizes Graphviz laid it out with.

    Streamlit's own style sets every SVG text of a Graphviz chart to about 10 px, which
    overrides the sizes in the SVG (presentation attributes lose to any CSS rule): the
    labels then shrink inside the space laid out for them.  These rules restore them.
    In a narrow window (browser zoom) the drawing keeps at least 680 px of width and
    scrolls sideways, rather than shrinking its labels below reading size (the notes'
    graphs are about 900 px wide as laid out)."""
    chart = '[data-testid="stGraphVizChart"] svg'
    return ('<style>[data-testid="stGraphVizChart"]{overflow-x:auto}'
            f'{chart}{{min-width:680px}}'
            f"{chart} g.node text {{font-size: {font_size}px !important;}}"
            f"{chart} g.edge text {{font-size: {font_size - 2}px !important;}}"
            f"{chart} g.op text:nth-of-type(1) {{font-size: {font_size + 10}px !important;}}"
            f"{chart} g.op text:nth-of-type(2) {{font-size: {font_size - 4}px !important;}}"
            "</style>")
_SUPERSCRIPTS = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def format_number(value, digits: int = 4) -> str:
    """A readable number: 220, 2.2, 110, 0.002473, 1.2e-7; 'undefined' for NaN."""
    v = float(np.asarray(value, dtype=float).reshape(-1)[0])
    if math.isnan(v):
        return t("graph_viz.undefined")
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == 0:
        return "0"
    if 1e-4 <= abs(v) < 1e6:
        text = f"{v:.{digits}g}"
        if "e" not in text:
            return text.replace("-", "−")
    mantissa, exponent = f"{v:.{max(digits - 1, 1)}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPTS)}".replace("-", "−")


def _exponent_symbol(c: float) -> str:
    text = f"{c:g}"
    if c == int(c) and 0 <= c <= 9:
        return "x" + text.translate(_SUPERSCRIPTS)
    return f"x^{text}"


def node_names(graph: Graph, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """What each node is called in drawings and sentences: ``labels`` first, then the
    node's own label, then v₁, v₂, … for the unnamed intermediate values in order."""
    labels = labels or {}
    names, k = {}, 0
    for n in graph.nodes:
        if n.key in labels:
            names[n.key] = labels[n.key]
        elif n.label:
            names[n.key] = n.label
        else:
            k += 1
            names[n.key] = f"v{str(k).translate(_SUBSCRIPTS)}"
    return names


def _symbol(node) -> str:
    if node.op == "powc":
        return _exponent_symbol(node.value)
    return OPS[node.op].symbol


def _q(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _h(text: str) -> str:
    return html.escape(str(text), quote=True)


def _edge_label(forward: str | None, grad: str | None) -> str:
    rows = []
    if forward is not None:
        rows.append(f'<font color="{FORWARD_COLOR}">{_h(forward)}</font>')
    if grad is not None:
        rows.append(f'<font color="{GRADIENT_COLOR}"><b>{_h(grad)}</b></font>')
    return "<" + "<br/>".join(rows) + ">" if rows else '""'


def graph_dot(graph: Graph, values: Mapping[str, np.ndarray], back: Backward, shown: Reveal,
              *, names: Mapping[str, str], result_label: str,
              highlight: Iterable[Edge] = (), font_size: int = FONT_SIZE) -> str:
    """DOT text of ``graph`` as it stands after the steps in ``shown``.

    ``names``: display name of every node (:func:`node_names`); ``highlight``: edges drawn
    thick and purple (the paths of one gradient).
    """
    highlight = set(highlight)
    current = shown.current
    uses: dict[str, int] = {}
    for e in graph.edges:
        uses[e.src] = uses.get(e.src, 0) + 1
    lines = [
        "digraph G {",
        "  rankdir=LR; bgcolor=transparent; nodesep=0.3; ranksep=0.7; pad=0.1;",
        f'  node [fontname="Helvetica" fontsize={font_size}];',
        f'  edge [fontname="Helvetica" fontsize={font_size - 2} color="#4B5563" '
        'arrowsize=0.8 penwidth=1.6];',
    ]
    for n in graph.nodes:
        name = names[n.key]
        if n.op == "input":
            rows = [f"<b>{_h(name)}</b>"]
            if uses.get(n.key, 0) > 1 and n.key in shown.grads:
                rows.append(f'<font color="{GRADIENT_COLOR}">∂/∂{_h(name)} = '
                            f'{_h(format_number(back.grad[n.key]))}</font>')
            lines.append(f'  {_q(n.key)} [shape=plaintext label=<{"<br/>".join(rows)}>];')
        elif n.op == "const":
            lines.append(f'  {_q(n.key)} [shape=plaintext fontcolor="{CONST_COLOR}" '
                         f'label=<{_h(name)}>];')
        else:
            fill = OP_FILL
            if current is not None and current.node == n.key:
                fill = CURRENT_FORWARD_FILL if current.phase == "forward" \
                    else CURRENT_BACKWARD_FILL
            label = (f'<<font point-size="{font_size + 10}"><b>{_h(_symbol(n))}</b></font>'
                     f'<br/><font point-size="{font_size - 4}" color="{CONST_COLOR}">'
                     f'{_h(name)}</font>>')
            width = 1.1 if len(_symbol(n)) <= 2 else 1.4
            lines.append(f'  {_q(n.key)} [shape=circle style=filled fillcolor="{fill}" '
                         f'color="#374151" penwidth=1.6 fixedsize=true width={width} '
                         f'class="op" label={label}];')
    lines.append(f'  {_q(SINK)} [shape=plaintext label=<<b>{_h(result_label)}</b>>];')
    for e in graph.edges:
        forward = format_number(values[e.src]) if e.src in shown.values else None
        grad = None
        if e in shown.edges:
            grad = format_number(back.edge_grad[e])
        style = (f' color="{PATH_COLOR}" penwidth=4' if e in highlight else "")
        lines.append(f"  {_q(e.src)} -> {_q(e.dst)} [label={_edge_label(forward, grad)}"
                     f"{style}];")
    out = graph.output
    forward = format_number(values[out]) if out in shown.values else None
    seed = format_number(back.grad[out]) if out in shown.grads and out in back.grad else None
    lines.append(f"  {_q(out)} -> {_q(SINK)} [label={_edge_label(forward, seed)}];")
    lines.append("}")
    return "\n".join(lines)


def step_lines(graph: Graph, values: Mapping[str, np.ndarray], back: Backward,
               step: Step | None, names: Mapping[str, str], output_name: str) -> list[str]:
    """Markdown sentences (with inline LaTeX for the local derivative formulas) saying what
    the step just taken computed, with its numbers."""
    if step is None:
        return [t("graph_viz.step_start")]
    node = graph.node(step.node)
    op = OPS[node.op]
    name = names[node.key]
    letters = ", ".join(f"{chr(97 + i)} = {names[k]}" for i, k in enumerate(node.inputs))
    if step.phase == "forward":
        inputs = ", ".join(f"{chr(97 + i)} = {names[k]} = {format_number(values[k])}"
                           for i, k in enumerate(node.inputs))
        if node.op == "add":
            formula = " + ".join(chr(97 + i) for i in range(len(node.inputs)))
        elif node.op == "powc":
            formula = op.latex.replace("c", f"{node.value:g}")
        else:
            formula = op.latex
        return [t("graph_viz.step_forward", name=name, symbol=_symbol(node), inputs=inputs,
                  formula=formula, value=format_number(values[node.key]))]
    upstream = format_number(back.grad[node.key])
    lines = [t("graph_viz.step_backward", name=name, out=output_name, upstream=upstream,
               letters=letters)]
    need = graph.needs_grad()
    for slot, src in enumerate(node.inputs):
        edge = Edge(src, node.key, slot)
        if not need[src]:
            lines.append(t("graph_viz.step_no_grad", src=names[src]))
            continue
        local_formula = op.local_latex[min(slot, len(op.local_latex) - 1)]
        if node.op == "powc":
            local_formula = local_formula.replace("c", f"{node.value:g}")
        lines.append(t("graph_viz.step_edge", src=names[src], name=name, out=output_name,
                       local=local_formula, local_value=format_number(back.local[edge]),
                       upstream=upstream, grad=format_number(back.edge_grad[edge])))
    return lines
