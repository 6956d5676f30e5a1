"""focal.torch: the drop-ins against torchvision / PyTorch, every kind's
module and function, gradcheck in float64, non-contiguous inputs, dtypes and
the error on another device."""
import torch
import torch.nn.functional as F
import torchvision

import focal.losses as fl
import focal.torch as ft
from reference import reduce, sigmoid_elementwise, softmax_rowwise

REQUIRES = ("numpy", "torch", "torchvision")
GEN = torch.Generator().manual_seed(3)
PARAMS = {"bce": {"alpha": 0.3}, "sigmoid-focal": {"alpha": 0.25, "gamma": 2.0},
          "focal-star": {"gamma": 2.0, "beta": 1.0}, "asl": {"gamma_pos": 1.0, "gamma_neg": 3.0, "margin": 0.1},
          "sigmoid-poly1": {"gamma": 1.5, "epsilon": 1.0}, "ce": {"label_smoothing": 0.1},
          "softmax-focal": {"gamma": 2.0}, "softmax-poly1": {"gamma": 1.0, "epsilon": 2.0},
          "la": {"class_prior": [500.0, 120.0, 40.0, 9.0], "tau": 1.5},
          "balanced-softmax": {"class_prior": [0.6, 0.25, 0.1, 0.05]},
          "ldam": {"class_prior": [500.0, 120.0, 40.0, 9.0], "margin": 0.5, "scale": 5.0},
          "db": {"class_prior": [0.4, 0.2, 0.05, 0.01], "gamma": 2.0, "db_lambda": 3.0, "db_kappa": 0.2}}


def params_for(kind, c):
    """PARAMS[kind] for c classes (a class prior cut to c values)."""
    p = dict(PARAMS[kind])
    if "class_prior" in p:
        p["class_prior"] = p["class_prior"][:c]
    return p


def randn(*shape, dtype=torch.float64):
    return torch.randn(*shape, generator=GEN, dtype=dtype)


def assert_close(a, b, tol, what):
    err = ((a - b).abs() / b.abs().clamp(min=1.0)).max().item() if a.numel() else 0.0
    assert a.shape == b.shape and err <= tol, "%s: worst relative error %.3g > %.3g" % (what, err, tol)


def test_sigmoid_focal_loss_drop_in():
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        x = randn(8, 6, 5, dtype=dtype).mul(3)
        y = (torch.rand(8, 6, 5, generator=GEN) < 0.2).to(dtype)
        for reduction in ("none", "mean", "sum"):
            for alpha, gamma in ((0.25, 2), (-1, 0.5), (0.75, 0)):
                a = x.clone().requires_grad_()
                b = x.clone().requires_grad_()
                la = ft.sigmoid_focal_loss(a, y, alpha=alpha, gamma=gamma, reduction=reduction)
                lb = torchvision.ops.sigmoid_focal_loss(b, y, alpha=alpha, gamma=gamma, reduction=reduction)
                assert la.dtype == dtype
                assert_close(la.detach(), lb.detach(), tol, "value %s %s" % (dtype, reduction))
                g = torch.rand(la.shape, generator=GEN, dtype=dtype)
                (la * g).sum().backward()
                (lb * g).sum().backward()
                assert_close(a.grad, b.grad, tol, "grad %s %s" % (dtype, reduction))


def test_softmax_focal_loss_module():
    C = 6
    alpha = torch.rand(C, generator=GEN, dtype=torch.float64) + 0.5
    x = randn(40, C).mul(2).requires_grad_()
    t = torch.randint(0, C, (40,), generator=GEN)
    t[::7] = -100
    for reduction in ("mean", "sum", "none"):
        m = ft.FocalLoss(alpha=alpha, gamma=2.0, ignore_index=-100, reduction=reduction)
        out = m(x, t)
        keep = t != -100
        per = torch.zeros(40, dtype=torch.float64)
        per[keep] = softmax_rowwise("softmax-focal", x[keep], t[keep], gamma=2.0, class_weights=alpha)
        ref = reduce(per, reduction, keep.sum(), keep.sum())
        assert_close(out.detach(), ref.detach(), 1e-12, "FocalLoss " + reduction)
        ga = torch.autograd.grad(out.sum(), x)[0]
        gb = torch.autograd.grad(ref.sum(), x)[0]
        assert_close(ga, gb, 1e-12, "FocalLoss grad " + reduction)
    # gamma 0 with per-class alpha is weighted cross-entropy (mean over rows, not weights)
    out = ft.FocalLoss(alpha=alpha, gamma=0)(x, t)
    ref = F.cross_entropy(x, t, weight=alpha, reduction="sum") / (t != -100).sum()
    assert_close(out.detach(), ref.detach(), 1e-12, "FocalLoss gamma 0")


def test_segmentation_shapes():
    x = randn(2, 4, 5, 3).requires_grad_()
    t = torch.randint(0, 4, (2, 5, 3), generator=GEN)
    out = ft.ce(x, t, reduction="none")
    ref = F.cross_entropy(x, t, reduction="none")
    assert_close(out.detach(), ref.detach(), 1e-12, "ce (N,C,H,W)")
    assert_close(torch.autograd.grad(out.sum(), x)[0], torch.autograd.grad(ref.sum(), x)[0], 1e-12, "grad")


def test_every_kind_function_and_module():
    assert sorted(PARAMS) == sorted(fl.kinds())
    for kind in fl.kinds():
        info = fl.kind_info(kind)
        fn = getattr(ft, kind.replace("-", "_"))
        x = randn(9, 4).requires_grad_()
        if info.softmax:
            t = torch.randint(0, 4, (9,), generator=GEN)
            ref = softmax_rowwise(kind, x, t, **PARAMS[kind]).mean()
        else:
            t = (torch.rand(9, 4, generator=GEN) < 0.4).double()
            ref = sigmoid_elementwise(kind, x, t, **PARAMS[kind]).mean()
        out = fn(x, t, **PARAMS[kind])
        mod = ft.Loss(kind, **PARAMS[kind])
        assert_close(out.detach(), ref.detach(), 1e-12, kind)
        assert_close(mod(x, t).detach(), ref.detach(), 1e-12, kind + " module")


def test_gradcheck_every_kind_float64():
    for kind in fl.kinds():
        info = fl.kind_info(kind)
        for reduction in ("none", "mean", "sum", "positives"):
            x = randn(6, 3).requires_grad_()
            if info.softmax:
                t = torch.tensor([0, 2, 1, -100, 2, 0])
            else:
                t = (torch.rand(6, 3, generator=GEN) < 0.5).double()
                t[2, 1] = 0.3                                   # soft
                t[4, 0] = -1                                    # ignored
            f = lambda z: ft.loss(kind, z, t, reduction=reduction, **params_for(kind, 3))  # noqa: E731
            assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-7), (kind, reduction)


def test_non_contiguous_and_float32():
    x = randn(10, 8)[:, ::2]
    y = (torch.rand(10, 8, generator=GEN) < 0.3).double()[:, ::2]
    assert not x.is_contiguous()
    a = ft.sigmoid_focal_loss(x, y, reduction="sum")
    b = ft.sigmoid_focal_loss(x.contiguous(), y.contiguous(), reduction="sum")
    assert a.item() == b.item()
    xt = randn(10, 8).t().requires_grad_()                    # transposed
    t = torch.randint(0, 10, (8,), generator=GEN)
    out = ft.FocalLoss(gamma=1.0)(xt, t)
    ref = softmax_rowwise("softmax-focal", xt, t, gamma=1.0).mean()
    assert_close(out.detach(), ref.detach(), 1e-12, "transposed")
    assert_close(torch.autograd.grad(out, xt)[0], torch.autograd.grad(ref, xt)[0], 1e-12, "transposed grad")
    x32 = randn(10, 8, dtype=torch.float32)
    out32 = ft.FocalLoss()(x32, t.repeat(2)[:10] % 8)
    assert out32.dtype == torch.float32


def test_clear_errors():
    x = torch.zeros(2, 3, device="meta")
    for call, what in ((lambda: ft.sigmoid_focal_loss(x, x), "CPU only"),
                       (lambda: ft.sigmoid_focal_loss(torch.zeros(2, 3, dtype=torch.float16),
                                                      torch.zeros(2, 3, dtype=torch.float16)), "float32 or float64"),
                       (lambda: ft.FocalLoss()(torch.zeros(2, 3), torch.zeros(2)), "integer class indices"),
                       (lambda: ft.FocalLoss()(torch.zeros(2, 3), torch.tensor([0, 3])), "row 1"),
                       (lambda: ft.Loss("ce", gamma=2), "takes no parameter gamma")):
        try:
            call()
        except (ValueError, TypeError, fl.FocalError) as e:
            assert what in str(e), (what, str(e))
        else:
            raise AssertionError("accepted: " + what)


def test_modules_in_a_training_step():
    net = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x = torch.randn(16, 4, generator=GEN)
    y = (torch.rand(16, 3, generator=GEN) < 0.3).float()
    crit = ft.SigmoidFocalLoss(alpha=0.25, gamma=2.0)
    first = crit(net(x), y).item()
    for _ in range(20):
        opt.zero_grad()
        loss = crit(net(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < first
