"""Classification metrics computed by libfocal, with scikit-learn's names,
argument order and results:

    from focal.metrics import roc_auc_score, average_precision_score, f1_score
    roc_auc_score(y_true, y_score, average="macro")

Functions: roc_auc_score, average_precision_score (binary: 1-D y_true and
y_score; multi-label: (n, c) 0/1 indicators and scores; multi-class: 1-D
class indices with (n, c) scores, one-vs-rest — roc_auc_score then needs
multi_class="ovr" as scikit-learn does), accuracy_score,
balanced_accuracy_score, precision_score, recall_score, f1_score,
matthews_corrcoef, confusion_matrix (y_true, y_pred: labels, or (n, c) 0/1
indicators for multi-label), and best_f1_threshold (focal's own: the
threshold of maximum F1, to choose on validation data).

Undefined values follow scikit-learn's defaults: a precision, recall or F1
with a zero denominator counts as 0 (zero_division="warn" without the
warning); roc_auc_score refuses a class with only positives or only
negatives. sample_weight and the other arguments scikit-learn has and
focal does not (labels, pos_label other than 1, max_fpr, ovo) raise
NotImplementedError rather than being ignored.
"""
import ctypes

import numpy as np

from focal import _lib
from focal._lib import Struct, check

__all__ = ["roc_auc_score", "average_precision_score", "accuracy_score", "balanced_accuracy_score",
           "precision_score", "recall_score", "f1_score", "matthews_corrcoef", "confusion_matrix",
           "best_f1_threshold"]

_TASK = {name: i for i, name in enumerate(_lib.ENUMS["focal_task"])}


def _unsupported(**kw):
    for k, v in kw.items():
        if v is not None and v is not False:
            raise NotImplementedError("focal.metrics: the argument %s is not supported" % k)


def _f64(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    return a


def _u8(y, what="y_true"):
    y = np.asarray(y)
    if y.size and not np.all((y == 0) | (y == 1)):
        raise ValueError("focal.metrics: %s must hold 0/1 labels" % what)
    return np.ascontiguousarray(y.astype(np.uint8))


def _rank(fn, scores, y, name):
    out = ctypes.c_double()
    check(fn(ctypes.byref(out), scores.size, scores.ctypes.data, y.ctypes.data, 1))
    return out.value


def _columns(y_true, y_score):
    """(n, c) 0/1 labels and scores for ranking metrics, and whether binary."""
    y_true = np.asarray(y_true)
    s = _f64(y_score)
    if y_true.ndim == 1 and s.ndim == 1:
        return _u8(y_true).reshape(-1, 1), s.reshape(-1, 1), "binary"
    if y_true.ndim == 2:
        if s.shape != y_true.shape:
            raise ValueError("focal.metrics: y_true %s and y_score %s differ in shape" % (y_true.shape, s.shape))
        return _u8(y_true), s, "multilabel"
    if y_true.ndim == 1 and s.ndim == 2:
        c = s.shape[1]
        yi = y_true.astype(np.int64)
        if yi.size and (yi.min() < 0 or yi.max() >= c):
            raise ValueError("focal.metrics: a class index is outside [0, %d)" % c)
        return (yi[:, None] == np.arange(c)[None, :]).astype(np.uint8), s, "multiclass"
    raise ValueError("focal.metrics: y_true of shape %s and y_score of shape %s do not form a binary, "
                     "multi-label or multi-class problem" % (y_true.shape, s.shape))


def _ranking(fn, y_true, y_score, average, kind, refuse_one_class):
    y, s, task = _columns(y_true, y_score)
    if average not in ("macro", "micro", "weighted", None):
        raise ValueError("focal.metrics: average must be 'macro', 'micro', 'weighted' or None, not %r" % (average,))
    if task == "binary" or average == "micro":
        return _rank(fn, np.ascontiguousarray(s.ravel()), np.ascontiguousarray(y.ravel()), kind)
    vals = np.array([_rank(fn, np.ascontiguousarray(s[:, j]), np.ascontiguousarray(y[:, j]), kind)
                     for j in range(s.shape[1])])
    if refuse_one_class and np.any(np.isnan(vals)):
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    if average is None:
        return vals
    if average == "weighted":
        w = y.sum(axis=0).astype(np.float64)
        return float(np.sum(vals * w) / np.sum(w)) if w.sum() else 0.0
    return float(np.mean(vals))


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None, multi_class="raise",
                  labels=None):
    """Area under the ROC curve, as sklearn.metrics.roc_auc_score."""
    _unsupported(sample_weight=sample_weight, max_fpr=max_fpr, labels=labels)
    if np.asarray(y_true).ndim == 1 and np.asarray(y_score).ndim == 2:
        if multi_class != "ovr":
            raise ValueError("multi_class must be in ('ovo', 'ovr'); focal computes 'ovr'")
        if average == "micro":
            raise ValueError("average must be one of ('macro', 'weighted', None) for multiclass problems")
    if np.asarray(y_true).ndim == 1 and np.asarray(y_score).ndim == 1 and len(np.unique(y_true)) != 2:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    return _ranking(_lib.lib.focal_roc_auc, y_true, y_score, average, "roc_auc", True)


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1, sample_weight=None):
    """Average precision (step-wise area under precision-recall), as sklearn."""
    _unsupported(sample_weight=sample_weight, pos_label=None if pos_label == 1 else pos_label)
    return _ranking(_lib.lib.focal_average_precision, y_true, y_score, average, "average_precision", False)


class _Metrics:
    """focal_metrics_compute on predictions, read back into numpy."""

    def __init__(self, y_true, y_pred):
        yt, yp = np.asarray(y_true), np.asarray(y_pred)
        if yt.shape != yp.shape:
            raise ValueError("focal.metrics: y_true %s and y_pred %s differ in shape" % (yt.shape, yp.shape))
        n = yt.shape[0]
        if n < 1:
            raise ValueError("focal.metrics: no samples")
        label = labels = None
        thresholds = None
        if yt.ndim == 2:
            self.task, c = "multilabel", yt.shape[1]
            labels = _u8(yt)
            scores = _f64(_u8(yp, "y_pred"))
            self.classes = np.arange(c)
        else:
            self.classes = np.unique(np.concatenate([yt, yp]))
            if set(self.classes.tolist()) <= {0, 1}:
                self.task, c = "binary", 1
                self.classes = np.array([0, 1])
                label = np.ascontiguousarray(yt.astype(np.int32))
                scores = _f64(yp)
            else:
                self.task = "multiclass"
                c = len(self.classes)
                label = np.ascontiguousarray(np.searchsorted(self.classes, yt).astype(np.int32))
                scores = _f64(np.searchsorted(self.classes, yp)[:, None] == np.arange(c)[None, :])
        m = Struct("focal_metrics")
        st = _lib.lib.focal_metrics_compute(
            m.ptr, _TASK[self.task], n, c, scores.ctypes.data,
            None if label is None else label.ctypes.data, None if labels is None else labels.ctypes.data,
            thresholds)
        try:
            check(st)
            k = m["num_classes"]
            self.k = k
            for key in ("accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "mcc"):
                setattr(self, key, m[key])
            for key in ("precision", "recall", "f1"):
                setattr(self, key, self._doubles(m[key], k))
            self.support = np.ctypeslib.as_array(ctypes.cast(m["support"], ctypes.POINTER(ctypes.c_int64)),
                                                 shape=(k,)).copy()
            cells = k * 4 if self.task == "multilabel" else k * k
            conf = np.ctypeslib.as_array(ctypes.cast(m["confusion"], ctypes.POINTER(ctypes.c_int64)),
                                         shape=(cells,)).copy()
            self.confusion = conf.reshape(k, 2, 2) if self.task == "multilabel" else conf.reshape(k, k)
        finally:
            _lib.lib.focal_metrics_release(m.ptr)

    @staticmethod
    def _doubles(ptr, k):
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_double)), shape=(k,)).copy()

    def tp_fp_fn(self):
        if self.task == "multilabel":
            c = self.confusion
            return c[:, 1, 1], c[:, 0, 1], c[:, 1, 0]
        c = self.confusion
        tp = np.diag(c)
        return tp, c.sum(axis=0) - tp, c.sum(axis=1) - tp


def _averaged(mt, which, average):
    per = np.nan_to_num(getattr(mt, which), nan=0.0)
    if average == "binary":
        if mt.task != "binary":
            raise ValueError("Target is %s but average='binary'. Please choose another average setting, "
                             "one of [None, 'micro', 'macro', 'weighted']." % mt.task)
        return float(per[1])
    if average is None:
        return per
    if average == "macro":
        return float(np.mean(per))
    if average == "weighted":
        s = mt.support.astype(np.float64)
        return float(np.sum(per * s) / s.sum()) if s.sum() else 0.0
    if average == "micro":
        tp, fp, fn = (np.sum(v) for v in mt.tp_fp_fn())
        num, den = {"precision": (tp, tp + fp), "recall": (tp, tp + fn), "f1": (2 * tp, 2 * tp + fp + fn)}[which]
        return float(num / den) if den else 0.0
    raise ValueError("average has to be one of (None, 'micro', 'macro', 'weighted', 'binary'), not %r" % (average,))


def _prf(which, y_true, y_pred, labels, pos_label, average, sample_weight, zero_division):
    _unsupported(labels=labels, sample_weight=sample_weight, pos_label=None if pos_label == 1 else pos_label)
    if zero_division not in ("warn", 0):
        raise NotImplementedError("focal.metrics: zero_division=%r (focal counts 0)" % (zero_division,))
    return _averaged(_Metrics(y_true, y_pred), which, average)


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                    zero_division="warn"):
    return _prf("precision", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                 zero_division="warn"):
    return _prf("recall", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn"):
    return _prf("f1", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    """Fraction (or, normalize=False, number) of samples predicted right;
    multi-label: every label of the sample right."""
    _unsupported(sample_weight=sample_weight)
    mt = _Metrics(y_true, y_pred)
    n = np.asarray(y_true).shape[0]
    return mt.accuracy if normalize else float(round(mt.accuracy * n))


def balanced_accuracy_score(y_true, y_pred, *, sample_weight=None, adjusted=False):
    """Mean recall over the classes (binary and multi-class)."""
    _unsupported(sample_weight=sample_weight)
    if np.asarray(y_true).ndim != 1:
        raise ValueError("multilabel-indicator is not supported")
    mt = _Metrics(y_true, y_pred)
    score = mt.balanced_accuracy
    if adjusted:
        chance = 1.0 / len(mt.classes)
        score = (score - chance) / (1 - chance)
    return score


def matthews_corrcoef(y_true, y_pred, *, sample_weight=None):
    """Matthews correlation coefficient (binary and multi-class)."""
    _unsupported(sample_weight=sample_weight)
    if np.asarray(y_true).ndim != 1:
        raise ValueError("multilabel-indicator is not supported")
    return _Metrics(y_true, y_pred).mcc


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """Counts, row = true class, column = predicted class, classes sorted."""
    _unsupported(labels=labels, sample_weight=sample_weight, normalize=normalize)
    if np.asarray(y_true).ndim != 1:
        raise ValueError("multilabel-indicator is not supported")
    return _Metrics(y_true, y_pred).confusion


def best_f1_threshold(y_true, y_score):
    """(threshold, F1): the score threshold of maximum F1 when predicting
    positive for score >= threshold (choose it on validation data); NaN, NaN
    without positives."""
    y, s = _u8(np.ravel(y_true)), _f64(np.ravel(y_score))
    t, f = ctypes.c_double(), ctypes.c_double()
    check(_lib.lib.focal_best_f1_threshold(ctypes.byref(t), ctypes.byref(f), s.size, s.ctypes.data,
                                           y.ctypes.data, 1))
    return t.value, f.value
