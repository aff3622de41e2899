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


# Every message a typed formula can get: code -> English template (str.format fields). The
# pages translate a code with the same fields (assets/i18n: teach.expression.<code>).
MESSAGES = MappingProxyType({
    "char_comma": "Unexpected {char} at position {pos}: commas are not allowed (functions "
                  "take one argument; write decimals with a '.')",
    "char_semicolon": "Unexpected {char} at position {pos}: only one formula, no ';'",
    "char_dot": "Unexpected {char} at position {pos}: a '.' must be part of a number like 0.5",
    "char_equals": "Unexpected {char} at position {pos}: type only the right-hand side, e.g. "
                   "x^2 + y^2 (no '=')",
    "char_bracket": "Unexpected {char} at position {pos}: use round brackets ( ) only",
    "char_quote": "Unexpected {char} at position {pos}: text in quotes is not allowed",
    "char_percent": "Unexpected {char} at position {pos}: '%' is not an operator here",
    "char_bang": "Unexpected {char} at position {pos}: '!' is not an operator here",
    "char_unicode": "Unexpected character {char} at position {pos}: use plain keyboard "
                    "characters: x, y, digits, + - * / ^ ( )",
    "char_other": "Unexpected character {char} at position {pos}: use x, y, numbers, "
                  "+ - * / ^ and ( )",
    "number_range": "Number {text!r} at position {pos} is out of range: write numbers between "
                    "1e-20 and {limit:g} in size",
    "number_large": "Number {text!r} at position {pos} is too large: the limit is {limit:g}",
    "nested_at": "The formula is nested too deeply at position {pos} (more than {depth} levels "
                 "of brackets, functions or powers)",
    "unmatched_close": "Unmatched closing parenthesis ')' at position {pos}",
    "missing_operator": "Missing operator between {left!r} and {right!r} at position {pos}: "
                        "write {left}*{right} to multiply",
    "empty": "The formula is empty: type f(x, y), e.g. x^2 + y^2",
    "ends_early": "The formula ends too early at position {pos}: something is missing after "
                  "{last!r}",
    "empty_brackets": "Unexpected ')' at position {pos}: empty brackets or a missing value",
    "unexpected": "Unexpected {token!r} at position {pos}: a number, x, y or '(' should come "
                  "here",
    "missing_close": "Missing closing parenthesis for the '(' at position {pos}",
    "needs_call": "{word!r} at position {pos} is a function: write {word}(...)",
    "empty_call": "{word}() at position {pos} needs something inside the brackets",
    "not_a_function": "{word!r} at position {pos} is not a function: write {word}*(...) to "
                      "multiply",
    "unknown_function": "Only x and y are allowed; {word!r} at position {pos} is not a "
                        "function I know (known: {known})",
    "lower_case": "Unknown name {word!r} at position {pos}: names are lower case, write "
                  "{lower}",
    "unknown_name": "Unknown name {word!r} at position {pos}: use x and y (and the constants "
                    "pi and e)",
    "exponent_not_real": "The exponent at position {pos} is not a real number",
    "exponent_large": "The exponent at position {pos} is too large ({value:.6g}): exponents "
                      "must be between -{limit:g} and {limit:g}",
    "power_large": "The power at position {pos} gives a number too large",
    "domain_shape": "domain must be ((xmin, xmax), (ymin, ymax))",
    "domain_finite": "domain limits must be finite numbers up to 1e6 in size",
    "domain_order": "domain must have xmin < xmax and ymin < ymax",
    "not_text": "The formula must be text, e.g. 'x^2 + y^2'",
    "too_long": "The formula is too long ({length} characters; the limit is {limit})",
    "no_value": "The formula divides by zero or takes log(0) in a constant part, so it has no "
                "value anywhere",
    "not_real": "The formula takes sqrt or log of a negative constant, so it is not a real "
                "number",
    "nested": "The formula is nested too deeply: please simplify it",
    "refused": "This formula cannot be used ({error})",
    "too_complicated": "The formula is too complicated: please shorten it",
    "nowhere_finite": "The formula has no finite value anywhere in the domain (for example log "
                      "or sqrt of a negative number, or division by zero): check the formula "
                      "or the domain",
})


class ExpressionError(ValueError):
    """A formula outside the accepted grammar or limits; the message is meant for students.

    ``code`` names the message (:data:`MESSAGES`) and ``params`` fills it, so a page can
    say it in another language; ``str(error)`` is the English.
    """

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(MESSAGES[code].format(**params))


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
    error: ExpressionError | None = None


_SINGLE = {"+": "op", "-": "op", "*": "op", "/": "op", "^": "op", "(": "lparen", ")": "rparen"}
_HINTS = {  # a character the grammar refuses -> the message that explains it
    ",": "char_comma", ";": "char_semicolon", ".": "char_dot", "=": "char_equals",
    "[": "char_bracket", "]": "char_bracket", "{": "char_bracket", "}": "char_bracket",
    "'": "char_quote", '"': "char_quote", "%": "char_percent", "!": "char_bang",
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
            code = _HINTS.get(ch)
            shown = repr(ch)
            if code is None:
                shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
                code = "char_other" if ch.isascii() else "char_unicode"
            # Reported when the parser reaches it, so errors come in reading order.
            tokens.append(_Token("bad", ch, i, ExpressionError(code, char=shown, pos=i)))
            return tokens
    tokens.append(_Token("end", "", n))
    return tokens


def _number(token: _Token) -> sympy.Expr:
    text = token.text
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > 20:
        raise ExpressionError("number_range", text=text, pos=token.pos, limit=MAX_NUMBER)
    value = float(text)
    if value > MAX_NUMBER:
        raise ExpressionError("number_large", text=text, pos=token.pos, limit=MAX_NUMBER)
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
            raise token.error
        return token

    def advance(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError("nested_at", pos=pos, depth=MAX_DEPTH)

    def parse(self) -> tuple[sympy.Expr, Syntax]:
        result = self.expr()
        token = self.token
        if token.kind == "rparen":
            raise ExpressionError("unmatched_close", pos=token.pos)
        if token.kind != "end":
            previous = self.tokens[self.index - 1]
            raise ExpressionError("missing_operator", left=previous.text, right=token.text,
                                  pos=token.pos)
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
                raise ExpressionError("empty")
            raise ExpressionError("ends_early", pos=token.pos,
                                  last=self.tokens[self.index - 1].text)
        if token.kind == "rparen":
            raise ExpressionError("empty_brackets", pos=token.pos)
        raise ExpressionError("unexpected", token=token.text, pos=token.pos)

    def expect_close(self, opening: _Token) -> None:
        token = self.token
        if token.kind == "rparen":
            self.advance()
            return
        if token.kind == "end":
            raise ExpressionError("missing_close", pos=opening.pos)
        previous = self.tokens[self.index - 1]
        raise ExpressionError("missing_operator", left=previous.text, right=token.text,
                              pos=token.pos)

    def name(self) -> tuple[sympy.Expr, Syntax]:
        token = self.advance()
        word = token.text
        # Raw peek: an unknown name is reported before any bad character after it.
        is_call = self.tokens[self.index].kind == "lparen"
        if word in FUNCTIONS:
            if not is_call:
                raise ExpressionError("needs_call", word=word, pos=token.pos)
            opening = self.advance()
            self.enter(opening.pos)
            if self.token.kind == "rparen":
                raise ExpressionError("empty_call", word=word, pos=token.pos)
            argument, tree = self.expr()
            self.expect_close(opening)
            self.depth -= 1
            return (FUNCTIONS[word](argument, evaluate=False),
                    Syntax("call", word, (tree,), token.pos))
        if word in VARIABLES or word in CONSTANTS:
            if is_call:
                raise ExpressionError("not_a_function", word=word, pos=token.pos)
            kind = "variable" if word in VARIABLES else "constant"
            return VARIABLES.get(word, CONSTANTS.get(word)), Syntax(kind, word, (), token.pos)
        if is_call:
            raise ExpressionError("unknown_function", word=word, pos=token.pos, known=_KNOWN)
        lower = word.lower()
        if lower in VARIABLES or lower in CONSTANTS or lower in FUNCTIONS:
            raise ExpressionError("lower_case", word=word, pos=token.pos, lower=lower)
        raise ExpressionError("unknown_name", word=word, pos=token.pos)


def _power(base: sympy.Expr, exponent: sympy.Expr, pos: int) -> sympy.Expr:
    """base^exponent, refusing constant exponents beyond ±10 and astronomically large numbers."""
    if not exponent.free_symbols:
        value = complex(sympy.N(exponent, 15))
        if value.imag != 0.0 or not math.isfinite(value.real):
            raise ExpressionError("exponent_not_real", pos=pos)
        if abs(value.real) > MAX_EXPONENT:
            raise ExpressionError("exponent_large", pos=pos, value=value.real,
                                  limit=MAX_EXPONENT)
        if not base.free_symbols:
            size = complex(sympy.N(base, 15))
            if size != 0 and math.log10(abs(size)) * abs(value.real) > 300:
                raise ExpressionError("power_large", pos=pos)
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
        raise ExpressionError("domain_shape") from exc
    if not all(math.isfinite(v) and abs(v) <= MAX_NUMBER for v in (x0, x1, y0, y1)):
        raise ExpressionError("domain_finite")
    if not (x0 < x1 and y0 < y1):
        raise ExpressionError("domain_order")
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
        raise ExpressionError("not_text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError("too_long", length=len(text), limit=MAX_LENGTH)
    if not text.strip():
        raise ExpressionError("empty")


def _read(text: str) -> tuple[sympy.Expr, Syntax]:
    """The checked SymPy expression and syntax tree of ``text`` (ExpressionError otherwise)."""
    _check_text(text)
    expr, tree = _Parser(text).parse()
    if expr.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise ExpressionError("no_value")
    if expr.has(sympy.I):
        raise ExpressionError("not_real")
    return expr, tree


def _guarded(work):
    """Run ``work()``, turning SymPy's own refusals into an ExpressionError for students."""
    try:
        return work()
    except ExpressionError:
        raise
    except RecursionError as exc:
        raise ExpressionError("nested") from exc
    except Exception as exc:  # noqa: BLE001
        # SymPy refused something the grammar allows; say so instead of crashing the page.
        raise ExpressionError("refused", error=type(exc).__name__) from exc


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
            raise ExpressionError("too_complicated")
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
        raise ExpressionError("nowhere_finite")
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
