"""engine.datasets: shapes, labels, determinism, split/one_hot, and the CSV reader's errors."""

import numpy as np
import pytest

from engine import datasets
from engine.datasets import DatasetError


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_shapes_labels_and_determinism(name):
    spec = datasets.DATASETS[name]
    X, y = datasets.make(name, n=120, noise=0.1, seed=3)
    n = 4 if name in ("xor", "and", "or") else 120
    if spec.task == "regression":
        assert X.shape == (n, 1) and y.shape == (n,) and y.dtype == np.float64
    else:
        assert X.shape == (n, 2) and y.shape == (n,)
        assert np.issubdtype(y.dtype, np.integer)
        assert set(np.unique(y)) == set(range(spec.n_classes))
    assert X.dtype == np.float64 and np.all(np.isfinite(X))
    X2, y2 = datasets.make(name, n=120, noise=0.1, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    if n > 4:
        X3, _ = datasets.make(name, n=120, noise=0.1, seed=4)
        assert not np.array_equal(X, X3)
    assert spec.title and spec.story and spec.task in ("binary", "multiclass", "regression")
    assert spec.default_n > 0 and spec.default_noise >= 0


@pytest.mark.parametrize("name,labels", [("xor", [0, 1, 1, 0]), ("and", [0, 0, 0, 1]),
                                         ("or", [0, 1, 1, 1])])
def test_truth_tables(name, labels):
    X, y = datasets.make(name, n=999, noise=0.5)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, labels)
    # The label is the logic function of the inputs, written out.
    fn = {"xor": np.logical_xor, "and": np.logical_and, "or": np.logical_or}[name]
    np.testing.assert_array_equal(y, fn(X[:, 0] > 0, X[:, 1] > 0).astype(int))


def test_geometry_of_the_noise_free_datasets():
    X, y = datasets.make("circle", n=400, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 1].max() <= 0.5 and radius[y == 0].min() >= 0.8
    X, y = datasets.make("xor_cloud", n=400, noise=0.0)
    assert np.all((X[:, 0] * X[:, 1] < 0) == (y == 1))
    X, y = datasets.make("sine", n=50, noise=0.0)
    np.testing.assert_allclose(y, np.sin(X[:, 0]))
    X, y = datasets.make("gaussians3", n=300, noise=0.0)
    assert np.bincount(y).tolist() == [100, 100, 100]


def test_make_rejects_bad_arguments():
    with pytest.raises(DatasetError, match="unknown dataset"):
        datasets.make("mnist")
    with pytest.raises(ValueError, match="noise"):
        datasets.make("moons", noise=-1)
    with pytest.raises(ValueError, match="n must"):
        datasets.make("moons", n=0)


def test_split_and_one_hot():
    X, y = datasets.make("moons", n=100, seed=0)
    Xtr, Xte, ytr, yte = datasets.split(X, y, test_fraction=0.2, seed=1)
    assert len(Xte) == 20 and len(Xtr) == 80 and len(ytr) == 80
    rows = {tuple(r) for r in Xtr} | {tuple(r) for r in Xte}
    assert len(rows) == 100  # disjoint and complete
    again = datasets.split(X, y, test_fraction=0.2, seed=1)
    np.testing.assert_array_equal(again[1], Xte)
    np.testing.assert_array_equal(datasets.one_hot(np.array([2, 0, 1]), 4),
                                  [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    assert datasets.one_hot(np.array([0, 2])).shape == (2, 3)
    with pytest.raises(ValueError):
        datasets.one_hot(np.array([0, 5]), 3)


# ----------------------------------------------------------------- CSV upload


def test_csv_valid_with_and_without_header():
    X, y = datasets.parse_csv("0.5,1,0\n-2,3e-1,1\n\n4,5,1\n")
    np.testing.assert_allclose(X, [[0.5, 1], [-2, 0.3], [4, 5]])
    np.testing.assert_array_equal(y, [0, 1, 1])
    X2, y2 = datasets.parse_csv(b"\xef\xbb\xbfx1,x2,label\r\n0.5,1,0\r\n-2,0.3,1\r\n4,5,1\r\n")
    np.testing.assert_allclose(X2, X)
    np.testing.assert_array_equal(y2, y)
    X3, y3 = datasets.parse_csv("x1;x2;label\n1;2;3\n4;5;7\n")
    np.testing.assert_array_equal(y3, [3, 7])


def test_csv_two_distinct_non_integer_labels_map_to_0_1():
    _, y = datasets.parse_csv("0,0,-1\n1,1,1\n2,2,-1\n")
    np.testing.assert_array_equal(y, [0, 1, 0])
    _, y = datasets.parse_csv("0,0,0.5\n1,1,2.5\n")
    np.testing.assert_array_equal(y, [0, 1])


@pytest.mark.parametrize("text,message", [
    ("", "empty file"),
    ("x1,x2,label\n", "empty file"),
    ("1,2\n3,4\n", "expected 3 columns \\(x1, x2, label\\), line 1 has 2"),
    ("1,2,0\n3,4,1,5\n", "line 2 has 4"),
    ("x1,x2,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,10,0\nabc,1,1\n", "line 7: 'abc' is not a number"),
    ("1,2,0\n3,__import__('os'),1\n", "line 2: .* is not a number"),
    ("1,2,0\n3,nan,1\n", "line 2: .*finite"),
    ("1,inf,0\n", "line 1: .*finite"),
    ("0,0,0.5\n0,0,1.5\n0,0,2\n", "labels must be integers 0..9 or two distinct values"),
    ("0,0,10\n0,0,11\n0,0,12\n", "labels must be integers 0..9"),
])
def test_csv_errors_name_the_problem(text, message):
    with pytest.raises(DatasetError, match=message):
        datasets.parse_csv(text)


def test_csv_too_large():
    rows = "1,2,0\n" * 5001
    with pytest.raises(DatasetError, match="file too large: 5,000 rows max"):
        datasets.parse_csv(rows)
    assert len(datasets.parse_csv(rows, max_rows=6000)[0]) == 5001
    with pytest.raises(DatasetError, match="file too large"):
        datasets.parse_csv(b"1,2,0\n" * 200_000)
    with pytest.raises(DatasetError, match="not UTF-8|binary"):
        datasets.parse_csv(b"\xff\xfe\x00\x01garbage")


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)
