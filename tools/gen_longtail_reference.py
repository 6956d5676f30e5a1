#!/usr/bin/env python3
"""Writes tests/fixtures/longtail_reference.txt: float64 reference losses and
gradients of libfocal's long-tail losses (la, balanced-softmax, ldam, db) for
every reduction, read by tests/loss/test_loss_reference.c.

Run from anywhere with the system Python (torch, numpy):

    python3 tools/gen_longtail_reference.py

The output path is derived from this file's location; the output is
deterministic (fixed seed). The file has the format of loss_reference.txt
(tools/gen_loss_reference.py) with more keys on the 'case' line (tau, scale,
dba, dbb, dbmu, dblam, dbkappa) and a 'prior' line (c values) before 'loss'.

The definitions, written here from the papers' formulas (v_j = prior[j]):
  * la (Menon et al., ICLR 2021): F.cross_entropy(z + τ·log v, t) per row,
    times α (if >= 0) and the class weight w_t of the row.
  * balanced-softmax (Ren et al., NeurIPS 2020): the same with τ = 1; checked
    on moderate inputs against the direct −log(v_t e^{z_t} / Σ_j v_j e^{z_j}).
  * ldam (Cao et al., NeurIPS 2019): F.cross_entropy(s·(z − Δ_t·onehot(t)), t),
    Δ_j = m·v_j^(−1/4) / max_k v_k^(−1/4).
  * db (Wu et al., ECCV 2020, as the official code computes it), per element:
      v = z + (κ/λ)·log(π/(1 − π)),
      r̂ = α + σ(β·((1/π_j) / Σ_k y_k/π_k − μ))  (α + 1 if the row has no
           positive mass), not differentiated,
      loss = w_j r̂ (y·(1 − σ(v))^γ (−log σ(v)) + (1 − y)·σ(λv)^γ (−log(1 − σ(λv)))/λ)
    through softplus forms (exact at saturated logits). On hard targets and
    moderate logits it is checked against a transcription of the official
    code's structure (bias added, negatives' logits scaled by λ and their
    weight divided by λ, pt = exp(−BCE), (1 − pt)^γ·BCE) with counts n_j = π_j·N.
  * reductions as in gen_loss_reference.py; every gradient is checked against
    central differences, and every written value is asserted finite.
"""

import math
import os
import platform
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_loss_reference as base  # noqa: E402  (shared helpers: formats, checks)

torch.set_default_dtype(torch.float64)

FORMAT_TAG = "focal-longtail-reference 1"
REPO = os.path.dirname(HERE)
OUT_REL = os.path.join("tests", "fixtures", "longtail_reference.txt")

SOFTMAX_KINDS = ["la", "balanced-softmax", "ldam"]
SIGMOID_KINDS = ["db"]
REDUCTIONS = base.REDUCTIONS
WEIGHT_VECTOR = base.WEIGHT_VECTOR
N_SAMPLES = 4000    # N of the db frequencies π_j = n_j / N


def defaults(kind):
    """focal_loss_init's defaults; unused fields are written with these."""
    d = base.defaults("ce")
    d.update(gamma=0.0, tau=1.0, scale=30.0, dba=0.1, dbb=10.0, dbmu=0.2, dblam=2.0, dbkappa=0.05,
             prior="counts")
    if kind == "ldam":
        d["margin"] = 0.5
    if kind == "db":
        d["gamma"] = 2.0
    return d


def long_tail_counts(rng, C):
    """Integer class counts from 1000 down to 10 (imbalance 100), shuffled."""
    n = np.round(1000.0 * 100.0 ** (-np.arange(C) / max(1, C - 1)))
    rng.shuffle(n)
    return n


def prior_values(rng, C, how, samples=None):
    """counts n_j, or frequencies n_j / samples (default: n_j / Σ n)."""
    n = long_tail_counts(rng, C)
    if how == "counts":
        return n
    if how == "freq":
        return n / (samples if samples else n.sum())
    raise ValueError(how)


# ---------------------------------------------------------------------------
# Softmax long-tail losses
# ---------------------------------------------------------------------------

def ldam_margins(v, m):
    d = 1.0 / np.sqrt(np.sqrt(v))
    return d * (m / d.max())


def softmax_rowloss(kind, P, v):
    """Per-row loss (before α and w_t) of logits z (rows, C), labels t."""
    if kind in ("la", "balanced-softmax"):
        tau = 1.0 if kind == "balanced-softmax" else P["tau"]
        shift = torch.tensor(tau * np.log(v))

        def f(z, t):
            return F.cross_entropy(z + shift, t, reduction="none")
    else:
        delta = torch.tensor(ldam_margins(v, P["margin"]))

        def f(z, t):
            onehot = F.one_hot(t, z.shape[1]).to(z.dtype)
            return F.cross_entropy(P["scale"] * (z - delta[t].unsqueeze(1) * onehot), t, reduction="none")
    return f


def softmax_naive(kind, P, v):
    """Direct forms on moderate inputs: Balanced Softmax as Ren et al. write
    it, logit adjustment through softmax, LDAM through exp."""
    def f(z, t):
        if kind == "ldam":
            delta = torch.tensor(ldam_margins(v, P["margin"]))
            u = P["scale"] * (z - delta[t].unsqueeze(1) * F.one_hot(t, z.shape[1]))
            e = torch.exp(u)
            return -torch.log(e.gather(1, t.unsqueeze(1)).squeeze(1) / e.sum(1))
        tau = 1.0 if kind == "balanced-softmax" else P["tau"]
        vt = torch.tensor(v) ** tau
        e = vt * torch.exp(z)
        return -torch.log(e.gather(1, t.unsqueeze(1)).squeeze(1) / e.sum(1))
    return f


def softmax_eval(fn, z64, t, P, w, red):
    n, C = z64.shape
    mask = t != P["ignore"]
    counted = int(mask.sum())
    denom = {"none": 1, "sum": 1, "mean": counted, "positives": counted}[red]
    a = P["alpha"] if P["alpha"] >= 0 else 1.0
    tc = t[mask]
    wt = torch.tensor(np.asarray(w)[tc] if w is not None else np.ones(len(tc)))
    z = torch.tensor(z64, requires_grad=True)
    per_sel = a * wt * fn(z[torch.tensor(mask)], torch.tensor(tc, dtype=torch.long))
    loss = per_sel.sum() / denom
    loss.backward()
    per = np.zeros(n)
    per[mask] = per_sel.detach().numpy()
    return loss.item(), per, z.grad.numpy().copy()


def softmax_inputs(rng, flavor, ignore):
    if flavor == "cosine":          # LDAM's intended input: cosines in [−1, 1]
        n, C = int(rng.integers(6, 10)), int(rng.integers(3, 8))
        z = rng.uniform(-1.0, 1.0, (n, C))
        z[0, :] = 1.0
        z[1, :] = -1.0
        t = rng.integers(0, C, n)
        ign = rng.choice(n, max(1, n // 6), replace=False)
        t[ign] = ignore
        if (t != ignore).sum() == 0:
            t[0] = 0
        return base.f32(z), t.astype(np.int32)
    return base.softmax_inputs(rng, flavor, ignore)


def build_softmax(kind, P, red, flavor, rng, stats, what):
    z32, t = softmax_inputs(rng, flavor, P["ignore"])
    z64 = base.shift_rows_exactly(z32.astype(np.float64))
    C = z64.shape[1]
    v = prior_values(rng, C, P["prior"])
    w = WEIGHT_VECTOR[:C] if P["weights"] else None
    fn = softmax_rowloss(kind, P, v)
    ref = softmax_eval(fn, z64, t, P, w, red)
    assert base.all_finite(ref), what + ": reference not finite"
    if flavor in ("moderate", "cosine") and (kind != "ldam" or P["scale"] <= 30):
        naive = softmax_eval(softmax_naive(kind, P, v), z64, t, P, w, red)
        stats.note("naive vs reference (moderate inputs)",
                   base.assert_agree(what + " naive vs reference", naive, ref, rtol=1e-10, atol=1e-12))
    if kind == "balanced-softmax":
        la = dict(P, tau=1.0)
        stats.note("balanced-softmax vs la tau=1", base.assert_agree(
            what + " balanced-softmax vs la", softmax_eval(softmax_rowloss("la", la, v), z64, t, P, w, red), ref,
            rtol=1e-300, atol=0))

    def total(zv):
        return softmax_eval(fn, zv, t, P, w, red)[0]
    base.finite_difference_check(what, total, z64, ref[2])
    return dict(x=z32, y=t, w=w, v=v, ref=ref, src="F.cross_entropy")


# ---------------------------------------------------------------------------
# Distribution-balanced loss
# ---------------------------------------------------------------------------

def db_weights(y64, pi, P):
    """r̂ (n, c) from the targets (ignored elements excluded) and π."""
    inv = 1.0 / pi
    yc = np.where(y64 > 0, y64, 0.0)
    rep = (yc * inv).sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(rep > 0, inv / np.where(rep > 0, rep, 1.0), np.inf)
    a = P["dbb"] * (np.where(np.isinf(r), 0.0, r) - P["dbmu"])
    sg = np.where(np.isinf(r), 1.0 if P["dbb"] > 0 else 0.5, 1.0 / (1.0 + np.exp(-a)))
    return P["dba"] + sg


def db_stable(P, pi):
    bias = torch.tensor(P["dbkappa"] / P["dblam"] * (np.log(pi) - np.log1p(-pi)))
    lam, g = P["dblam"], P["gamma"]

    def f(x, y, col):
        v = x + bias[col]
        pos = torch.exp(-g * base.softplus(v)) * base.softplus(-v)
        neg = torch.exp(-g * base.softplus(-lam * v)) * base.softplus(lam * v) / lam
        return y * pos + (1 - y) * neg
    return f


def db_official(P, pi):
    """The structure of the official ResampleLoss (reweight 'rebalance',
    logit_reg with init_bias and neg_scale, focal), written from its
    description, on hard labels; counts n_j = π_j·N. Without balance_param."""
    counts = torch.tensor(pi * N_SAMPLES)
    lam, g = P["dblam"], P["gamma"]
    init_bias = -torch.log(N_SAMPLES / counts - 1) * P["dbkappa"] / lam

    def f(x, y, rhat):
        z = x + init_bias
        z = z * (1 - y) * lam + z * y
        wgt = rhat / lam * (1 - y) + rhat * y
        bce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        pt = torch.exp(-bce)
        return (1 - pt) ** g * bce * wgt
    return f


def db_eval(P, pi, x64, y64, w, red):
    n, c = x64.shape
    mask = y64 >= 0
    counted = int(mask.sum())
    npos = int((mask & (y64 >= 0.5)).sum())
    denom = {"none": 1, "sum": 1, "mean": counted, "positives": max(1, npos)}[red]
    rhat = db_weights(y64, pi, P)
    wmat = np.broadcast_to(np.asarray(w if w is not None else np.ones(c)), (n, c)) * rhat
    cols = np.broadcast_to(np.arange(c), (n, c))
    x = torch.tensor(x64, requires_grad=True)
    tm = torch.tensor(mask)
    per_sel = torch.tensor(wmat[mask]) * db_stable(P, pi)(x[tm], torch.tensor(y64[mask]),
                                                           torch.tensor(cols[mask]))
    loss = per_sel.sum() / denom
    loss.backward()
    per = np.zeros((n, c))
    per[mask] = per_sel.detach().numpy()
    return loss.item(), per, x.grad.numpy().copy()


def db_official_eval(P, pi, x64, y64, w, red):
    """Hard targets, nothing ignored."""
    n, c = x64.shape
    denom = {"none": 1, "sum": 1, "mean": n * c, "positives": max(1, int((y64 >= 0.5).sum()))}[red]
    rhat = torch.tensor(db_weights(y64, pi, P))
    if w is not None:
        rhat = rhat * torch.tensor(w)
    x = torch.tensor(x64, requires_grad=True)
    per = db_official(P, pi)(x, torch.tensor(y64), rhat)
    loss = per.sum() / denom
    loss.backward()
    return loss.item(), per.detach().numpy(), x.grad.numpy().copy()


def db_inputs(rng, flavor):
    x32, y32 = base.sigmoid_inputs(rng, flavor)
    y = y32.astype(np.float64)
    if flavor != "nopos":
        # one row without positive mass (r̂ = α + 1), and one with a single
        # positive (r = 1 for its own class)
        y[0] = np.where(y[0] < 0, y[0], 0.0)
        y[1] = np.where(y[1] < 0, y[1], 0.0)
        y[1, int(rng.integers(0, y.shape[1]))] = 1.0
    if (y >= 0).sum() == 0:
        y[0, 0] = 0.0
    return x32, base.f32(y)


def build_db(kind, P, red, flavor, rng, stats, what):
    x32, y32 = db_inputs(rng, flavor)
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    c = x64.shape[1]
    pi = prior_values(rng, c, "freq", N_SAMPLES)
    w = WEIGHT_VECTOR[:c] if P["weights"] else None
    ref = db_eval(P, pi, x64, y64, w, red)
    assert base.all_finite(ref), what + ": reference not finite"
    if flavor in ("moderate", "nopos"):
        yh = np.where(y64 < 0, 0.0, y64)   # the official code has no ignored elements
        off = db_official_eval(P, pi, x64, yh, w, red)
        mine = db_eval(P, pi, x64, yh, w, red)
        stats.note("db stable vs official structure (hard targets, moderate inputs)",
                   base.assert_agree(what + " db stable vs official", mine, off, only_finite=True,
                                     rtol=1e-10, atol=1e-12))

    def total(xv):
        return db_eval(P, pi, xv, y64, w, red)[0]
    base.finite_difference_check(what, total, x64, ref[2])
    return dict(x=x32, y=y32, w=w, v=pi, ref=ref, src="stable")


# ---------------------------------------------------------------------------
# Grid and output
# ---------------------------------------------------------------------------

def grid():
    out = []

    def add(kind, **kw):
        P = defaults(kind)
        P.update(kw)
        out.append((kind, P))

    for tau in (0.0, 0.5, 1.0, 2.0):
        for wt in (0, 1):
            add("la", tau=tau, weights=wt, prior="counts" if wt == 0 else "freq")
    add("la", tau=1.0, alpha=0.5, ignore=255)
    for wt in (0, 1):
        add("balanced-softmax", weights=wt, prior="freq" if wt == 0 else "counts")
    add("balanced-softmax", alpha=2.0, ignore=-1)
    for m, s in ((0.5, 30.0), (0.2, 10.0), (0.0, 30.0), (1.0, 1.0), (0.5, 64.0)):
        add("ldam", margin=m, scale=s)
    add("ldam", weights=1, prior="freq")
    add("ldam", alpha=0.5, ignore=255)
    for g in (0.0, 0.5, 1.0, 2.0, 5.0):
        add("db", gamma=g)
    for lam in (1.0, 5.0):
        for kap in (0.0, 0.5):
            add("db", dblam=lam, dbkappa=kap)
    add("db", dba=0.0, dbb=0.0, dbmu=0.0, gamma=0.0)
    add("db", dba=0.5, dbb=2.0, dbmu=1.0, weights=1)
    add("db", gamma=0.5, dblam=0.5, dbkappa=1.0, weights=1)
    return out


def case_text(cid, kind, red, flavor, P, d):
    n, c = d["x"].shape
    softmax = kind in SOFTMAX_KINDS
    f = base.fmt17
    head = ("case %d kind=%s red=%s n=%d c=%d gamma=%s alpha=%s beta=%s gpos=%s gneg=%s "
            "margin=%s eps=%s ls=%s ignore=%d weights=%d tau=%s scale=%s dba=%s dbb=%s dbmu=%s "
            "dblam=%s dbkappa=%s inputs=%s src=%s" %
            (cid, kind, red, n, c, f(P["gamma"]), f(P["alpha"]), f(P["beta"]), f(P["gpos"]),
             f(P["gneg"]), f(P["margin"]), f(P["eps"]), f(P["ls"]), P["ignore"], P["weights"],
             f(P["tau"]), f(P["scale"]), f(P["dba"]), f(P["dbb"]), f(P["dbmu"]), f(P["dblam"]),
             f(P["dbkappa"]), flavor, d["src"]))
    return base.case_body(head, d, softmax, red, ["prior " + " ".join(f(v) for v in d["v"])])


def main():
    rng = np.random.default_rng(20260207)
    stats = base.Stats()
    cases = []
    for kind, P in grid():
        softmax = kind in SOFTMAX_KINDS
        if softmax:
            flavors = ["moderate", "extreme"] + (["cosine"] if kind == "ldam" else [])
        else:
            flavors = ["moderate", "extreme", "soft"]
        for red in REDUCTIONS:
            fl = list(flavors)
            if not softmax and red == "positives" and P["gamma"] == 2.0 and P["dblam"] == 2.0:
                fl.append("nopos")
            for flavor in fl:
                cid = len(cases) + 1
                what = "case %d (%s, %s, %s)" % (cid, kind, red, flavor)
                build = build_softmax if softmax else build_db
                d = build(kind, P, red, flavor, rng, stats, what)
                cases.append(case_text(cid, kind, red, flavor, P, d))

    covered = {(t.split()[2][5:], t.split()[3][4:]) for t in cases}
    for k in SOFTMAX_KINDS + SIGMOID_KINDS:
        for r in REDUCTIONS:
            assert (k, r) in covered, (k, r)

    versions = "python %s, torch %s, numpy %s" % (platform.python_version(), torch.__version__, np.__version__)
    header = [
        "# %s | generated by: python3 tools/gen_longtail_reference.py | %s" % (FORMAT_TAG, versions),
        "# Reference losses and gradients of the long-tail losses of libfocal (la, balanced-softmax,",
        "# ldam, db; definitions in include/focal/loss.h and tools/gen_longtail_reference.py). Do not",
        "# edit: regenerate. The format of loss_reference.txt, with the long-tail parameters on the",
        "# 'case' line (tau, scale, dba, dbb, dbmu, dblam, dbkappa = db's alpha, beta, mu, lambda,",
        "# kappa) and a 'prior' line (c values: the class_prior given to the library) before 'loss'.",
        "cases %d" % len(cases),
    ]
    path = os.path.join(REPO, OUT_REL)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(header) + "\n")
        for t in cases:
            f.write(t)
        f.write("eof %d\n" % len(cases))
    os.replace(tmp, path)
    print("wrote %s: %d cases, %d bytes" % (OUT_REL, len(cases), os.path.getsize(path)))
    for k, v in sorted(stats.worst_agree.items()):
        print("worst disagreement (error / max(|reference|, 1)), %s: %.3g" % (k, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
