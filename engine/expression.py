"""Typed formulas f(x, y) -> :class:`engine.surfaces.Surface` with an exact gradient.

The text is never evaluated as code.  A small tokenizer and recursive-descent parser written
here accept only this grammar, and build the SymPy expression node by node::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-") unary | power
    power  := atom (("^" | "**") unary)?          # right-associative: 2^3^2 = 2^(3^2)
    atom   := number | "x" | "y" | "pi" | "e" | function "(" expr ")" | "(" expr ")"

Functions: sin cos tan exp log (alias ln) sqrt abs tanh sinh cosh arctan (alias atan).
The gradient (∂f/∂x, ∂f/∂y) is differentiated symbolically by ``sympy.diff`` and both f and
the gradient are compiled with ``sympy.lambdify`` from the SymPy tree (our generated code,
never the user's text).  Limits keep the work per formula small: at most 200 characters,
nesting depth 20, numbers up to 1e6, constant exponents up to 10 in magnitude.

Critical points inside the domain are located numerically (Newton from a 31×31 grid,
``engine.surfaces.critical_points``) and listed as the surface's ``minima``.

Where f is undefined (log of a negative number, division by zero, ...) f and grad return
NaN or ±inf silently, so the descent engine can flag the run as diverged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import sympy

from engine.surfaces import Surface, _lrs, _split, critical_points

__all__ = ["FUNCTIONS", "LIMITS", "ExpressionError", "Syntax", "parse", "parse_syntax"]

MAX_LENGTH = 200
MAX_DEPTH = 20
MAX_NUMBER = 1e6
MAX_EXPONENT = 10.0
MAX_NODES = 2000  # SymPy nodes in f and its gradient together
LIMITS = MappingProxyType({
    "length": MAX_LENGTH, "depth": MAX_DEPTH, "number": MAX_NUMBER, "exponent": MAX_EXPONENT,
    "nodes": MAX_NODES,
})

X, Y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


class _CheapHyperbolic:
    """SymPy's sinh/cosh/tanh answer "is this real/positive/zero?" for an argument that is
    not provably real (x^y, sqrt(x), log(x): negative x) through ``as_real_imag`` and
    polynomial gcds, once per nesting level and again for every sub-question: measured,
    ``tanh(`` nested 10 deep around ``x^y`` did not differentiate within 10 s.  These
    subclasses (same names, so printing and lambdify are unchanged) answer only from the
    argument's realness, and differentiate without re-evaluating the function."""

    def _real_arg(self) -> bool:
        return bool(self.args[0].is_extended_real)

    def _eval_is_extended_real(self):
        return True if self._real_arg() else None

    def _eval_is_real(self):
        return True if self.args[0].is_real else None

    def _eval_is_finite(self):
        return True if self.args[0].is_real else None

    def _eval_is_zero(self):
        return None

    def _eval_is_positive(self):
        return None

    def _eval_is_nonnegative(self):
        return None

    def _eval_is_negative(self):
        return None

    def _eval_is_extended_positive(self):
        return None

    def _eval_is_extended_negative(self):
        return None


class sinh(_CheapHyperbolic, sympy.sinh):  # noqa: N801 - the name is what gets printed
    def fdiff(self, argindex=1):
        return cosh(self.args[0], evaluate=False)  # d/du sinh u = cosh u


class cosh(_CheapHyperbolic, sympy.cosh):  # noqa: N801
    def fdiff(self, argindex=1):
        return sinh(self.args[0], evaluate=False)  # d/du cosh u = sinh u


class tanh(_CheapHyperbolic, sympy.tanh):  # noqa: N801
    def fdiff(self, argindex=1):
        return 1 - self**2  # d/du tanh u = 1 − tanh² u
VARIABLES = {"x": X, "y": Y}
CONSTANTS = {"pi": sympy.pi, "e": sympy.E}
FUNCTIONS = MappingProxyType({
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "exp": sympy.exp,
    "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt, "abs": sympy.Abs,
    "tanh": tanh, "sinh": sinh, "cosh": cosh,
    "arctan": sympy.atan, "atan": sympy.atan,
})
_KNOWN = ", ".join(sorted(FUNCTIONS))


class ExpressionError(ValueError):
    """A formula outside the accepted grammar or limits; the message is meant for students."""


@dataclass(frozen=True)
class Syntax:
    """One node of a typed formula's syntax tree, exactly as typed (``x - y`` stays a
    subtraction, ``x*x`` a product of two ``x``: SymPy would rewrite both).

    kind: "number" (text: the digits as typed), "variable" (x, y), "constant" (pi, e),
    "add", "sub", "mul", "div", "pow" (two args), "neg" (one arg), "call" (text: the
    function name as typed, one arg).  pos: where the node starts in the text.
    """

    kind: str
    text: str
    args: tuple[Syntax, ...] = ()
    pos: int = 0


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "lparen", "rparen", "end"; "bad" carries an error
    text: str
    pos: int


_SINGLE = {"+": "op", "-": "op", "*": "op", "/": "op", "^": "op", "(": "lparen", ")": "rparen"}
_HINTS = {
    ",": "commas are not allowed (functions take one argument; write decimals with a '.')",
    ";": "only one formula, no ';'",
    ".": "a '.' must be part of a number like 0.5",
    "=": "type only the right-hand side, e.g. x^2 + y^2 (no '=')",
    "[": "use round brackets ( ) only", "]": "use round brackets ( ) only",
    "{": "use round brackets ( ) only", "}": "use round brackets ( ) only",
    "'": "text in quotes is not allowed", '"': "text in quotes is not allowed",
    "%": "'%' is not an operator here", "!": "'!' is not an operator here",
}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
        elif ch == "*" and text.startswith("**", i):
            tokens.append(_Token("op", "^", i))
            i += 2
        elif ch in _SINGLE:
            tokens.append(_Token(_SINGLE[ch], ch, i))
            i += 1
        elif ch.isascii() and (ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit())):
            start = i
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            if i < n and text[i] == ".":
                i += 1
                while i < n and text[i].isascii() and text[i].isdigit():
                    i += 1
            # Scientific notation 1e-3: only when digits follow, so "2e" is 2 then e.
            if i < n and text[i] in "eE":
                j = i + 1
                if j < n and text[j] in "+-":
                    j += 1
                if j < n and text[j].isascii() and text[j].isdigit():
                    while j < n and text[j].isascii() and text[j].isdigit():
                        j += 1
                    i = j
            tokens.append(_Token("number", text[start:i], start))
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] == "_"):
                i += 1
            tokens.append(_Token("name", text[start:i], start))
        else:
            hint = _HINTS.get(ch)
            if hint is None:
                shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
                if not ch.isascii():
                    hint = "use plain keyboard characters: x, y, digits, + - * / ^ ( )"
                else:
                    hint = "use x, y, numbers, + - * / ^ and ( )"
                message = f"Unexpected character {shown} at position {i}: {hint}"
            else:
                message = f"Unexpected {ch!r} at position {i}: {hint}"
            # Reported when the parser reaches it, so errors come in reading order.
            tokens.append(_Token("bad", message, i))
            return tokens
    tokens.append(_Token("end", "", n))
    return tokens


def _number(token: _Token) -> sympy.Expr:
    text = token.text
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > 20:
        raise ExpressionError(
            f"Number {text!r} at position {token.pos} is out of range: "
            f"write numbers between 1e-20 and {MAX_NUMBER:g} in size")
    value = float(text)
    if value > MAX_NUMBER:
        raise ExpressionError(
            f"Number {text!r} at position {token.pos} is too large: the limit is {MAX_NUMBER:g}")
    if "." in mantissa or exponent:
        return sympy.Rational(text)  # exact decimal: 0.1 stays 1/10
    return sympy.Integer(int(text))


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind == "bad":
            raise ExpressionError(token.text)
        return token

    def advance(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"The formula is nested too deeply at position {pos} "
                f"(more than {MAX_DEPTH} levels of brackets, functions or powers)")

    def parse(self) -> tuple[sympy.Expr, Syntax]:
        result = self.expr()
        token = self.token
        if token.kind == "rparen":
            raise ExpressionError(
                f"Unmatched closing parenthesis ')' at position {token.pos}")
        if token.kind != "end":
            previous = self.tokens[self.index - 1]
            raise ExpressionError(
                f"Missing operator between {previous.text!r} and {token.text!r} at position "
                f"{token.pos}: write {previous.text}*{token.text} to multiply")
        return result

    # Every rule returns the SymPy expression and the syntax tree of the same text.

    def expr(self) -> tuple[sympy.Expr, Syntax]:
        result, tree = self.term()
        while self.token.kind == "op" and self.token.text in "+-":
            op = self.advance()
            right, right_tree = self.term()
            result = result + right if op.text == "+" else result - right
            tree = Syntax("add" if op.text == "+" else "sub", op.text, (tree, right_tree),
                          tree.pos)
        return result, tree

    def term(self) -> tuple[sympy.Expr, Syntax]:
        result, tree = self.unary()
        while self.token.kind == "op" and self.token.text in "*/":
            op = self.advance()
            right, right_tree = self.unary()
            result = result * right if op.text == "*" else result / right
            tree = Syntax("mul" if op.text == "*" else "div", op.text, (tree, right_tree),
                          tree.pos)
        return result, tree

    def unary(self) -> tuple[sympy.Expr, Syntax]:
        if self.token.kind == "op" and self.token.text in "+-":
            op = self.advance()
            operand, tree = self.unary()
            if op.text == "-":
                return -operand, Syntax("neg", "-", (tree,), op.pos)
            return operand, tree
        return self.power()

    def power(self) -> tuple[sympy.Expr, Syntax]:
        base, tree = self.atom()
        if self.token.kind == "op" and self.token.text == "^":
            op = self.advance()
            self.enter(op.pos)
            exponent, exponent_tree = self.unary()
            self.depth -= 1
            return (_power(base, exponent, op.pos),
                    Syntax("pow", "^", (tree, exponent_tree), tree.pos))
        return base, tree

    def atom(self) -> tuple[sympy.Expr, Syntax]:
        token = self.token
        if token.kind == "number":
            self.advance()
            return _number(token), Syntax("number", token.text, (), token.pos)
        if token.kind == "lparen":
            self.advance()
            self.enter(token.pos)
            inner = self.expr()
            self.expect_close(token)
            self.depth -= 1
            return inner
        if token.kind == "name":
            return self.name()
        if token.kind == "end":
            if self.index == 0:
                raise ExpressionError("The formula is empty: type f(x, y), e.g. x^2 + y^2")
            raise ExpressionError(
                f"The formula ends too early at position {token.pos}: something is missing "
                f"after {self.tokens[self.index - 1].text!r}")
        if token.kind == "rparen":
            raise ExpressionError(
                f"Unexpected ')' at position {token.pos}: empty brackets or a missing value")
        raise ExpressionError(
            f"Unexpected {token.text!r} at position {token.pos}: a number, x, y or '(' "
            f"should come here")

    def expect_close(self, opening: _Token) -> None:
        token = self.token
        if token.kind == "rparen":
            self.advance()
            return
        if token.kind == "end":
            raise ExpressionError(
                f"Missing closing parenthesis for the '(' at position {opening.pos}")
        previous = self.tokens[self.index - 1]
        raise ExpressionError(
            f"Missing operator between {previous.text!r} and {token.text!r} at position "
            f"{token.pos}: write {previous.text}*{token.text} to multiply")

    def name(self) -> tuple[sympy.Expr, Syntax]:
        token = self.advance()
        word = token.text
        # Raw peek: an unknown name is reported before any bad character after it.
        is_call = self.tokens[self.index].kind == "lparen"
        if word in FUNCTIONS:
            if not is_call:
                raise ExpressionError(
                    f"{word!r} at position {token.pos} is a function: write {word}(...)")
            opening = self.advance()
            self.enter(opening.pos)
            if self.token.kind == "rparen":
                raise ExpressionError(
                    f"{word}() at position {token.pos} needs something inside the brackets")
            argument, tree = self.expr()
            self.expect_close(opening)
            self.depth -= 1
            return (FUNCTIONS[word](argument, evaluate=False),
                    Syntax("call", word, (tree,), token.pos))
        if word in VARIABLES or word in CONSTANTS:
            if is_call:
                raise ExpressionError(
                    f"{word!r} at position {token.pos} is not a function: write {word}*(...) "
                    f"to multiply")
            kind = "variable" if word in VARIABLES else "constant"
            return VARIABLES.get(word, CONSTANTS.get(word)), Syntax(kind, word, (), token.pos)
        if is_call:
            raise ExpressionError(
                f"Only x and y are allowed; {word!r} at position {token.pos} is not a function "
                f"I know (known: {_KNOWN})")
        lower = word.lower()
        if lower in VARIABLES or lower in CONSTANTS or lower in FUNCTIONS:
            raise ExpressionError(
                f"Unknown name {word!r} at position {token.pos}: names are lower case, "
                f"write {lower}")
        raise ExpressionError(
            f"Unknown name {word!r} at position {token.pos}: use x and y "
            f"(and the constants pi and e)")


def _power(base: sympy.Expr, exponent: sympy.Expr, pos: int) -> sympy.Expr:
    """base^exponent, refusing constant exponents beyond ±10 and astronomically large numbers."""
    if not exponent.free_symbols:
        value = complex(sympy.N(exponent, 15))
        if value.imag != 0.0 or not math.isfinite(value.real):
            raise ExpressionError(f"The exponent at position {pos} is not a real number")
        if abs(value.real) > MAX_EXPONENT:
            raise ExpressionError(
                f"The exponent at position {pos} is too large ({value.real:.6g}): exponents "
                f"must be between -{MAX_EXPONENT:g} and {MAX_EXPONENT:g}")
        if not base.free_symbols:
            size = complex(sympy.N(base, 15))
            if size != 0 and math.log10(abs(size)) * abs(value.real) > 300:
                raise ExpressionError(f"The power at position {pos} gives a number too large")
    return base**exponent


def _node_count(expr: sympy.Expr, limit: int) -> int:
    count = 0
    for _ in sympy.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def _compile(expr: sympy.Expr):
    """lambdify(expr) wrapped to return float64 arrays broadcast to the input's shape."""
    code = sympy.lambdify((X, Y), expr, modules="numpy")

    def evaluate(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            value = np.asarray(code(x, y))
            if np.iscomplexobj(value):  # cannot happen for real trees; never leak complex
                value = np.where(value.imag == 0, value.real, np.nan)
        return np.array(np.broadcast_to(value, np.shape(x)), dtype=np.float64)

    return evaluate


def _validate_domain(domain) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        (x0, x1), (y0, y1) = domain
        x0, x1, y0, y1 = float(x0), float(x1), float(y0), float(y1)
    except (TypeError, ValueError) as exc:
        raise ExpressionError("domain must be ((xmin, xmax), (ymin, ymax))") from exc
    if not all(math.isfinite(v) and abs(v) <= MAX_NUMBER for v in (x0, x1, y0, y1)):
        raise ExpressionError("domain limits must be finite numbers up to 1e6 in size")
    if not (x0 < x1 and y0 < y1):
        raise ExpressionError("domain must have xmin < xmax and ymin < ymax")
    return (x0, x1), (y0, y1)


def _start_and_gd_rate(f, grad, domain) -> tuple[tuple[float, float] | None, float]:
    """Start at the highest finite point of an interior 21×21 grid (so the race runs downhill);
    GD lr = 0.02·width / (90th percentile of |∇f| on the grid), clipped to [1e-6, 1].
    Start None: f is not finite anywhere on the grid."""
    (x0, x1), (y0, y1) = domain
    gx, gy = np.meshgrid(np.linspace(x0 + 0.1 * (x1 - x0), x1 - 0.1 * (x1 - x0), 21),
                         np.linspace(y0 + 0.1 * (y1 - y0), y1 - 0.1 * (y1 - y0), 21))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    values = f(grid)
    with np.errstate(all="ignore"):  # huge gradients overflow the norm to inf: skipped below
        norms = np.linalg.norm(grad(grid), axis=-1)
    ok = np.isfinite(values) & np.isfinite(norms)
    width = max(x1 - x0, y1 - y0)
    if not np.isfinite(values).any():
        return None, 0.0
    if not ok.any():
        return (0.5 * (x0 + x1), 0.5 * (y0 + y1)), 0.01
    start = grid[ok][np.argmax(values[ok])]
    scale = float(np.percentile(norms[ok], 90))
    lr = 0.01 if scale <= 0 else float(np.clip(0.02 * width / scale, 1e-6, 1.0))
    return (float(start[0]), float(start[1])), lr


def _check_text(text) -> None:
    if not isinstance(text, str):
        raise ExpressionError("The formula must be text, e.g. 'x^2 + y^2'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"The formula is too long ({len(text)} characters; the limit is {MAX_LENGTH})")
    if not text.strip():
        raise ExpressionError("The formula is empty: type f(x, y), e.g. x^2 + y^2")


def _read(text: str) -> tuple[sympy.Expr, Syntax]:
    """The checked SymPy expression and syntax tree of ``text`` (ExpressionError otherwise)."""
    _check_text(text)
    expr, tree = _Parser(text).parse()
    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise ExpressionError(
            "The formula divides by zero or takes log(0) in a constant part, so it has no "
            "value anywhere")
    if expr.has(sympy.I):
        raise ExpressionError(
            "The formula takes sqrt or log of a negative constant, so it is not a real "
            "number")
    return expr, tree


def _guarded(work):
    """Run ``work()``, turning SymPy's own refusals into an ExpressionError for students."""
    try:
        return work()
    except ExpressionError:
        raise
    except RecursionError as exc:
        raise ExpressionError("The formula is nested too deeply: please simplify it") from exc
    except Exception as exc:  # noqa: BLE001
        # SymPy refused something the grammar allows; say so instead of crashing the page.
        raise ExpressionError(f"This formula cannot be used ({type(exc).__name__})") from exc


def parse_syntax(text: str) -> Syntax:
    """The syntax tree of a typed formula, as typed: same grammar, limits and messages as
    :func:`parse` (the computational-graph page draws this tree)."""
    return _guarded(lambda: _read(text))[1]


def parse(text: str, domain=((-2.0, 2.0), (-2.0, 2.0))) -> Surface:
    """Turn a typed formula f(x, y) into a :class:`Surface` with an exact symbolic gradient.

    Raises :class:`ExpressionError` (a ``ValueError``) with a message naming the problem and
    its position for anything outside the grammar or limits in this module's docstring.
    """
    _check_text(text)
    box = _validate_domain(domain)

    def build():
        expr, _ = _read(text)
        gradient = (sympy.diff(expr, X), sympy.diff(expr, Y))
        if sum(_node_count(e, MAX_NODES) for e in (expr, *gradient)) > MAX_NODES:
            raise ExpressionError("The formula is too complicated: please shorten it")
        return expr, gradient, _compile(expr), _compile(gradient[0]), _compile(gradient[1])

    expr, gradient, f_code, gx_code, gy_code = _guarded(build)

    def f(xy):
        x, y = _split(xy)
        return f_code(x, y)

    def grad(xy):
        x, y = _split(xy)
        return np.stack([gx_code(x, y), gy_code(x, y)], axis=-1)

    start, gd_rate = _start_and_gd_rate(f, grad, box)
    if start is None:
        raise ExpressionError(
            "The formula has no finite value anywhere in the domain (for example log or "
            "sqrt of a negative number, or division by zero): check the formula or the domain")
    minima = critical_points(f, grad, box, grid=31, max_points=20)
    (x0, x1), (y0, y1) = box
    normalized = str(expr)
    return Surface(
        key="custom",
        title=normalized,
        f=f,
        grad=grad,
        domain=box,
        minima=minima,
        start=start,
        suggested_lr=_lrs(max(x1 - x0, y1 - y0), gd=gd_rate),
        log_color=False,
        story="your own formula",
        default_steps=300,
        unbounded_below=False,
        formula=normalized,
        params=MappingProxyType({"gradient_x": str(gradient[0]),
                                 "gradient_y": str(gradient[1])}),
    )
