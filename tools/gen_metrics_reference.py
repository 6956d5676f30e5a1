#!/usr/bin/env python3
"""Writes tests/fixtures/metrics_reference.txt: classification metrics computed by
scikit-learn, read by tests/eval/test_metrics.c to check src/metrics.c.

Run with the system Python (scikit-learn, numpy):

    /usr/bin/python3 tools/gen_metrics_reference.py

The output path is derived from this file's location; the output is
deterministic (fixed seed).

Where the values come from (definitions in include/focal.h, "Metrics"):
  * per class: precision_recall_fscore_support(average=None, zero_division=0)
    and multilabel_confusion_matrix for the counts; values that focal.h calls
    undefined are then set to NaN (precision with no positive prediction;
    recall and f1 with no positive sample), where scikit-learn writes 0.
  * roc_auc_score and average_precision_score per class (one vs rest; binary
    class 0 is scored by the negated score), NaN where focal.h says undefined.
    Each AUC is also checked here against the Mann-Whitney pair count (ties
    count one half) and each AP against its step-wise definition.
  * accuracy_score (multi-label: subset accuracy), balanced_accuracy_score
    (multi-label: per label, then the mean over labels with positives),
    f1_score macro over the classes with positives, micro and weighted over
    all classes, matthews_corrcoef (multi-label: on the flattened decisions),
    confusion_matrix / multilabel_confusion_matrix.
  * best-F1 thresholds: brute force over every distinct score t with
    f1_score(y, s >= t); equal F1 (compared exactly, as fractions) goes to the
    highest t.
  * RIADD: roc_auc_score of the Disease_Risk column, the mean AP and mean AUC of
    the other columns (each checked against the average='macro' scores of
    scikit-learn when every column is defined), 0.5 risk + 0.5 (0.5 mAP + 0.5 AUC).

Every number is written with repr() (the shortest text that reads back as the
same double), NaN as "nan".
"""

import math
import os
import platform
import sys
import warnings
from fractions import Fraction

import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, average_precision_score, balanced_accuracy_score,
                             confusion_matrix, f1_score, matthews_corrcoef,
                             multilabel_confusion_matrix, precision_recall_fscore_support,
                             roc_auc_score)

FORMAT_TAG = "focal-metrics-reference 1"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT_REL = os.path.join("tests", "fixtures", "metrics_reference.txt")

SCALARS = ["accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "weighted_f1", "mcc",
           "roc_auc_macro", "average_precision_macro"]
PER_CLASS = ["precision", "recall", "f1", "roc_auc", "average_precision"]
SELF_CHECK_TOL = 1e-12


def fmt(x):
    x = float(x)
    return "nan" if math.isnan(x) else repr(x)


def nanmean(v):
    v = [x for x in v if not math.isnan(x)]
    return float(np.mean(v)) if v else math.nan


def pair_auc(y, s):
    """Mann-Whitney: P(s+ > s-) + P(s+ = s-)/2 over all pairs, exactly."""
    pos, neg = s[y == 1], s[y == 0]
    gt = sum(int((p > neg).sum()) for p in pos)
    eq = sum(int((p == neg).sum()) for p in pos)
    return float(Fraction(2 * gt + eq, 2 * len(pos) * len(neg)))


def step_ap(y, s):
    """Σ (R_k − R_{k−1}) P_k over the distinct scores from the highest."""
    P = int(y.sum())
    total = Fraction(0)
    tp_prev = 0
    for t in sorted(set(s.tolist()), reverse=True):
        sel = s >= t
        tp, fp = int(y[sel].sum()), int((1 - y[sel]).sum())
        total += Fraction(tp - tp_prev, P) * Fraction(tp, tp + fp)
        tp_prev = tp
    return float(total)


def auc_ap(y, s):
    """(ROC-AUC, AP) of one class, NaN where focal.h says undefined."""
    y = np.asarray(y, dtype=int)
    P = int(y.sum())
    N = len(y) - P
    auc = roc_auc_score(y, s) if P and N else math.nan
    ap = average_precision_score(y, s) if P else math.nan
    if P and N:
        assert abs(auc - pair_auc(y, s)) <= SELF_CHECK_TOL, (auc, pair_auc(y, s))
    if P:
        assert abs(ap - step_ap(y, s)) <= SELF_CHECK_TOL, (ap, step_ap(y, s))
    return auc, ap


def reference(task, S, y, Y, thr):
    """The metrics of focal.h computed with scikit-learn."""
    n, c = S.shape
    if task == "binary":
        K = 2
        truth, pred = y, (S[:, 0] >= thr[0]).astype(int)
    elif task == "multiclass":
        K = c
        truth, pred = y, S.argmax(axis=1)
    else:
        K = c
        truth, pred = Y, (S >= np.asarray(thr)[None, :]).astype(int)
    labels = list(range(K))
    if task == "multilabel":
        # column by column, so that one label (an n x 1 matrix, which scikit-learn
        # takes for a binary target) is handled too; cross-checked below
        prfs = [precision_recall_fscore_support(Y[:, j], pred[:, j], labels=[1], average=None,
                                                zero_division=0) for j in labels]
        p, r, f, sup = (np.array([v[q][0] for v in prfs]) for q in range(4))
        mcm = np.array([confusion_matrix(Y[:, j], pred[:, j], labels=[0, 1]) for j in labels])
        if c > 1:
            p2, r2, f2, sup2 = precision_recall_fscore_support(Y, pred, average=None, zero_division=0)
            assert np.allclose(p, p2, 0, SELF_CHECK_TOL) and np.allclose(f, f2, 0, SELF_CHECK_TOL)
            assert (sup == sup2).all() and (mcm == multilabel_confusion_matrix(Y, pred)).all()
    else:
        p, r, f, sup = precision_recall_fscore_support(truth, pred, labels=labels, average=None,
                                                       zero_division=0)
        mcm = multilabel_confusion_matrix(truth, pred, labels=labels)
    tp, fp, fn = mcm[:, 1, 1], mcm[:, 0, 1], mcm[:, 1, 0]
    assert (sup == tp + fn).all()
    prec = [math.nan if tp[j] + fp[j] == 0 else p[j] for j in labels]
    rec = [math.nan if sup[j] == 0 else r[j] for j in labels]
    f1 = [math.nan if sup[j] == 0 else f[j] for j in labels]
    present = [j for j in labels if sup[j] > 0]

    out = {"support": [int(v) for v in sup], "precision": prec, "recall": rec, "f1": f1}
    out["accuracy"] = accuracy_score(truth, pred)
    if task == "multilabel":
        out["balanced_accuracy"] = nanmean(
            [balanced_accuracy_score(Y[:, j], pred[:, j]) for j in present])
        out["mcc"] = matthews_corrcoef(Y.ravel(), pred.ravel())
        out["confusion"] = mcm.ravel().tolist()
    else:
        out["balanced_accuracy"] = balanced_accuracy_score(truth, pred)
        out["mcc"] = matthews_corrcoef(truth, pred)
        out["confusion"] = confusion_matrix(truth, pred, labels=labels).ravel().tolist()
    if task == "multilabel":
        # micro: every label decision; macro/weighted: over the columns
        macro = nanmean([f[j] for j in present])
        micro = f1_score(Y.ravel(), pred.ravel(), zero_division=0)
        weighted = float(np.dot(sup, f) / sup.sum()) if sup.sum() else math.nan
        if c > 1:
            for avg, v in [("micro", micro), ("weighted", weighted)] + (
                    [("macro", macro)] if present else []):
                ref = f1_score(Y, pred, labels=present if avg == "macro" else labels, average=avg,
                               zero_division=0)
                assert math.isnan(v) or abs(v - ref) <= SELF_CHECK_TOL, (avg, v, ref)
        out["macro_f1"], out["micro_f1"], out["weighted_f1"] = macro, micro, weighted
    else:
        out["macro_f1"] = (f1_score(truth, pred, labels=present, average="macro", zero_division=0)
                           if present else math.nan)
        out["micro_f1"] = f1_score(truth, pred, labels=labels, average="micro", zero_division=0)
        out["weighted_f1"] = f1_score(truth, pred, labels=labels, average="weighted", zero_division=0)
    if tp.sum() + fp.sum() + fn.sum() == 0:
        out["micro_f1"] = math.nan
    if sup.sum() == 0:
        out["weighted_f1"] = math.nan

    if task == "binary":
        a0 = auc_ap(1 - y, -S[:, 0])
        a1 = auc_ap(y, S[:, 0])
        aucs, aps = [a0[0], a1[0]], [a0[1], a1[1]]
        out["roc_auc_macro"], out["average_precision_macro"] = a1
    else:
        cols = [(y == j).astype(int) if task == "multiclass" else Y[:, j] for j in labels]
        pairs = [auc_ap(cols[j], S[:, j]) for j in labels]
        aucs, aps = [a for a, _ in pairs], [b for _, b in pairs]
        out["roc_auc_macro"], out["average_precision_macro"] = nanmean(aucs), nanmean(aps)
    out["roc_auc"], out["average_precision"] = aucs, aps
    return out


def best_f1(y, s):
    """(threshold, F1) maximising F1 of s >= t; ties to the highest t; NaN without positives."""
    P = int(y.sum())
    if P == 0:
        return math.nan, math.nan
    best = None
    for t in sorted(set(s.tolist()), reverse=True):
        pred = (s >= t).astype(int)
        tp, fp = int((pred & y).sum()), int((pred & (1 - y)).sum())
        exact = Fraction(2 * tp, tp + fp + P)
        value = f1_score(y, pred, zero_division=0)
        assert abs(value - float(exact)) <= SELF_CHECK_TOL
        if best is None or exact > best[0]:
            best = (exact, t, value)
    return best[1], best[2]


def riadd(S, Y, risk_col):
    c = S.shape[1]
    per = {j: auc_ap(Y[:, j], S[:, j]) for j in range(c)}
    others = [j for j in range(c) if j != risk_col]
    risk_auc = per[risk_col][0]
    mAP = nanmean([per[j][1] for j in others])
    mAUC = nanmean([per[j][0] for j in others])
    Yo, So = Y[:, others], S[:, others]
    if all(0 < Yo[:, j].sum() < len(Yo) for j in range(len(others))):
        assert abs(mAUC - roc_auc_score(Yo, So, average="macro")) <= SELF_CHECK_TOL
        assert abs(mAP - average_precision_score(Yo, So, average="macro")) <= SELF_CHECK_TOL
    score = 0.5 * risk_auc + 0.5 * (0.5 * mAP + 0.5 * mAUC)
    return risk_auc, mAP, mAUC, score


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def scores_for(rng, flavor, truth01, shape):
    """Scores of a given shape; truth01 (same shape, 0/1) guides perfect/inverted/informative."""
    if flavor == "perfect":
        return 0.6 + 0.4 * rng.random(shape) * truth01 - 0.5 * rng.random(shape) * (1 - truth01) - 0.1 * (1 - truth01)
    if flavor == "inverted":
        return 1.0 - scores_for(rng, "perfect", truth01, shape)
    s = np.clip(0.5 * rng.random(shape) + 0.35 * truth01 + 0.15 * rng.standard_normal(shape), 0, 1)
    if flavor == "ties":
        s = np.round(s, 1)
    elif flavor == "constant":
        s = np.full(shape, 0.5)
    elif flavor == "logits":
        s = 4.0 * (s - 0.5)
    return s


def binary_case(rng, n, flavor, prevalence, thr):
    if prevalence in (0.0, 1.0):
        y = np.full(n, int(prevalence))
    else:
        y = (rng.random(n) < prevalence).astype(int)
        y[:2] = [1, 0]                    # both classes present unless asked otherwise
    S = scores_for(rng, flavor, y.astype(float), n).reshape(n, 1)
    return S, y, None, thr


def multiclass_case(rng, n, c, flavor, absent=(), only=None):
    classes = [j for j in range(c) if j not in absent]
    y = np.array([only] * n) if only is not None else rng.choice(classes, size=n)
    onehot = np.eye(c)[y]
    S = scores_for(rng, flavor, onehot, (n, c))
    return S, y, None, None


def multilabel_case(rng, n, c, flavor, prevalences, thr):
    Y = np.zeros((n, c), dtype=int)
    for j, p in enumerate(prevalences):
        Y[:, j] = (rng.random(n) < p).astype(int)
    S = scores_for(rng, flavor, Y.astype(float), (n, c))
    return S, None, Y, thr


def case_text(cid, task, S, y, Y, thr, flavor):
    n, c = S.shape
    ref = reference(task, S, y, Y, thr if thr is not None else [0.5] * c)
    lines = ["case %d task=%s n=%d c=%d flavor=%s thresholds=%d" %
             (cid, task, n, c, flavor, 0 if thr is None else 1),
             "scores " + " ".join(fmt(v) for v in S.ravel()),
             "labels " + " ".join("%d" % v for v in (Y.ravel() if Y is not None else y))]
    if thr is not None:
        lines.append("thresholds " + " ".join(fmt(v) for v in thr))
    for k in SCALARS:
        lines.append("%s %s" % (k, fmt(ref[k])))
    lines.append("support " + " ".join("%d" % v for v in ref["support"]))
    for k in PER_CLASS:
        lines.append("%s %s" % (k, " ".join(fmt(v) for v in ref[k])))
    lines.append("confusion " + " ".join("%d" % v for v in ref["confusion"]))
    lines.append("end")
    return "\n".join(lines) + "\n"


def metrics_cases(rng):
    out = []  # (task, S, y, Y, thr, flavor)
    for flavor in ["random", "ties", "perfect", "inverted", "constant"]:
        for n in [2, 3, 7, 40, 250]:
            out.append(("binary",) + binary_case(rng, n, flavor, 0.3, None) + (flavor,))
    for prevalence in [0.0, 1.0]:
        for flavor in ["random", "ties"]:
            out.append(("binary",) + binary_case(rng, 12, flavor, prevalence, None) + (flavor + "-one-class",))
    for thr in [0.3, 0.5, 0.7, 0.0, 1.0]:
        out.append(("binary",) + binary_case(rng, 60, "ties", 0.4, [thr]) + ("ties-threshold",))
    out.append(("binary",) + binary_case(rng, 50, "logits", 0.2, [0.0]) + ("logits",))
    out.append(("binary",) + binary_case(rng, 1, "random", 1.0, None) + ("single-sample",))

    for flavor in ["random", "ties", "perfect", "inverted", "constant"]:
        for n, c in [(2, 3), (3, 3), (30, 4), (200, 6)]:
            out.append(("multiclass",) + multiclass_case(rng, n, c, flavor) + (flavor,))
    for flavor in ["random", "ties"]:
        out.append(("multiclass",) + multiclass_case(rng, 40, 5, flavor, absent=(1, 3)) + (flavor + "-absent",))
        out.append(("multiclass",) + multiclass_case(rng, 15, 3, flavor, only=2) + (flavor + "-one-class",))
    out.append(("multiclass",) + multiclass_case(rng, 25, 2, "random") + ("two-classes",))

    for flavor in ["random", "ties", "perfect", "inverted", "constant"]:
        for n, c in [(2, 5), (3, 6), (50, 7), (300, 10)]:
            prev = list(rng.uniform(0.05, 0.5, size=c))
            out.append(("multilabel",) + multilabel_case(rng, n, c, flavor, prev, None) + (flavor,))
    for flavor in ["random", "ties"]:
        prev = [0.3, 0.0, 1.0, 0.1, 0.5, 0.0, 0.2, 0.05]
        out.append(("multilabel",) + multilabel_case(rng, 60, 8, flavor, prev, None) + (flavor + "-undefined",))
        thr = [float(v) for v in np.round(rng.uniform(0.1, 0.9, size=6), 1)]
        prev = list(rng.uniform(0.05, 0.5, size=6))
        out.append(("multilabel",) + multilabel_case(rng, 80, 6, flavor, prev, thr) + (flavor + "-thresholds",))
    out.append(("multilabel",) + multilabel_case(rng, 20, 5, "random", [0.0] * 5, None) + ("no-positives",))
    out.append(("multilabel",) + multilabel_case(rng, 10, 1, "random", [0.4], None) + ("one-label",))
    return out


def threshold_cases(rng):
    out = []
    for flavor in ["random", "ties", "perfect", "inverted", "constant"]:
        for n in [1, 2, 3, 10, 100, 400]:
            y = (rng.random(n) < 0.3).astype(int)
            if n > 1:
                y[0] = 1
            out.append((flavor, scores_for(rng, flavor, y.astype(float), n), y))
    y = np.zeros(20, dtype=int)
    out.append(("no-positives", scores_for(rng, "random", y.astype(float), 20), y))
    y = np.ones(20, dtype=int)
    out.append(("all-positives", scores_for(rng, "ties", y.astype(float), 20), y))
    # equal best F1 at two thresholds: {0.9:+, 0.8:-, 0.7:-, 0.6:+} gives 2/3 at 0.9 and 0.6
    out.append(("tie-break", np.array([0.7, 0.9, 0.6, 0.8]), np.array([0, 1, 1, 0])))
    return out


def riadd_cases(rng):
    out = []
    for flavor in ["random", "ties", "perfect", "inverted"]:
        for n, c, col in [(40, 6, 0), (120, 10, 0), (60, 5, 3), (3, 4, 0)]:
            Y = (rng.random((n, c)) < rng.uniform(0.1, 0.6, size=c)[None, :]).astype(int)
            Y[:, col] = (Y.sum(axis=1) > 0).astype(int)
            Y[0, col], Y[-1, col] = 1, 0
            out.append((flavor, scores_for(rng, flavor, Y.astype(float), (n, c)), Y, col))
    Y = (rng.random((30, 6)) < 0.3).astype(int)
    Y[:, 2] = 0
    Y[:, 4] = 1
    Y[0, 0], Y[1, 0] = 1, 0
    out.append(("undefined-labels", scores_for(rng, "random", Y.astype(float), (30, 6)), Y, 0))
    Y = np.ones((8, 3), dtype=int)
    out.append(("risk-undefined", scores_for(rng, "random", Y.astype(float), (8, 3)), Y, 0))
    return out


def main():
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(20210401)
    texts = []
    cm = metrics_cases(rng)
    for task, S, y, Y, thr, flavor in cm:
        texts.append(case_text(len(texts) + 1, task, S, y, Y, thr, flavor))
    tc = threshold_cases(rng)
    for flavor, s, y in tc:
        t, f = best_f1(y, s)
        texts.append("threshold %d n=%d flavor=%s\nscores %s\nlabels %s\nbest_threshold %s\nbest_f1 %s\nend\n" % (
            len(texts) + 1, len(s), flavor, " ".join(fmt(v) for v in s), " ".join("%d" % v for v in y),
            fmt(t), fmt(f)))
    rc = riadd_cases(rng)
    for flavor, S, Y, col in rc:
        vals = riadd(S, Y, col)
        texts.append("riadd %d n=%d c=%d risk_col=%d flavor=%s\nscores %s\nlabels %s\n"
                     "risk_auc %s\nmap %s\nmacro_auc %s\nscore %s\nend\n" % (
                         len(texts) + 1, S.shape[0], S.shape[1], col, flavor,
                         " ".join(fmt(v) for v in S.ravel()), " ".join("%d" % v for v in Y.ravel()),
                         *(fmt(v) for v in vals)))

    versions = "python %s, scikit-learn %s, numpy %s" % (
        platform.python_version(), sklearn.__version__, np.__version__)
    header = [
        "# %s | generated by: /usr/bin/python3 tools/gen_metrics_reference.py | %s" % (FORMAT_TAG, versions),
        "# Reference classification metrics for libfocal (definitions in include/focal.h, Metrics;",
        "# sources in tools/gen_metrics_reference.py). Do not edit: regenerate.",
        "# Three kinds of record, each ending with 'end':",
        "#   case ID task=T n=N c=C flavor=F thresholds=0|1, then 'scores' (n*c), 'labels' (n, or",
        "#     n*c for multilabel), 'thresholds' (only if thresholds=1; else 0.5 each), one line per",
        "#     summary value, 'support', one line per per-class value, 'confusion' (row-major).",
        "#   threshold ID n=N flavor=F: 'scores', 'labels', 'best_threshold', 'best_f1'.",
        "#   riadd ID n=N c=C risk_col=K flavor=F: 'scores', 'labels', 'risk_auc', 'map',",
        "#     'macro_auc', 'score'.",
        "# 'nan' marks an undefined value. The next line counts the records of each kind; the",
        "# last line repeats the total.",
        "records case=%d threshold=%d riadd=%d" % (len(cm), len(tc), len(rc)),
    ]
    path = os.path.join(REPO, OUT_REL)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(header) + "\n")
        f.writelines(texts)
        f.write("eof %d\n" % len(texts))
    os.replace(tmp, path)
    print("wrote %s: %d metrics cases, %d threshold cases, %d riadd cases, %d bytes" % (
        OUT_REL, len(cm), len(tc), len(rc), os.path.getsize(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
