"""libfocal's losses as torch.autograd Functions and nn.Modules.

Drop-in for the signatures people already call:

    from focal.torch import sigmoid_focal_loss, FocalLoss
    sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none")  # torchvision's
    FocalLoss(alpha=torch.tensor([1., 2., 4.]), gamma=2, ignore_index=-100, reduction="mean")
                                                 # softmax; as kornia / segmentation_models_pytorch

and, for every loss kind of the library, a function (bce, sigmoid_focal,
focal_star, asl, sigmoid_poly1, ce, softmax_focal, softmax_poly1, la,
balanced_softmax, ldam, db — focal.losses' names) and a module (Loss(kind, **params); BCELoss, SigmoidFocalLoss,
FocalStarLoss, ASLLoss, SigmoidPoly1Loss, CrossEntropyLoss, FocalLoss,
SoftmaxPoly1Loss).

Tensors: CPU only (another device is a clear error), float32 or float64,
contiguous or not. Sigmoid losses take logits of any shape with targets of
the same shape; softmax losses take (N, C) or (N, C, d1, ...) logits with
(N,) or (N, d1, ...) class indices. The forward pass runs the library's fused
kernel, which writes the gradient too; backward scales it by grad_output.
The gradient is with respect to the logits only (targets get none).
"""
import ctypes

import numpy as np
import torch
from torch import nn

from focal import _lib
from focal import losses as _losses

__all__ = ["loss", "sigmoid_focal_loss", "FocalLoss", "Loss", "LossFunction"]

_REDUCTIONS = ("none", "mean", "sum", "positives")


def _check_tensor(t, what):
    if not isinstance(t, torch.Tensor):
        raise TypeError("focal.torch: %s must be a torch.Tensor, not %s" % (what, type(t).__name__))
    if t.device.type != "cpu":
        raise ValueError("focal.torch: %s is on %s; libfocal computes on the CPU only — move it with .cpu()"
                         % (what, t.device))


class LossFunction(torch.autograd.Function):
    """autograd Function: (logits2d, targets2d, prepared loss, want per-element) → loss.
    logits2d is (n, c); the output is a scalar, or the per-element (n, c) /
    per-row (n,) losses for reduction "none"."""

    @staticmethod
    def forward(ctx, logits, targets, prep, none):
        x = logits.detach().contiguous()
        n, c = x.shape
        f64 = x.dtype == torch.float64
        grad = torch.empty_like(x) if logits.requires_grad else None
        if prep.info.softmax:
            per = torch.empty(n, dtype=x.dtype) if none else None
            fn = _lib.lib.focal_softmax_loss_f64 if f64 else _lib.lib.focal_softmax_loss
        else:
            per = torch.empty_like(x) if none else None
            fn = _lib.lib.focal_sigmoid_loss_f64 if f64 else _lib.lib.focal_sigmoid_loss
        out = ctypes.c_double()
        _lib.check(fn(prep.ptr, n, c, x.data_ptr(), targets.data_ptr(),
                      None if grad is None else grad.data_ptr(),
                      None if per is None else per.data_ptr(), ctypes.byref(out)))
        ctx.softmax = prep.info.softmax
        ctx.none = none
        if grad is not None:
            ctx.save_for_backward(grad)
        ctx.mark_non_differentiable(targets)
        if none:
            return per
        return torch.tensor(out.value, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None
        (grad,) = ctx.saved_tensors
        if not ctx.none:
            # loss.backward() seeds 1: the kernel's gradient is the answer, no pass over it
            if grad_out.numel() == 1 and not grad_out.requires_grad and grad_out.item() == 1.0:
                return grad, None, None, None
            g = grad * grad_out
        elif ctx.softmax:
            g = grad * grad_out.unsqueeze(1)
        else:
            g = grad * grad_out
        return g, None, None, None


def _weights_numpy(w):
    if w is None:
        return None
    if isinstance(w, torch.Tensor):
        return w.detach().cpu().to(torch.float64).numpy()
    return np.asarray(w, dtype=np.float64)


def loss(kind, input, target, reduction="mean", **params):
    """The library's loss `kind` (focal.losses.kinds()) of input logits
    against target, differentiable in input. See the module's documentation."""
    info = _losses.kind_info(kind)
    _check_tensor(input, "input")
    _check_tensor(target, "target")
    if input.dtype not in (torch.float32, torch.float64):
        raise TypeError("focal.torch: input must be float32 or float64, not %s" % input.dtype)
    if reduction not in _REDUCTIONS:
        raise ValueError("focal.torch: reduction %r; expected one of %s" % (reduction, ", ".join(_REDUCTIONS)))
    for k in ("class_weights", "class_prior"):
        if k in params:
            params[k] = _weights_numpy(params[k])
    shape = input.shape
    if info.softmax:
        if input.dim() < 2:
            raise ValueError("focal.torch: %s takes (N, C) or (N, C, d1, ...) logits, not shape %s"
                             % (info.name, tuple(shape)))
        c = shape[1]
        x = input.movedim(1, -1).reshape(-1, c) if input.dim() > 2 else input
        out_shape = (shape[0],) + tuple(shape[2:])
        if tuple(target.shape) != out_shape:
            raise ValueError("focal.torch: target has shape %s; (N, d1, ...) = %s expected"
                             % (tuple(target.shape), out_shape))
        if target.dtype.is_floating_point or target.dtype == torch.bool:
            raise TypeError("focal.torch: %s takes integer class indices as target, not %s" % (info.name, target.dtype))
        t = target.reshape(-1).to(torch.int32).contiguous()
    else:
        c = shape[-1] if input.dim() >= 2 else 1
        x = input.reshape(-1, c)
        out_shape = tuple(shape)
        if tuple(target.shape) != tuple(shape):
            raise ValueError("focal.torch: target has shape %s; the input %s" % (tuple(target.shape), tuple(shape)))
        t = target.detach().reshape(-1, c).to(input.dtype).contiguous()
    prep = _losses.Prepared(info, reduction, params, c)
    none = reduction == "none"
    out = LossFunction.apply(x, t, prep, none)
    return out.reshape(out_shape) if none else out


def sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction="none"):
    """torchvision.ops.sigmoid_focal_loss's signature and semantics, through
    libfocal: α_t (1 − p_t)^γ BCE per element (alpha < 0: no α weighting);
    reduction "none" (default, as torchvision), "mean" or "sum"."""
    return loss("sigmoid-focal", inputs, targets, reduction=reduction, alpha=alpha, gamma=gamma)


def _kind_function(info):
    def f(input, target, reduction="mean", **params):
        return loss(info, input, target, reduction=reduction, **params)
    f.__name__ = info.name.replace("-", "_")
    f.__qualname__ = f.__name__
    f.__doc__ = "libfocal's %s loss on torch tensors; parameters: %s." % (info.name, ", ".join(info.params))
    return f


for _info in _losses._KINDS:
    globals()[_info.name.replace("-", "_")] = _kind_function(_info)
    __all__.append(_info.name.replace("-", "_"))


class Loss(nn.Module):
    """nn.Module for the library's loss `kind` with fixed parameters:
    Loss("asl", gamma_neg=4, reduction="sum")(logits, targets)."""

    def __init__(self, kind, reduction="mean", **params):
        super().__init__()
        self.info = _losses.kind_info(kind)
        unknown = sorted(set(params) - set(self.info.params))
        if unknown:
            raise TypeError("focal.torch: loss %s takes no parameter %s; its parameters are: %s"
                            % (self.info.name, ", ".join(unknown), ", ".join(self.info.params)))
        self.reduction = reduction
        for k in ("class_weights", "class_prior"):
            w = params.pop(k, None)
            if w is not None:
                self.register_buffer(k, torch.as_tensor(w, dtype=torch.float64).reshape(-1))
            else:
                setattr(self, k, None)
        self.params = params

    def forward(self, input, target):
        arrays = {k: getattr(self, k) for k in ("class_weights", "class_prior") if getattr(self, k) is not None}
        return loss(self.info, input, target, reduction=self.reduction, **arrays, **self.params)

    def extra_repr(self):
        p = ", ".join("%s=%r" % kv for kv in self.params.items())
        return "%s, reduction=%r%s" % (self.info.name, self.reduction, ", " + p if p else "")


class FocalLoss(Loss):
    """Softmax focal loss, as kornia / segmentation_models_pytorch users call it:
    FocalLoss(alpha, gamma=2.0, reduction="mean", ignore_index=-100).
    alpha: None, a float (scales the loss) or per-class weights (a sequence or
    tensor of C values: the weight of each row's true class). Input (N, C) or
    (N, C, d1, ...), target (N,) or (N, d1, ...) class indices."""

    def __init__(self, alpha=None, gamma=2.0, reduction="mean", ignore_index=-100, label_smoothing=0.0):
        weights, scalar = None, None
        if alpha is not None:
            if isinstance(alpha, (int, float)):
                scalar = float(alpha)
            else:
                weights = alpha
        super().__init__("softmax-focal", reduction=reduction, gamma=float(gamma), ignore_index=int(ignore_index),
                         label_smoothing=float(label_smoothing), alpha=scalar, class_weights=weights)


class SigmoidFocalLoss(Loss):
    """torchvision's sigmoid focal loss as a module (reduction "mean" by default)."""

    def __init__(self, alpha=0.25, gamma=2.0, reduction="mean"):
        super().__init__("sigmoid-focal", reduction=reduction, alpha=alpha, gamma=gamma)


def _kind_module(info, name):
    def __init__(self, reduction="mean", **params):
        Loss.__init__(self, info, reduction=reduction, **params)
    return type(name, (Loss,), {"__init__": __init__,
                                "__doc__": "nn.Module of libfocal's %s loss; parameters: %s, reduction."
                                % (info.name, ", ".join(info.params))})


_MODULE_NAMES = {"bce": "BCELoss", "focal-star": "FocalStarLoss", "asl": "ASLLoss",
                 "sigmoid-poly1": "SigmoidPoly1Loss", "ce": "CrossEntropyLoss", "softmax-poly1": "SoftmaxPoly1Loss"}
for _info in _losses._KINDS:
    _name = _MODULE_NAMES.get(_info.name)
    if _name:
        globals()[_name] = _kind_module(_info, _name)
        __all__.append(_name)
__all__ += ["SigmoidFocalLoss"]
