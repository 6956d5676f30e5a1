"""Every loss of libfocal on numpy arrays, with its gradient; class weights.

    import numpy as np, focal.losses as fl
    loss, grad = fl.sigmoid_focal(logits, targets, alpha=0.25, gamma=2)
    loss, grad = fl.softmax_focal(logits, classes, gamma=2, class_weights=w)
    loss, grad = fl.loss("asl", logits, targets, reduction="sum")

One function per loss kind, named as the library names it with '-' as '_'
(bce, sigmoid_focal, focal_star, asl, sigmoid_poly1, ce, softmax_focal,
softmax_poly1, la, balanced_softmax, ldam, db), and loss(kind, ...) for any
of them. Arguments:

  logits   float32 or float64 array. Sigmoid losses: any shape, the last axis
           being the classes (1-D: one class); softmax losses: (n, c).
  targets  sigmoid: same shape as logits, in [0, 1] (soft allowed), negative
           to ignore the element; softmax: (n,) class indices, ignore_index to
           ignore the row.
  reduction  "mean" (default), "sum", "positives" or "none".
  parameters (keyword only): the ones the kind uses — gamma, alpha, beta,
           gamma_pos, gamma_neg, margin, epsilon, label_smoothing,
           ignore_index, class_weights (c values), class_prior (c values:
           the training split's class counts or frequencies; required by
           la, balanced-softmax, ldam, db), tau, scale, db_alpha, db_beta,
           db_mu, db_lambda, db_kappa — defaults as focal_loss_init; passing
           one the kind does not use is a TypeError.
  grad     False to skip the gradient.

Returns (loss, grad): loss is a float (reduction "none": the per-element
losses, shaped as logits, or the per-row losses for softmax); grad is
d loss / d logits in the logits' dtype and shape (for "none": of each
element's own loss), or None. The computation is the library's fused
kernel; errors raise focal.FocalError with the library's message.
"""
import ctypes

import numpy as np

from focal import _lib
from focal._lib import FocalError, Struct, check

__all__ = ["loss", "kinds", "kind_info", "weights_balanced", "weights_effective", "prior_bias", "FocalError"]

PARAMS = tuple(k for k in _lib.FLAGS["focal_loss_param"] if k != "reduction")
_ARRAY_PARAMS = ("class_weights", "class_prior")   # c values each, pointed to by the struct


class KindInfo:
    """What the library says about a loss kind (focal_loss_info)."""

    def __init__(self, value):
        s = Struct.at("focal_loss_info", _lib.lib.focal_loss_info(value))
        self.value = value
        self.name = _lib.cstring(s["name"])
        self.softmax = bool(s["softmax"])
        bits = s["params"]
        self.params = tuple(p for p, b in _lib.FLAGS["focal_loss_param"].items()
                            if bits & b and p != "reduction")
        self.generic = _lib.cstring(s["generic"])
        d = Struct("focal_loss")
        _lib.lib.focal_loss_init(d.ptr, value)
        self.defaults = {p: d[p] for p in self.params if p not in _ARRAY_PARAMS}

    def __repr__(self):
        return "<loss %s (%s) params %s>" % (self.name, "softmax" if self.softmax else "sigmoid", self.params)


_KINDS = [KindInfo(i) for i in range(len(_lib.ENUMS["focal_loss_kind"]))]


def kinds():
    """The library's loss kind names, in enum order."""
    return [k.name for k in _KINDS]


def kind_info(kind):
    """The KindInfo of a kind name (or enum value)."""
    if isinstance(kind, KindInfo):
        return kind
    if isinstance(kind, int):
        return _KINDS[kind]
    return _KINDS[_lib.enum_value("focal_loss_kind", kind.replace("_", "-"))]


class Prepared:
    """A filled struct focal_loss and the arrays it points to (kept alive)."""

    def __init__(self, kind, reduction, params, classes):
        info = kind_info(kind)
        unknown = sorted(set(params) - set(info.params))
        if unknown:
            raise TypeError("focal: loss %s takes no parameter %s; its parameters are: %s"
                            % (info.name, ", ".join(unknown), ", ".join(info.params) or "none"))
        self.info = info
        self.s = Struct("focal_loss")
        _lib.lib.focal_loss_init(self.s.ptr, info.value)
        self.s["reduction"] = _lib.enum_value("focal_reduction", reduction)
        self.arrays = {}
        for k, v in params.items():
            if v is None:
                continue
            if k in _ARRAY_PARAMS:
                w = np.ascontiguousarray(np.asarray(v, dtype=np.float64).reshape(-1))
                if w.size != classes:
                    raise ValueError("focal: %s has %d values; the logits have %d classes"
                                     % (k, w.size, classes))
                self.arrays[k] = w
                self.s[k] = w.ctypes.data
            elif k == "ignore_index":
                self.s[k] = int(v)
            else:
                self.s[k] = float(v)
        check(_lib.lib.focal_loss_check(self.s.ptr, classes))

    @property
    def ptr(self):
        return self.s.ptr


def _float_array(x, what):
    a = np.asarray(x)
    if a.dtype not in (np.float32, np.float64):
        if a.dtype.kind in "iub":
            a = a.astype(np.float64)
        else:
            raise TypeError("focal: %s must be float32 or float64, not %s" % (what, a.dtype))
    return np.ascontiguousarray(a)


def call(prep, logits, targets, want_grad=True, want_per=False):
    """Runs the kernel on contiguous (n, c) arrays already checked; returns
    (reduced loss, grad or None, per or None)."""
    n, c = logits.shape
    f64 = logits.dtype == np.float64
    grad = np.empty_like(logits) if want_grad else None
    if prep.info.softmax:
        per = np.empty(n, dtype=logits.dtype) if want_per else None
        fn = _lib.lib.focal_softmax_loss_f64 if f64 else _lib.lib.focal_softmax_loss
    else:
        per = np.empty_like(logits) if want_per else None
        fn = _lib.lib.focal_sigmoid_loss_f64 if f64 else _lib.lib.focal_sigmoid_loss
    out = ctypes.c_double()
    check(fn(prep.ptr, n, c, logits.ctypes.data, targets.ctypes.data,
             None if grad is None else grad.ctypes.data, None if per is None else per.ctypes.data,
             ctypes.byref(out)))
    return out.value, grad, per


def softmax_targets(targets, n):
    t = np.asarray(targets)
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(np.isfinite(t)) and np.all(t == np.round(t)):
            pass
        else:
            raise TypeError("focal: softmax targets must be integer class indices, not %s" % t.dtype)
    t = t.reshape(-1)
    if t.size != n:
        raise ValueError("focal: %d targets for %d rows of logits" % (t.size, n))
    if t.size and (t.min() < -2 ** 31 or t.max() >= 2 ** 31):
        raise ValueError("focal: a target is outside the int32 range")
    return np.ascontiguousarray(t.astype(np.int32))


def loss(kind, logits, targets, *, reduction="mean", grad=True, **params):
    """The loss `kind` (a name of kinds()) of logits against targets: (loss, grad).
    See the module's documentation for the arguments."""
    info = kind_info(kind)
    x = _float_array(logits, "logits")
    shape = x.shape
    if info.softmax:
        if x.ndim != 2:
            raise ValueError("focal: softmax logits must be (n, c), not shape %s" % (shape,))
        x2 = x
        t = softmax_targets(targets, x.shape[0])
    else:
        x2 = x.reshape(-1, 1) if x.ndim <= 1 else x.reshape(-1, shape[-1])
        t = np.asarray(targets)
        if t.shape != shape:
            raise ValueError("focal: targets have shape %s; the logits %s" % (t.shape, shape))
        t = np.ascontiguousarray(t.astype(x.dtype, copy=False)).reshape(x2.shape)
    prep = Prepared(info, reduction, params, x2.shape[1])
    none = reduction == "none"
    value, g, per = call(prep, x2, t, want_grad=grad, want_per=none)
    if g is not None:
        g = g.reshape(shape)
    if none:
        return (per if info.softmax else per.reshape(shape)), g
    return value, g


def _kind_function(info):
    def f(logits, targets, *, reduction="mean", grad=True, **params):
        return loss(info, logits, targets, reduction=reduction, grad=grad, **params)
    f.__name__ = info.name.replace("-", "_")
    f.__qualname__ = f.__name__
    defaults = ", ".join("%s=%g" % kv for kv in info.defaults.items())
    f.__doc__ = ("libfocal's %s loss (%s family) and its gradient: (loss, grad).\n"
                 "Parameters: %s%s. See focal.losses for the arguments."
                 % (info.name, "softmax" if info.softmax else "sigmoid",
                    ", ".join(info.params) or "none", (" (defaults " + defaults + ")") if defaults else ""))
    return f


for _info in _KINDS:
    globals()[_info.name.replace("-", "_")] = _kind_function(_info)
    __all__.append(_info.name.replace("-", "_"))


def _counts(counts):
    c = np.ascontiguousarray(np.asarray(counts, dtype=np.float64).reshape(-1))
    return c, np.empty_like(c)


def weights_balanced(counts):
    """scikit-learn's "balanced" class weights N / (C · n_c) from per-class counts."""
    c, w = _counts(counts)
    check(_lib.lib.focal_weights_balanced(w.ctypes.data, c.ctypes.data, c.size))
    return w


def weights_effective(counts, beta=0.999):
    """Class-balanced weights (1 − β)/(1 − β^n_c), rescaled to sum to C (Cui et al. 2019)."""
    c, w = _counts(counts)
    check(_lib.lib.focal_weights_effective(w.ctypes.data, c.ctypes.data, c.size, float(beta)))
    return w


def class_counts(y, num_classes=None):
    """Per-class counts of class indices (1-D) or of positives in a 0/1 indicator matrix (2-D)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return (y >= 0.5).sum(axis=0).astype(np.float64)
    return np.bincount(y.astype(np.int64), minlength=num_classes or 0).astype(np.float64)


def prior_bias(pi):
    """The output bias −log((1 − π)/π) that starts a sigmoid output at prior π."""
    b = ctypes.c_double()
    check(_lib.lib.focal_prior_bias(float(pi), ctypes.byref(b)))
    return b.value


__all__.append("class_counts")
