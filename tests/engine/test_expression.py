"""Typed formulas: values and gradients against hand-written ones, hostile input refused."""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expression import FUNCTIONS, LIMITS, ExpressionError, parse
from engine.surfaces import OPTIMIZER_KEYS

RNG = np.random.default_rng(0)
POINTS = RNG.uniform(-1.9, 1.9, size=(50, 2))
POSITIVE = RNG.uniform(0.2, 1.9, size=(50, 2))


def check(text, f, gx, gy, points=POINTS):
    s = parse(text)
    x, y = points[:, 0], points[:, 1]
    np.testing.assert_allclose(s.f(points), f(x, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.grad(points)[:, 0], gx(x, y), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.grad(points)[:, 1], gy(x, y), rtol=1e-12, atol=1e-12)
    return s


@pytest.mark.parametrize(
    "text, f, gx, gy",
    [
        ("x^2 + y^2", lambda x, y: x**2 + y**2, lambda x, y: 2 * x, lambda x, y: 2 * y),
        ("x**2 + 10*y**2", lambda x, y: x**2 + 10 * y**2, lambda x, y: 2 * x,
         lambda x, y: 20 * y),
        ("(1 - x)^2 + 100*(y - x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
         lambda x, y: -2 * (1 - x) - 400 * x * (y - x**2), lambda x, y: 200 * (y - x**2)),
        ("x^2 - y^2", lambda x, y: x**2 - y**2, lambda x, y: 2 * x, lambda x, y: -2 * y),
        ("sin(x)*cos(y)", lambda x, y: np.sin(x) * np.cos(y),
         lambda x, y: np.cos(x) * np.cos(y), lambda x, y: -np.sin(x) * np.sin(y)),
        ("exp(-(x^2 + y^2)/2)", lambda x, y: np.exp(-(x**2 + y**2) / 2),
         lambda x, y: -x * np.exp(-(x**2 + y**2) / 2),
         lambda x, y: -y * np.exp(-(x**2 + y**2) / 2)),
        ("-x^2", lambda x, y: -(x**2), lambda x, y: -2 * x, lambda x, y: 0 * y),
        ("2^-x", lambda x, y: 2.0**-x, lambda x, y: -np.log(2) * 2.0**-x, lambda x, y: 0 * y),
        ("2^3^0.5*x", lambda x, y: 2 ** (3**0.5) * x, lambda x, y: 2 ** (3**0.5) + 0 * x,
         lambda x, y: 0 * y),
        ("x/y^2", lambda x, y: x / y**2, lambda x, y: 1 / y**2, lambda x, y: -2 * x / y**3),
        ("1e-3*x + 2.5e1*y", lambda x, y: 1e-3 * x + 25 * y, lambda x, y: 1e-3 + 0 * x,
         lambda x, y: 25 + 0 * y),
        ("pi*x + e*y", lambda x, y: np.pi * x + np.e * y, lambda x, y: np.pi + 0 * x,
         lambda x, y: np.e + 0 * y),
        ("e^x", lambda x, y: np.exp(x), lambda x, y: np.exp(x), lambda x, y: 0 * y),
        ("x - -y", lambda x, y: x + y, lambda x, y: 1 + 0 * x, lambda x, y: 1 + 0 * y),
        ("8/2/2*x", lambda x, y: 2 * x, lambda x, y: 2 + 0 * x, lambda x, y: 0 * y),
    ],
)
def test_formulas_match_hand_written_gradients(text, f, gx, gy):
    check(text, f, gx, gy)


# Every whitelisted function with its hand-written derivative, on points where it is defined.
CATALOGUE = {
    "sin": (np.sin, np.cos),
    "cos": (np.cos, lambda u: -np.sin(u)),
    "tan": (np.tan, lambda u: 1 / np.cos(u) ** 2),
    "exp": (np.exp, np.exp),
    "log": (np.log, lambda u: 1 / u),
    "ln": (np.log, lambda u: 1 / u),
    "sqrt": (np.sqrt, lambda u: 0.5 / np.sqrt(u)),
    "abs": (np.abs, np.sign),
    "tanh": (np.tanh, lambda u: 1 - np.tanh(u) ** 2),
    "sinh": (np.sinh, np.cosh),
    "cosh": (np.cosh, np.sinh),
    "arctan": (np.arctan, lambda u: 1 / (1 + u**2)),
    "atan": (np.arctan, lambda u: 1 / (1 + u**2)),
}


def test_catalogue_covers_every_function():
    assert set(CATALOGUE) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_function_value_and_chain_rule(name):
    fn, dfn = CATALOGUE[name]
    # u = x·y/2 + 0.3 (x, y > 0 keeps log/sqrt defined and tan away from its poles)
    check(f"{name}(x*y/2 + 0.3)", lambda x, y: fn(x * y / 2 + 0.3),
          lambda x, y: dfn(x * y / 2 + 0.3) * y / 2, lambda x, y: dfn(x * y / 2 + 0.3) * x / 2,
          points=POSITIVE * 0.6)


def test_constant_and_one_variable_formulas_broadcast():
    for text, value in [("3", 3.0), ("pi", math.pi), ("2*3 - 1", 5.0), ("x - x + 1", 1.0)]:
        s = parse(text)
        pts = POINTS.reshape(5, 10, 2)
        assert s.f(pts).shape == (5, 10) and s.f(pts).dtype == np.float64
        np.testing.assert_array_equal(s.f(pts), value)
        np.testing.assert_array_equal(s.grad(pts), 0.0)
        assert s.grad(pts).shape == (5, 10, 2)
    s = parse("x^3")
    g = s.grad(POINTS)
    np.testing.assert_allclose(g[:, 0], 3 * POINTS[:, 0] ** 2)
    np.testing.assert_array_equal(g[:, 1], 0.0)
    np.testing.assert_allclose(parse("y").grad(np.zeros((4, 2))), [[0.0, 1.0]] * 4)


def test_single_point_and_input_not_modified():
    s = parse("x*y + y")
    p = np.array([2.0, 3.0])
    before = p.copy()
    assert s.f(p) == pytest.approx(9.0)
    np.testing.assert_allclose(s.grad(p), [3.0, 3.0])
    np.testing.assert_array_equal(p, before)


def test_undefined_points_give_nan_or_inf_silently():
    pts = np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        for text in ["log(x)", "sqrt(x)", "1/x", "x/y", "log(x*y)", "exp(1000*x)", "y^-2"]:
            s = parse(text)
            v, g = s.f(pts), s.grad(pts)
            assert v.shape == (3,) and g.shape == (3, 2)
            assert not np.isfinite(v).all() or not np.isfinite(g).all(), text
            assert v.dtype == np.float64 and g.dtype == np.float64
    assert np.isnan(parse("log(x)").f(np.array([-1.0, 0.0])))
    assert np.isinf(parse("1/x").f(np.array([0.0, 1.0])))


def test_surface_fields():
    s = parse("x^2 + 3*y^2", domain=((-1, 3), (0, 2)))
    assert s.domain == ((-1.0, 3.0), (0.0, 2.0))
    (x0, x1), (y0, y1) = s.domain
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1
    assert set(s.suggested_lr) == set(OPTIMIZER_KEYS)
    assert all(0 < v < 10 for v in s.suggested_lr.values())
    assert s.log_color is False
    assert [(p.x, p.y, p.f, p.kind) for p in s.minima] == [(0.0, 0.0, 0.0, "global")]
    assert s.title == "x**2 + 3*y**2"
    # GD with the suggested rate goes downhill and stays finite on a simple bowl.
    p = np.array(s.start)
    for _ in range(300):
        p = p - s.suggested_lr["gd"] * s.grad(p)
    assert s.f(p) < 0.5 * s.f(np.array(s.start)) and np.isfinite(p).all()


def test_steeper_formula_gets_smaller_gd_rate():
    gentle = parse("x^2 + y^2").suggested_lr["gd"]
    steep = parse("100*(x^2 + y^2)").suggested_lr["gd"]
    assert steep == pytest.approx(gentle / 100, rel=1e-9)


@pytest.mark.parametrize("domain", [((1, 0), (0, 1)), ((0, 1),), "box", ((0, np.inf), (0, 1))])
def test_bad_domain(domain):
    with pytest.raises(ExpressionError, match="domain"):
        parse("x", domain=domain)


HOSTILE = {
    "x.__class__": r"'\.' at position 1",
    "x.__class__.__bases__": r"position 1",
    "__import__('os')": r"Only x and y are allowed; '__import__' .*not a function I know",
    "__builtins__": r"Unknown name '__builtins__' at position 0",
    "os.system('ls')": r"Unknown name 'os'|'os'",
    "eval('1')": r"'eval' .*not a function I know",
    "exec('x=1')": r"'exec' .*not a function I know",
    "lambda: 1": r"Unknown name 'lambda' at position 0",
    "[x for x in y]": r"'\[' at position 0",
    "import os": r"Unknown name 'import' at position 0",
    "'x'": r"quotes",
    '"x^2"': r"quotes",
    "9**9**9": r"exponent .* too large",
    "x**1000000": r"exponent .* too large",
    "x^11": r"exponent .* too large",
    "x^-11": r"exponent .* too large",
    "2^(5*3)": r"exponent .* too large",
    "x" * 201: r"too long \(201 characters",
    "(" * 25 + "x" + ")" * 25: r"nested too deeply",
    "sin(" * 21 + "x" + ")" * 21: r"nested too deeply",
    "x, y": r"','.*commas",
    "x; y": r"';'",
    "x = 1": r"'='",
    "x²": r"position 1",
    "ｘ + y": r"position 0",  # full-width x
    "х + y": r"position 0",  # Cyrillic х
    "x\u200b+y": r"U\+200B at position 1",
    "x\ny": r"U\+000A at position 1",
    "": r"empty",
    "   ": r"empty",
    "z": r"Unknown name 'z' at position 0: use x and y",
    "x + z": r"Unknown name 'z' at position 4",
    "X + y": r"lower case",
    "sin x": r"'sin' at position 0 is a function",
    "x(y)": r"'x' at position 0 is not a function",
    "2x": r"Missing operator between '2' and 'x'",
    "(x": r"Missing closing parenthesis",
    "x)": r"Unmatched closing parenthesis",
    "x +": r"ends too early",
    "* x": r"position 0",
    "()": r"position 1",
    "sin()": r"needs something inside",
    "1e9*x": r"too large",
    "1e-99999*x": r"out of range",
    "1/0": r"divides by zero",
    "log(0)": r"no finite value anywhere",
    "sqrt(-1)": r"no finite value anywhere",
    "x + log(-1)": r"no finite value anywhere",
    "x @ y": r"'@' at position 2",
    "x % y": r"'%'",
    "{x}": r"round brackets",
    "x if y else 1": r"Missing operator|Unknown name",
    "getattr(x, 'a')": r"'getattr' .*not a function I know",
}


@pytest.mark.parametrize("text", list(HOSTILE), ids=range(len(HOSTILE)))
def test_hostile_input_is_refused_with_a_pointed_message(text):
    with pytest.raises(ExpressionError, match=HOSTILE[text]):
        parse(text)


def test_error_is_a_value_error_and_non_text_is_refused():
    assert issubclass(ExpressionError, ValueError)
    for bad in [None, 3, b"x", ["x"]]:
        with pytest.raises(ExpressionError):
            parse(bad)  # type: ignore[arg-type]


def test_limits_are_exactly_at_the_documented_values():
    assert LIMITS["length"] == 200 and LIMITS["depth"] == 20
    parse("x" + " " * 199)  # 200 characters are fine
    parse("(" * 20 + "x" + ")" * 20)
    parse("x^10 + y^-10 + 1e6")
    with pytest.raises(ExpressionError):
        parse("(" * 21 + "x" + ")" * 21)
    with pytest.raises(ExpressionError):
        parse("1000001")


def test_source_never_evaluates_text():
    source = (Path(__file__).parents[2] / "engine" / "expression.py").read_text()
    for banned in ("eval(", "exec(", "sympify(", "parse_expr(", "compile(", "__import__"):
        assert not re.search(r"(?<![A-Za-z_])" + re.escape(banned), source), banned


# ----------------------------------------------------------------------------- hypothesis

ATOMS = st.sampled_from(["x", "y", "pi", "e", "0", "1", "2.5", "1e-3", "10", "1e6", "0.0"])


def _combine(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^", "**"]), children)
    return st.one_of(
        binary.map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"-{c}"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), children).map(lambda t: f"{t[0]}({t[1]})"),
    )


FORMULAS = st.recursive(ATOMS, _combine, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FORMULAS)
def test_random_whitelisted_formulas_parse_or_raise_expression_error(text):
    try:
        s = parse(text)
    except ExpressionError as exc:
        assert str(exc)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, g = s.f(POINTS[:8]), s.grad(POINTS[:8])
    assert v.shape == (8,) and g.shape == (8, 2)
    assert v.dtype == np.float64 and g.dtype == np.float64


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text):
    try:
        parse(text)
    except ExpressionError:
        pass


def test_critical_points_of_typed_formulas():
    s = parse("(x^2 - 1)^2 + y^2")
    summary = sorted((round(p.x, 9) + 0.0, round(p.y, 9) + 0.0, round(p.f, 9), p.kind)
                     for p in s.minima)
    assert summary == [(-1.0, 0.0, 0.0, "global"), (0.0, 0.0, 1.0, "saddle"),
                       (1.0, 0.0, 0.0, "global")]
    assert [(p.x, p.y, p.kind) for p in parse("x^2 - y^2").minima] == [(0.0, 0.0, "saddle")]
    assert parse("3").minima == () and parse("x + y").minima == ()


def test_formula_undefined_on_the_whole_domain_is_refused():
    with pytest.raises(ExpressionError, match="no finite value anywhere in the domain"):
        parse("log(x)", domain=((-2, -1), (0, 1)))
    s = parse("log(x)", domain=((-2, 2), (0, 1)))  # defined on half the box: accepted
    assert s.start[0] > 0 and np.isfinite(s.f(np.array(s.start)))


def test_nested_hyperbolic_functions_stay_fast_and_exact():
    # SymPy's own tanh made this explode (see engine/expression.py); values still exact.
    text = "tanh(" * 19 + "x^y" + ")" * 19
    s = parse(text)
    pts = POSITIVE[:5]
    u = pts[:, 0] ** pts[:, 1]
    du_dx = pts[:, 1] * pts[:, 0] ** (pts[:, 1] - 1)
    value, slope = u, np.ones_like(u)
    for _ in range(19):
        value = np.tanh(value)
        slope = slope * (1 - value**2)
    np.testing.assert_allclose(s.f(pts), value, rtol=1e-12)
    np.testing.assert_allclose(s.grad(pts)[:, 0], slope * du_dx, rtol=1e-9)
    check("sinh(x*y) + cosh(x - y)", lambda x, y: np.sinh(x * y) + np.cosh(x - y),
          lambda x, y: y * np.cosh(x * y) + np.sinh(x - y),
          lambda x, y: x * np.cosh(x * y) - np.sinh(x - y))
    assert parse("tanh(x) + sinh(y)*cosh(x)").title == "sinh(y)*cosh(x) + tanh(x)"
