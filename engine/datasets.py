"""Small 2-D toy datasets for the network pages, and a safe reader for uploaded CSV files.

``make(name, n, noise, seed) -> X, y``: X (n, 2) float64 and y (n,) int labels for
classification; for regression (sine) X (n, 1) and y (n,) float. The same seed gives the
same data. ``DATASETS`` describes each one (title, task, classes, defaults, a one-line story).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

# Bounds on what one request may ask for (a shared classroom server): points a dataset is
# made of, and an uploaded CSV's size. MAX_UPLOAD_BYTES is 1 MB, Streamlit's
# server.maxUploadSize in .streamlit/config.toml, which the uploader shows.
MAX_POINTS = 10_000
MAX_ROWS = 5_000
MAX_UPLOAD_BYTES = 1 << 20

# Every message of a dataset problem: code -> English template (str.format fields); the
# pages translate a code with the same fields (assets/i18n: teach.dataset.<code>).
MESSAGES = MappingProxyType({
    "unknown": "unknown dataset {name!r}; choose one of {known}",
    "n": "n must be in 1 … {limit:,}, got {n:,}",
    "noise": "noise must be a finite number >= 0, got {noise}",
    "rows": "X has {n} rows but y has {labels}",
    "test_fraction": "test_fraction must be in [0, 1), got {value}",
    "one_hot": "one_hot needs a 1-D array of integer labels >= 0",
    "label_k": "label {label} does not fit in k={k} classes",
    "too_many_bytes": "file too large: {size:,} bytes, {limit:,} bytes max",
    "more_bytes": "file too large: more than {limit:,} bytes",
    "not_utf8": "the file is not UTF-8 text (is it really a CSV?)",
    "binary": "the file contains binary data (is it really a CSV?)",
    "columns": "expected {expected} columns ({names}), line {line} has {count}",
    "not_a_number": "line {line}: {value!r} is not a number",
    "not_finite": "line {line}: values must be finite numbers (no nan or inf)",
    "too_many_rows": "file too large: {limit:,} rows max",
    "not_csv": "line {line}: not valid CSV ({problem})",
    "empty": "empty file: no data rows (expected {names})",
    "points": "need {low} to {high} points, got {n}",
    "xy_finite": "x and y must be finite numbers",
    "labels01": "logistic regression needs labels 0 or 1",
    "labels": "labels must be integers 0..9 or two distinct values; found {count} distinct "
              "values such as {example:g}",
})


class DatasetError(ValueError):
    """A dataset cannot be built or an uploaded file cannot be read; the message says why.

    ``code`` names the message (:data:`MESSAGES`), ``params`` fills it (a page can say it
    in another language); ``str(error)`` is the English.
    """

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(MESSAGES[code].format(**params))


@dataclass(frozen=True)
class DatasetSpec:
    key: str
    title: str
    task: str            # "binary" | "multiclass" | "regression"
    n_classes: int       # 0 for regression
    default_n: int
    default_noise: float
    story: str
    maker: Callable


_TRUTH_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _truth_table(labels):
    def maker(n, noise, rng):
        return _TRUTH_INPUTS.copy(), np.array(labels)
    return maker


def _xor_cloud(n, noise, rng):
    # Four gaussian blobs at the corners of [-1, 1]^2; opposite corners share a class.
    corner = rng.integers(0, 4, n)
    centers = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    X = centers[corner] + (noise * 2.0 + 0.05) * rng.standard_normal((n, 2))
    y = np.array([0, 1, 1, 0])[corner]
    return X, y


def _circle(n, noise, rng):
    # Class 1 inside radius 0.5, class 0 on a ring around radius 1.
    y = (np.arange(n) % 2).astype(int)
    rng.shuffle(y)
    radius = np.where(y == 1, rng.uniform(0.0, 0.5, n), rng.uniform(0.8, 1.2, n))
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return X + noise * rng.standard_normal((n, 2)), y


def _moons(n, noise, rng):
    y = (np.arange(n) % 2).astype(int)
    rng.shuffle(y)
    angle = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower)
    return X + noise * rng.standard_normal((n, 2)), y


def _spiral(n, noise, rng):
    # Two interleaved arms r = t, angle = t + class * pi.
    y = (np.arange(n) % 2).astype(int)
    rng.shuffle(y)
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 3.0 * np.pi
    angle = t + np.pi * y
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) / (3.0 * np.pi)
    return X + noise * rng.standard_normal((n, 2)), y


def _gaussians(k):
    def maker(n, noise, rng):
        y = (np.arange(n) % k).astype(int)
        rng.shuffle(y)
        angle = 2.0 * np.pi * np.arange(k) / k + np.pi / 4
        centers = np.stack([np.cos(angle), np.sin(angle)], axis=1)
        return centers[y] + (noise * 2.0 + 0.1) * rng.standard_normal((n, 2)), y
    return maker


def _sine(n, noise, rng):
    x = np.sort(rng.uniform(-np.pi, np.pi, n))
    return x[:, None], np.sin(x) + noise * rng.standard_normal(n)


DATASETS: dict[str, DatasetSpec] = {s.key: s for s in [
    DatasetSpec("xor", "XOR (truth table)", "binary", 2, 4, 0.0,
                "Four points no single line can separate: the reason hidden layers exist.",
                _truth_table([0, 1, 1, 0])),
    DatasetSpec("xor_cloud", "XOR (cloud)", "binary", 2, 200, 0.1,
                "XOR with noise: four blobs, opposite corners share a class.", _xor_cloud),
    DatasetSpec("and", "AND", "binary", 2, 4, 0.0,
                "Linearly separable: one perceptron draws the line.", _truth_table([0, 0, 0, 1])),
    DatasetSpec("or", "OR", "binary", 2, 4, 0.0,
                "Linearly separable too: a perceptron is enough.", _truth_table([0, 1, 1, 1])),
    DatasetSpec("circle", "Circle", "binary", 2, 200, 0.1,
                "A disc inside a ring: the boundary must close on itself.", _circle),
    DatasetSpec("moons", "Two moons", "binary", 2, 200, 0.1,
                "Two interleaving crescents: a curved boundary.", _moons),
    DatasetSpec("spiral", "Spiral", "binary", 2, 300, 0.05,
                "Two intertwined arms: needs depth and patience.", _spiral),
    DatasetSpec("gaussians", "Two gaussians", "binary", 2, 200, 0.2,
                "Two overlapping blobs: a line does it, noise sets the best accuracy.",
                _gaussians(2)),
    DatasetSpec("gaussians3", "Three gaussians", "multiclass", 3, 300, 0.2,
                "Three blobs: softmax with categorical cross-entropy.", _gaussians(3)),
    DatasetSpec("sine", "Noisy sine (regression)", "regression", 0, 100, 0.1,
                "Fit y = sin(x) + noise with a linear output and MSE.", _sine),
]}


def make(name: str, n: int = 200, noise: float = 0.1, seed: int = 0):
    """X, y for dataset ``name`` (see ``DATASETS``). The truth tables ignore n and noise."""
    if name not in DATASETS:
        raise DatasetError("unknown", name=name, known=", ".join(DATASETS))
    n = int(n)
    if not 1 <= n <= MAX_POINTS:
        raise DatasetError("n", n=n, limit=MAX_POINTS)
    if not (np.isfinite(noise) and noise >= 0):
        raise DatasetError("noise", noise=noise)
    spec = DATASETS[name]
    X, y = spec.maker(n, float(noise), np.random.default_rng(seed))
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float if spec.task == "regression" else int)
    return X, y


def split(X, y, test_fraction: float = 0.25, seed: int = 0):
    """Shuffle with ``seed`` and split -> X_train, X_test, y_train, y_test.

    The test part has round(test_fraction * n) samples, at least 1 and leaving >= 1 to train
    (when n >= 2); test_fraction 0 gives an empty test set.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise DatasetError("rows", n=n, labels=len(y))
    if not 0.0 <= test_fraction < 1.0:
        raise DatasetError("test_fraction", value=test_fraction)
    n_test = int(round(test_fraction * n))
    if test_fraction > 0 and n >= 2:
        n_test = min(max(n_test, 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def one_hot(y, k: int | None = None) -> np.ndarray:
    """Integer labels (n,) -> float64 one-hot (n, k); k defaults to max(y) + 1."""
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0)):
        raise DatasetError("one_hot")
    k = int(y.max()) + 1 if k is None else int(k)
    if y.size and y.max() >= k:
        raise DatasetError("label_k", label=int(y.max()), k=k)
    out = np.zeros((y.size, k))
    out[np.arange(y.size), y] = 1.0
    return out


def parse_csv(data, max_rows: int = MAX_ROWS, max_bytes: int = MAX_UPLOAD_BYTES):
    """Read an uploaded CSV of ``x1, x2, label`` rows (a header line is optional).

    Returns X (n, 2) float64 and y (n,) int labels. Labels must be integers 0..9, or any two
    distinct values (mapped to 0/1 in sorted order). Blank lines are skipped. Every problem
    raises :class:`DatasetError` naming it and, where it has one, the line. Nothing in the
    file is evaluated: fields go through ``float()`` only.
    """
    arr = read_numeric_csv(data, ("x1", "x2", "label"), max_rows, max_bytes)
    X, labels = arr[:, :2], arr[:, 2]
    distinct = np.unique(labels)
    integer = np.all(labels == np.round(labels))
    if integer and distinct.min() >= 0 and distinct.max() <= 9:
        y = labels.astype(int)
    elif len(distinct) == 2:
        y = (labels == distinct[1]).astype(int)
    else:
        raise DatasetError("labels", count=len(distinct), example=float(distinct[0]))
    return X, y


def read_numeric_csv(data, columns: tuple[str, ...], max_rows: int = 5000,
                     max_bytes: int = 1_000_000) -> np.ndarray:
    """The rows of an uploaded CSV with ``len(columns)`` numeric fields each, (n, k) float64.

    A header line is optional (a first line with no number in it); the delimiter may be a
    comma, a semicolon or a tab; blank lines are skipped. Every problem (not UTF-8 text,
    binary data, too many bytes or rows, a wrong number of fields, a field that is not a
    finite number, no rows) raises :class:`DatasetError` naming it and, where it has one,
    the line. Nothing in the file is evaluated: fields go through ``float()`` only.
    """
    names = ", ".join(columns)
    if isinstance(data, (bytes, bytearray)):
        if len(data) > max_bytes:
            raise DatasetError("too_many_bytes", size=len(data), limit=max_bytes)
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DatasetError("not_utf8") from None
    else:
        text = str(data)
        if text.startswith("\ufeff"):
            text = text[1:]
        if len(text.encode("utf-8")) > max_bytes:
            raise DatasetError("more_bytes", limit=max_bytes)
    if "\x00" in text:
        raise DatasetError("binary")
    try:
        sample = text[:4096]
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else None
        delimiter = dialect.delimiter if dialect else ","
    except csv.Error:
        delimiter = ","
    rows = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not field.strip() for field in record):
                continue
            if len(record) != len(columns):
                raise DatasetError("columns", expected=len(columns), names=names, line=line,
                                   count=len(record))
            values = []
            for field in record:
                field = field.strip()
                try:
                    values.append(float(field))
                except ValueError:
                    values.append(None)
            if any(v is None for v in values):
                if not rows and not any(_numeric(f) for f in record):
                    continue  # header line
                bad = next(f.strip() for f, v in zip(record, values, strict=True) if v is None)
                raise DatasetError("not_a_number", line=line, value=bad)
            if not all(np.isfinite(values)):
                raise DatasetError("not_finite", line=line)
            rows.append(values)
            if len(rows) > max_rows:
                raise DatasetError("too_many_rows", limit=max_rows)
    except csv.Error as exc:
        raise DatasetError("not_csv", line=reader.line_num, problem=str(exc)) from None
    if not rows:
        raise DatasetError("empty", names=names)
    return np.array(rows, dtype=float)


def _numeric(field: str) -> bool:
    try:
        float(field.strip())
    except ValueError:
        return False
    return True
