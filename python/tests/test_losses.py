"""focal.losses on numpy arrays: values and gradients against torchvision /
PyTorch (float64 autograd of the formulas in focal.h), every kind, every
reduction, float32 and float64; class-weight helpers against scikit-learn."""
import numpy as np
import torch
import torch.nn.functional as F
import torchvision

import focal.losses as fl
from reference import reduce, sigmoid_elementwise, softmax_rowwise

REQUIRES = ("numpy", "torch", "torchvision", "sklearn")
RNG = np.random.default_rng(7)
N, C = 37, 5
PARAMS = {"bce": {"alpha": 0.3}, "sigmoid-focal": {"alpha": 0.25, "gamma": 2.0},
          "focal-star": {"gamma": 2.0, "beta": 1.0, "alpha": 0.25}, "asl": {},
          "sigmoid-poly1": {"gamma": 1.5, "epsilon": 1.0, "alpha": 0.4},
          "ce": {"label_smoothing": 0.1}, "softmax-focal": {"gamma": 2.0},
          "softmax-poly1": {"gamma": 1.0, "epsilon": 2.0, "label_smoothing": 0.05},
          "la": {"class_prior": [500.0, 120.0, 40.0, 9.0, 3.0], "tau": 1.5},
          "balanced-softmax": {"class_prior": [0.6, 0.25, 0.1, 0.04, 0.01]},
          "ldam": {"class_prior": [500.0, 120.0, 40.0, 9.0, 3.0], "margin": 0.5, "scale": 5.0},
          "db": {"class_prior": [0.4, 0.2, 0.05, 0.01, 0.003], "gamma": 2.0, "db_lambda": 3.0, "db_kappa": 0.2}}


def close(a, b, tol, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    err = np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))) if a.size else 0.0
    assert a.shape == b.shape and err <= tol, "%s: worst relative error %.3g > %.3g" % (what, err, tol)


def sigmoid_case():
    x = RNG.normal(0, 2, (N, C))
    y = (RNG.random((N, C)) < 0.3).astype(np.float64)
    y[3, 1] = -1                                   # ignored
    return x, y


def softmax_case():
    x = RNG.normal(0, 2, (N, C))
    t = RNG.integers(0, C, N)
    t[5] = -100                                    # ignored
    return x, t


def check_kind(kind, dtype, tol):
    info = fl.kind_info(kind)
    params = PARAMS[kind]
    for reduction in ("none", "sum", "mean", "positives"):
        if info.softmax:
            x, t = softmax_case()
            keep = t != -100
            xt = torch.tensor(x[keep], requires_grad=True)
            per = softmax_rowwise(kind, xt, torch.tensor(t[keep]), **params)
            ref = reduce(per, reduction, keep.sum(), keep.sum())
            loss, grad = fl.loss(kind, x.astype(dtype), t, reduction=reduction, **params)
            ref_grad = np.zeros_like(x)
            ref_grad[keep] = torch.autograd.grad(ref.sum(), xt)[0].numpy()
            if reduction == "none":
                full = np.zeros(N)
                full[keep] = per.detach().numpy()
                close(loss, full, tol, "%s %s loss" % (kind, reduction))
            else:
                close(loss, ref.item(), tol, "%s %s loss" % (kind, reduction))
        else:
            x, y = sigmoid_case()
            keep = y >= 0
            xt = torch.tensor(x, requires_grad=True)
            per = sigmoid_elementwise(kind, xt, torch.tensor(np.where(keep, y, 0)), **params) * torch.tensor(keep)
            ref = reduce(per, reduction, keep.sum(), (y >= 0.5).sum())
            loss, grad = fl.loss(kind, x.astype(dtype), y.astype(dtype), reduction=reduction, **params)
            ref_grad = torch.autograd.grad(ref.sum(), xt)[0].numpy()
            close(loss, ref.detach().numpy() if reduction == "none" else ref.item(), tol,
                  "%s %s loss" % (kind, reduction))
        assert grad.dtype == dtype and grad.shape == x.shape
        close(grad, ref_grad, tol, "%s %s grad" % (kind, reduction))


def test_every_kind_float64_against_torch():
    assert sorted(fl.kinds()) == sorted(PARAMS), "a loss kind without a reference here: %s" % fl.kinds()
    for kind in fl.kinds():
        check_kind(kind, np.float64, 1e-10)


def test_every_kind_float32_against_torch():
    for kind in fl.kinds():
        check_kind(kind, np.float32, 2e-5)


def test_sigmoid_focal_is_torchvisions():
    x = RNG.normal(0, 3, (64, 7))
    y = (RNG.random((64, 7)) < 0.2).astype(np.float64)
    for reduction in ("none", "mean", "sum"):
        xt = torch.tensor(x, requires_grad=True)
        ref = torchvision.ops.sigmoid_focal_loss(xt, torch.tensor(y), alpha=0.25, gamma=2, reduction=reduction)
        loss, grad = fl.sigmoid_focal(x, y, alpha=0.25, gamma=2, reduction=reduction)
        close(loss, ref.detach().numpy(), 1e-12, "torchvision " + reduction)
        close(grad, torch.autograd.grad(ref.sum(), xt)[0].numpy(), 1e-12, "torchvision grad " + reduction)


def test_ce_is_torch_cross_entropy():
    x, t = softmax_case()
    w = RNG.random(C) + 0.5
    # with smoothing, torch weights each smoothed class by its own weight;
    # focal (focal.h) by the hard label's: compared without weights there
    for smoothing, weights in ((0.0, w), (0.2, None)):
        xt = torch.tensor(x, requires_grad=True)
        ref = F.cross_entropy(xt, torch.tensor(t), reduction="sum", label_smoothing=smoothing,
                              weight=None if weights is None else torch.tensor(weights), ignore_index=-100)
        loss, grad = fl.ce(x, t, reduction="sum", label_smoothing=smoothing, class_weights=weights)
        close(loss, ref.item(), 1e-12, "cross_entropy")
        close(grad, torch.autograd.grad(ref, xt)[0].numpy(), 1e-12, "cross_entropy grad")


def test_shapes_and_no_gradient():
    x = RNG.normal(size=(4, 3, 2)).astype(np.float32)
    y = (RNG.random((4, 3, 2)) < 0.5).astype(np.float32)
    per, g = fl.bce(x, y, reduction="none")
    assert per.shape == x.shape and g.shape == x.shape
    v, g = fl.bce(x.reshape(-1), y.reshape(-1), grad=False)
    assert g is None and isinstance(v, float)
    v2, _ = fl.bce(x[:, ::2, :], y[:, ::2, :])          # not contiguous
    v3, _ = fl.bce(np.ascontiguousarray(x[:, ::2, :]), np.ascontiguousarray(y[:, ::2, :]))
    assert v2 == v3


def test_errors_carry_the_librarys_message():
    x = np.zeros((2, 3), dtype=np.float32)
    try:
        fl.sigmoid_focal(x, np.full((2, 3), 2.0, dtype=np.float32))
    except fl.FocalError as e:
        assert "row 0, column 0 is 2" in str(e), str(e)
    else:
        raise AssertionError("a target of 2 was accepted")
    for bad, what in ((lambda: fl.ce(x, [0, 5]), "row 1"), (lambda: fl.sigmoid_focal(x, x, gamma=-1), "gamma"),
                      (lambda: fl.ce(x, [0, 1], margin=0.1), "takes no parameter margin"),
                      (lambda: fl.ce(x, [0, 1], reduction="avg"), "reduction"),
                      (lambda: fl.bce(x.astype(np.float16), x), "float32 or float64")):
        try:
            bad()
        except (fl.FocalError, TypeError, ValueError) as e:
            assert what in str(e), (what, str(e))
        else:
            raise AssertionError("accepted: " + what)


def test_class_weights_helpers():
    from sklearn.utils.class_weight import compute_class_weight
    y = RNG.integers(0, 4, 200)
    y[:3] = 3
    counts = fl.class_counts(y, 4)
    close(fl.weights_balanced(counts), compute_class_weight("balanced", classes=np.arange(4), y=y), 1e-12,
          "balanced weights")
    beta = 0.99
    w = (1 - beta) / (1 - beta ** counts)
    close(fl.weights_effective(counts, beta), w * 4 / w.sum(), 1e-12, "effective-number weights")
    close(fl.prior_bias(0.01), -np.log(0.99 / 0.01), 1e-12, "prior bias")
    try:
        fl.weights_balanced([3, 0])
    except fl.FocalError as e:
        assert "0" in str(e)
    else:
        raise AssertionError("a zero count was accepted")
