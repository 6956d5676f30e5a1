"""focal.metrics against scikit-learn on binary, multi-class and multi-label data."""
import warnings

import numpy as np
import sklearn.metrics as sk

import focal.metrics as fm

REQUIRES = ("numpy", "sklearn")
warnings.filterwarnings("ignore", module="sklearn")   # "y_pred contains classes not in y_true"
R = np.random.default_rng(0)
YB = R.integers(0, 2, 50)
SB = np.round(R.random(50), 2)                 # ties
PB = (SB > 0.5).astype(int)
YM = R.integers(0, 4, 60)
SM = R.random((60, 4))
SM /= SM.sum(1, keepdims=True)
PM = SM.argmax(1)
YL = (R.random((40, 5)) < 0.3).astype(int)
SL = R.random((40, 5))
PL = (SL > 0.6).astype(int)


def same(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-12), "%s: %s != %s" % (what, a, b)


def test_ranking_metrics():
    for f in ("roc_auc_score", "average_precision_score"):
        same(getattr(fm, f)(YB, SB), getattr(sk, f)(YB, SB), f + " binary")
        for avg in ("macro", "micro", "weighted", None):
            same(getattr(fm, f)(YL, SL, average=avg), getattr(sk, f)(YL, SL, average=avg), "%s %s" % (f, avg))
    for avg in ("macro", "weighted", None):
        same(fm.roc_auc_score(YM, SM, average=avg, multi_class="ovr"),
             sk.roc_auc_score(YM, SM, average=avg, multi_class="ovr"), "ovr " + str(avg))


def test_prediction_metrics():
    for f in ("precision_score", "recall_score", "f1_score"):
        for yt, yp in ((YB, PB), (YM, PM), (YL, PL)):
            for avg in (["binary"] if yt is YB else []) + ["macro", "micro", "weighted", None]:
                same(getattr(fm, f)(yt, yp, average=avg), getattr(sk, f)(yt, yp, average=avg, zero_division=0),
                     "%s %s" % (f, avg))
    for f in ("accuracy_score", "balanced_accuracy_score", "matthews_corrcoef", "confusion_matrix"):
        for yt, yp in ((YB, PB), (YM, PM), (YM + 3, PM * 2)):  # labels need not be 0..C-1
            same(getattr(fm, f)(yt, yp), getattr(sk, f)(yt, yp), f)
    same(fm.accuracy_score(YL, PL), sk.accuracy_score(YL, PL), "subset accuracy")
    same(fm.accuracy_score(YM, PM, normalize=False), sk.accuracy_score(YM, PM, normalize=False), "count")
    same(fm.balanced_accuracy_score(YM, PM, adjusted=True), sk.balanced_accuracy_score(YM, PM, adjusted=True), "adj")


def test_refusals_as_sklearn():
    for call, what in ((lambda: fm.roc_auc_score(YM, SM), "multi_class"),
                       (lambda: fm.roc_auc_score(np.ones(5), np.arange(5.0)), "Only one class"),
                       (lambda: fm.f1_score(YM, PM), "average='binary'"),
                       (lambda: fm.f1_score(YB, PB, sample_weight=np.ones(50)), "sample_weight")):
        try:
            call()
        except (ValueError, NotImplementedError) as e:
            assert what in str(e), (what, str(e))
        else:
            raise AssertionError("accepted: " + what)


def test_best_f1_threshold():
    t, f1 = fm.best_f1_threshold(YB, SB)
    assert t in SB
    same(f1, sk.f1_score(YB, (SB >= t).astype(int)), "F1 at the threshold")
    for cand in np.unique(SB):
        assert sk.f1_score(YB, (SB >= cand).astype(int)) <= f1 + 1e-12
