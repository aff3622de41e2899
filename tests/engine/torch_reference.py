"""The torch.optim reference the engine is checked against: the problem, the cases (every
optimizer, several hyper-parameter sets: weight decay, amsgrad, nesterov, a schedule) and
how each maps to torch. Shared by the live parity test (tests/engine/test_torch_parity.py,
where torch is installed), the generator of the committed golden trajectories
(tests/engine/make_torch_golden.py) and their check (tests/engine/test_torch_golden.py,
which needs no torch). torch is passed in, never imported here.
"""

import numpy as np

from engine import optimizers


def gradient(p):
    """Gradient of f(p) = sum(0.5 * c * p**2 + 0.3 * sin(3 p)), c = 1..D (smooth, curved)."""
    c = np.arange(1, p.shape[1] + 1, dtype=np.float64)
    return c * p + 0.9 * np.cos(3.0 * p)


def torch_optimizer(torch, key, param, kw):
    lr = kw.get("lr", optimizers.OPTIMIZERS[key].defaults["lr"])
    spec = optimizers.OPTIMIZERS[key].defaults | kw
    wd = spec.get("weight_decay", 0.0)
    o = torch.optim
    if key == "gd":
        return o.SGD([param], lr=lr, weight_decay=wd)
    if key == "momentum":
        return o.SGD([param], lr=lr, momentum=spec["momentum"], weight_decay=wd)
    if key == "nag":
        return o.SGD([param], lr=lr, momentum=spec["momentum"], nesterov=True, weight_decay=wd)
    if key == "adagrad":
        return o.Adagrad([param], lr=lr, eps=spec["eps"], weight_decay=wd,
                         initial_accumulator_value=spec["initial_accumulator"])
    if key == "rmsprop":
        return o.RMSprop([param], lr=lr, alpha=spec["rho"], eps=spec["eps"], weight_decay=wd)
    if key == "adadelta":
        return o.Adadelta([param], lr=lr, rho=spec["rho"], eps=spec["eps"], weight_decay=wd)
    betas = (spec.get("beta1"), spec.get("beta2"))
    if key == "adam":
        return o.Adam([param], lr=lr, betas=betas, eps=spec["eps"], weight_decay=wd,
                      amsgrad=bool(spec["amsgrad"]))
    if key == "adamw":
        return o.AdamW([param], lr=lr, betas=betas, eps=spec["eps"], weight_decay=wd)
    if key == "nadam":
        return o.NAdam([param], lr=lr, betas=betas, eps=spec["eps"], weight_decay=wd,
                       momentum_decay=spec["momentum_decay"])
    if key == "adamax":
        return o.Adamax([param], lr=lr, betas=betas, eps=spec["eps"], weight_decay=wd)
    raise AssertionError(key)


# our state field -> torch state key
TORCH_STATE = {
    "buf": "momentum_buffer",
    "sum": "sum",
    "square_avg": "square_avg",
    "acc_delta": "acc_delta",
    "exp_avg": "exp_avg",
    "exp_avg_sq": "exp_avg_sq",
    "max_exp_avg_sq": "max_exp_avg_sq",
    "exp_inf": "exp_inf",
    "mu_product": "mu_product",
    "t": "step",
}

CASES = [
    ("gd", {"lr": 0.05}),
    ("gd", {"lr": 0.05, "weight_decay": 0.1}),
    ("momentum", {"lr": 0.02, "momentum": 0.9}),
    ("momentum", {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.05}),
    ("nag", {"lr": 0.02, "momentum": 0.9}),
    ("nag", {"lr": 0.02, "momentum": 0.99, "weight_decay": 0.05}),
    ("adagrad", {"lr": 0.1}),
    ("adagrad", {"lr": 0.1, "eps": 1e-3, "initial_accumulator": 0.5, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.01, "rho": 0.9, "eps": 1e-4, "weight_decay": 0.1}),
    ("adadelta", {}),
    ("adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "amsgrad": True}),
    ("adam", {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1,
              "amsgrad": True}),
    ("adamw", {"lr": 0.01}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.2, "beta1": 0.8, "beta2": 0.99}),
    ("nadam", {"lr": 0.01}),
    ("nadam", {"lr": 0.01, "momentum_decay": 0.01, "weight_decay": 0.1, "beta2": 0.99}),
    ("adamax", {"lr": 0.01}),
    ("adamax", {"lr": 0.01, "beta1": 0.7, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1}),
]


def lr_scale_at(step):
    """A non-trivial schedule, so that a changing learning rate is checked too."""
    return 1.0 if step < 20 else 0.5 ** ((step - 20) // 10 + 1)
