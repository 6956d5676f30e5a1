#!/usr/bin/env python3
"""Writes tests/fixtures/loss_reference.txt: float64 reference losses and gradients
for every loss kind and reduction of libfocal, read by tests/loss/test_loss_reference.c.

Run from anywhere with the system Python (torch, torchvision, numpy):

    python3 tools/gen_loss_reference.py

The output path is derived from this file's location, so the script writes into
the repository it belongs to. The output is deterministic (fixed seed).

Where the values come from
  * sigmoid-focal and bce: torchvision.ops.sigmoid_focal_loss (bce is its γ = 0
    case, also cross-checked against F.binary_cross_entropy_with_logits).
    Where torchvision's autograd is not finite (γ < 1 with p_t = 1 in float64:
    the (1 − p_t)^(γ−1) trap) the case is computed from the stable formulation
    below instead; the stable formulation is asserted to agree with torchvision
    on every element where torchvision is finite.
  * ce: F.cross_entropy per row (with weight, label_smoothing, ignore_index)
    wherever its per-row definition coincides with ours, i.e. unless class
    weights and label smoothing are combined (PyTorch weights each smoothed
    class by its own weight, we weight the row by w[t]); the reductions are
    ours (mean = sum / counted rows, not PyTorch's weighted mean).
  * focal-star, asl, sigmoid-poly1, softmax-focal, softmax-poly1 and the two
    exceptions above: autograd through numerically stable float64 forms of the
    definitions in include/focal.h. These are cross-checked against naive
    direct forms on inputs where those are accurate.
  * softmax logits are shifted by their row maximum first (exactly, see
    shift_rows_exactly), which changes neither the losses nor the gradients
    but keeps logsumexp accurate for rows of logits near 1e4.
  * every written gradient is checked against central finite differences, and
    every written value is asserted finite.

Accuracy: the stable forms are accurate to a few ulps also at p → 0 and p → 1.
Values taken from torchvision and F.cross_entropy carry their float64 rounding
where 1 − p cancels (saturated logits): absolute errors up to ~3e-16, i.e. a
large relative error only on values below ~1e-8. A test comparing with this
file therefore needs an absolute tolerance of at least ~1e-15.

Inputs are generated as float32 values and written as the shortest decimal
that strtod turns into exactly that value, so the float32 and float64 APIs of
the library see the same numbers; all computation here is in float64 from those
exact values.
"""

import math
import os
import platform
import sys
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.ops import sigmoid_focal_loss

torch.set_default_dtype(torch.float64)

FORMAT_TAG = "focal-loss-reference 1"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT_REL = os.path.join("tests", "fixtures", "loss_reference.txt")

SIGMOID_KINDS = ["bce", "sigmoid-focal", "focal-star", "asl", "sigmoid-poly1"]
SOFTMAX_KINDS = ["ce", "softmax-focal", "softmax-poly1"]
REDUCTIONS = ["none", "sum", "mean", "positives"]

# The fixed per-class weight vector (truncated to C); it contains a zero weight
# so that "a counted element with zero weight still counts in the mean" is tested.
WEIGHT_VECTOR = [0.5, 2.0, 1.25, 0.0, 1.5, 3.0, 0.25]

# Tolerances of the internal cross-checks (float64 against float64).
AGREE_RTOL = 1e-12
AGREE_ATOL = 1e-12
FD_TOL = 2e-6


def defaults(kind):
    """Parameter defaults from focal.h; unused fields are written with these."""
    d = dict(gamma=2.0, alpha=-1.0, beta=1.0, gpos=0.0, gneg=4.0, margin=0.05,
             eps=1.0, ls=0.0, ignore=-100, weights=0)
    if kind in ("bce", "ce"):
        d["gamma"] = 0.0
    return d


# ---------------------------------------------------------------------------
# Stable building blocks (float64 torch, finite value and derivative everywhere)
# ---------------------------------------------------------------------------

def softplus(x):
    """log(1 + e^x). Each branch only ever sees arguments where it is accurate
    and finite, so that torch.where's backward never multiplies 0 by inf; the
    derivative at x = 0 is the exact 1/2 (unlike relu(x) + log1p(exp(-|x|)))."""
    pos = x > 0
    zero = torch.zeros_like(x)
    xp = torch.where(pos, x, zero)
    xn = torch.where(pos, zero, x)
    return torch.where(pos, xp + torch.log1p(torch.exp(-xp)), torch.log1p(torch.exp(xn)))


def alpha_t(y, alpha):
    if alpha < 0:
        return torch.ones_like(y)
    return alpha * y + (1 - alpha) * (1 - y)


def log_one_minus_pt(x, y):
    """log(1 − p_t), p_t = p·y + (1 − p)(1 − y). For hard targets it is
    −softplus(±x) (finite even where p_t rounds to 1); for soft targets
    1 − p_t = y·σ(−x) + (1 − y)·σ(x) is bounded away from 0."""
    hard1 = y == 1
    hard0 = y == 0
    soft = ~(hard1 | hard0)
    ys = torch.where(soft, y, torch.full_like(y, 0.5))
    soft_val = torch.log(ys * torch.sigmoid(-x) + (1 - ys) * torch.sigmoid(x))
    return torch.where(hard1, -softplus(x), torch.where(hard0, -softplus(-x), soft_val))


def bce_stable(x, y):
    # y·softplus(−x) + (1−y)·softplus(x) equals softplus(x) − y·x without its
    # cancellation at large positive x with y = 1.
    return y * softplus(-x) + (1 - y) * softplus(x)


def sigmoid_stable(kind, P):
    """Per-element loss (before the class weight) as a function of x, y."""
    g, a = P["gamma"], P["alpha"]

    def bce(x, y):
        return alpha_t(y, a) * bce_stable(x, y)

    def focal(x, y):
        return alpha_t(y, a) * torch.exp(g * log_one_minus_pt(x, y)) * bce_stable(x, y)

    def focal_star(x, y):
        xt = (2 * y - 1) * x
        return alpha_t(y, a) * softplus(-(g * xt + P["beta"])) / g

    def asl(x, y):
        gp, gn, m = P["gpos"], P["gneg"], P["margin"]
        # −y (1−p)^γ+ log p, with (1−p)^γ+ = exp(−γ+ softplus(x)), −log p = softplus(−x)
        pos = y * torch.exp(-gp * softplus(x)) * softplus(-x)
        if m == 0:
            # p^γ− = exp(−γ− softplus(−x)), −log(1−p) = softplus(x)
            neg = torch.exp(-gn * softplus(-x)) * softplus(x)
        else:
            # p = exp(−softplus(−x)): its derivative p·σ(−x) has no 1 − p
            # cancellation (autograd through torch.sigmoid forms p·(1 − p)).
            p = torch.exp(-softplus(-x))
            act = p > m
            pm = torch.where(act, p - m, torch.full_like(p, 0.5))
            neg = torch.where(act, -(pm ** gn) * torch.log1p(-pm), torch.zeros_like(p))
        return alpha_t(y, a) * (pos + (1 - y) * neg)

    def poly1(x, y):
        l = log_one_minus_pt(x, y)
        return (alpha_t(y, a) * torch.exp(g * l) * bce_stable(x, y)
                + P["eps"] * torch.exp((g + 1) * l))

    return {"bce": bce, "sigmoid-focal": focal, "focal-star": focal_star,
        "asl": asl, "sigmoid-poly1": poly1}[kind]


def sigmoid_naive(kind, P):
    """Direct transcriptions of the focal.h formulas through p = σ(x); accurate
    only for moderate logits. Used as an independent cross-check."""
    g, a = P["gamma"], P["alpha"]

    def at(y):
        return torch.ones_like(y) if a < 0 else a * y + (1 - a) * (1 - y)

    def parts(x, y):
        p = torch.sigmoid(x)
        pt = p * y + (1 - p) * (1 - y)
        bce = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
        return p, pt, bce

    def bce(x, y):
        return at(y) * parts(x, y)[2]

    def focal(x, y):
        _, pt, b = parts(x, y)
        return at(y) * (1 - pt) ** g * b

    def focal_star(x, y):
        xt = (2 * y - 1) * x
        return at(y) * -torch.log(torch.sigmoid(g * xt + P["beta"])) / g

    def asl(x, y):
        p = torch.sigmoid(x)
        pm = torch.clamp(p - P["margin"], min=0)
        return at(y) * (-y * (1 - p) ** P["gpos"] * torch.log(p)
                        - (1 - y) * pm ** P["gneg"] * torch.log(1 - pm))

    def poly1(x, y):
        _, pt, b = parts(x, y)
        return at(y) * (1 - pt) ** g * b + P["eps"] * (1 - pt) ** (g + 1)

    return {"bce": bce, "sigmoid-focal": focal, "focal-star": focal_star,
            "asl": asl, "sigmoid-poly1": poly1}[kind]


def sigmoid_torchvision(P):
    def f(x, y):
        return sigmoid_focal_loss(x, y, alpha=P["alpha"], gamma=P["gamma"], reduction="none")
    return f


def softmax_stable(kind, P, C):
    """Per-row loss as a function of logits z (rows, C), hard labels t, smoothed
    targets q (rows, C) and the per-row weight w_t."""
    g = P["gamma"] if kind != "ce" else 0.0
    a = P["alpha"] if P["alpha"] >= 0 else 1.0
    eye = torch.eye(C, dtype=torch.bool)

    def f(z, q, wt):
        # p_c = σ(u_c) with u_c = z_c − logsumexp over c' ≠ c, so that
        # log p_c = −softplus(−u_c) and log(1 − p_c) = −softplus(u_c): both and
        # their derivatives stay accurate at p_c → 0 and p_c → 1, where
        # z − logsumexp(z) would leave 1 − p_c to a cancellation.
        others = z.unsqueeze(1).expand(-1, C, -1).masked_fill(eye, -math.inf)
        u = z - torch.logsumexp(others, 2)
        logp = -softplus(-u)
        log1mp = -softplus(u)
        row = a * wt * (q * -(torch.exp(g * log1mp) * logp)).sum(1)
        if kind == "softmax-poly1":
            # 1 − P = Σ_c q_c (1 − p_c), taken in log space
            log1mP = torch.logsumexp(torch.log(q) + log1mp, 1)
            row = row + wt * P["eps"] * torch.exp((g + 1) * log1mP)
        return row
    return f


def softmax_naive(kind, P):
    g = P["gamma"] if kind != "ce" else 0.0
    a = P["alpha"] if P["alpha"] >= 0 else 1.0

    def f(z, q, wt):
        p = torch.softmax(z, 1)
        row = a * wt * (q * -((1 - p) ** g * torch.log(p))).sum(1)
        if kind == "softmax-poly1":
            row = row + wt * P["eps"] * (1 - (q * p).sum(1)) ** (g + 1)
        return row
    return f


# ---------------------------------------------------------------------------
# Evaluating one case: loss, per-element values and d loss / d logits
# ---------------------------------------------------------------------------

def sigmoid_eval(fn, x64, y64, w, red):
    n, c = x64.shape
    mask = y64 >= 0
    counted = int(mask.sum())
    npos = int((mask & (y64 >= 0.5)).sum())
    denom = {"none": 1, "sum": 1, "mean": counted, "positives": max(1, npos)}[red]
    wmat = np.broadcast_to(np.asarray(w if w is not None else np.ones(c)), (n, c))
    x = torch.tensor(x64, requires_grad=True)
    tmask = torch.tensor(mask)
    per_sel = torch.tensor(wmat[mask]) * fn(x[tmask], torch.tensor(y64[mask]))
    loss = per_sel.sum() / denom
    loss.backward()
    per = np.zeros((n, c))
    per[mask] = per_sel.detach().numpy()
    return loss.item(), per, x.grad.numpy().copy()


def smoothed_targets(t, C, ls):
    q = np.full((len(t), C), ls / C)
    q[np.arange(len(t)), t] += 1 - ls
    return q


def softmax_eval(fn, z64, t, w, ls, ignore, red):
    n, C = z64.shape
    mask = t != ignore
    counted = int(mask.sum())
    denom = {"none": 1, "sum": 1, "mean": counted, "positives": counted}[red]
    tc = t[mask]
    wt = np.asarray(w)[tc] if w is not None else np.ones(len(tc))
    z = torch.tensor(z64, requires_grad=True)
    per_sel = fn(z[torch.tensor(mask)], torch.tensor(smoothed_targets(tc, C, ls)),
                 torch.tensor(wt))
    loss = per_sel.sum() / denom
    loss.backward()
    per = np.zeros(n)
    per[mask] = per_sel.detach().numpy()
    return loss.item(), per, z.grad.numpy().copy()


def cross_entropy_eval(z64, t, w, ls, ignore, red, alpha):
    """F.cross_entropy per row (reduction='none'), then our reduction."""
    n, C = z64.shape
    counted = int((t != ignore).sum())
    denom = {"none": 1, "sum": 1, "mean": counted, "positives": counted}[red]
    a = alpha if alpha >= 0 else 1.0
    z = torch.tensor(z64, requires_grad=True)
    per_t = a * F.cross_entropy(z, torch.tensor(t, dtype=torch.long),
                                weight=None if w is None else torch.tensor(w),
                                ignore_index=int(ignore), label_smoothing=ls, reduction="none")
    loss = per_t.sum() / denom
    loss.backward()
    if w is None and red == "mean":
        # Our unweighted mean is PyTorch's own mean: check that claim too.
        zz = torch.tensor(z64)
        pm = a * F.cross_entropy(zz, torch.tensor(t, dtype=torch.long), ignore_index=int(ignore),
                                 label_smoothing=ls, reduction="mean")
        assert close(pm.item(), loss.item()), "F.cross_entropy mean semantics differ"
    return loss.item(), per_t.detach().numpy().copy(), z.grad.numpy().copy()


def close(a, b, rtol=AGREE_RTOL, atol=AGREE_ATOL):
    return abs(a - b) <= atol + rtol * abs(b)


def assert_agree(what, got, ref, only_finite=False, rtol=AGREE_RTOL, atol=AGREE_ATOL):
    """Elementwise |got − ref| <= atol + rtol·|ref| for (loss, per, grad)."""
    worst = 0.0
    for name, a, b in zip(("loss", "per", "grad"), got, ref):
        a = np.atleast_1d(np.asarray(a, dtype=np.float64))
        b = np.atleast_1d(np.asarray(b, dtype=np.float64))
        sel = (np.isfinite(a) & np.isfinite(b)) if only_finite else np.ones(a.shape, dtype=bool)
        err = np.abs(a[sel] - b[sel])
        lim = atol + rtol * np.abs(b[sel])
        bad = ~(err <= lim)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise AssertionError("%s: %s[%d] = %.17g, reference %.17g" %
                                 (what, name, i, a[sel][i], b[sel][i]))
        if err.size:
            worst = max(worst, float(np.max(err / np.maximum(np.abs(b[sel]), 1e-300 + atol / rtol))))
    return worst


def all_finite(res):
    return all(np.all(np.isfinite(np.asarray(v))) for v in res)


def finite_difference_check(what, total_fn, x64, grad):
    """Central differences of the reduced loss in float64: the error
    |a − n| must stay below FD_TOL·max(|a|, |n|, 1e-3) plus the rounding error
    of the difference itself (saturated logits make the total large)."""
    flat = x64.reshape(-1)
    g = grad.reshape(-1)
    for i in range(flat.size):
        # A step that grows with |x| so that the rounding of x itself (and of
        # the logsumexp over logits of that size) stays far below the step.
        h = 1e-6 * max(1.0, math.sqrt(abs(flat[i])))
        xp = flat.copy(); xp[i] += h
        xm = flat.copy(); xm[i] -= h
        step = xp[i] - xm[i]        # the step actually taken after rounding
        fp, fm = total_fn(xp.reshape(x64.shape)), total_fn(xm.reshape(x64.shape))
        num = (fp - fm) / step
        rounding = 64 * 2.2e-16 * (abs(fp) + abs(fm)) / step
        if not abs(num - g[i]) <= FD_TOL * max(abs(num), abs(g[i]), 1e-3) + rounding:
            raise AssertionError("%s: finite difference at %d: autograd %.17g, numeric %.17g"
                                 % (what, i, g[i], num))


# ---------------------------------------------------------------------------
# Inputs (all float32 values)
# ---------------------------------------------------------------------------

SATURATED = [20.0, 100.0, 1e4]


def f32(a):
    return np.asarray(a, dtype=np.float32)


def sigmoid_inputs(rng, flavor):
    """Returns (logits, targets) as float32 n×c arrays."""
    if flavor == "extreme":
        n, c = int(rng.integers(5, 8)), int(rng.integers(3, 6))
    else:
        n, c = int(rng.integers(6, 9)), int(rng.integers(3, 6))
    m = n * c
    x = rng.normal(0.0, 2.5, m)
    if flavor in ("moderate", "nopos"):
        y = (rng.random(m) < 0.3).astype(np.float64)
        if flavor == "nopos":
            y[:] = 0.0
        x[rng.choice(m, 2, replace=False)] = 0.0
    elif flavor == "extreme":
        y = (rng.random(m) < 0.4).astype(np.float64)
        # p_t → 1 (aligned), p_t → 0 (opposed) at every saturation level, zero logits
        specials = []
        for s in SATURATED:
            specials += [(s, 1.0), (-s, 0.0)]
        specials += [(-20.0, 1.0), (100.0, 0.0), (-1e4, 1.0), (1e4, 0.0), (0.0, 1.0), (0.0, 0.0)]
        pos = rng.choice(m, min(m, len(specials)), replace=False)
        for k, j in enumerate(pos):
            x[j], y[j] = specials[k]
    elif flavor == "soft":
        choices = np.array([0.0, 1.0, 0.5, 0.25, 0.75])
        y = np.where(rng.random(m) < 0.5, choices[rng.integers(0, 5, m)], rng.random(m))
        sat = rng.random(m) < 0.35
        x = np.where(sat, np.array([-1.0, 1.0])[rng.integers(0, 2, m)] *
                     np.array(SATURATED)[rng.integers(0, 3, m)], x)
    else:
        raise ValueError(flavor)
    # ignored elements, one of them with a saturated logit
    ign = rng.choice(m, max(1, m // 10), replace=False)
    y[ign] = -1.0
    x[ign[0]] = 1e4 if rng.random() < 0.5 else -100.0
    if (y >= 0).sum() == 0:
        y[0] = 0.0
    return f32(x).reshape(n, c), f32(y).reshape(n, c)


def avoid_asl_kink(x, margin):
    """Moves logits whose σ lies within 2e-3 of the ASL margin away from the
    max(p − m, 0) kink, where the gradient is not defined (γ− = 0: it jumps)."""
    if margin <= 0:
        return x
    x = x.astype(np.float64)
    p = 0.5 * (1 + np.tanh(0.5 * x))   # σ(x) without overflow
    near = np.abs(p - margin) < 2e-3
    x[near] += 0.25
    return f32(x)


def softmax_inputs(rng, flavor, ignore):
    n, C = int(rng.integers(6, 10)), int(rng.integers(3, 8))
    z = rng.normal(0.0, 2.0, (n, C))
    t = rng.integers(0, C, n)
    rows = np.arange(n)
    if flavor == "moderate":
        z[0, :] = 0.0           # all-equal row: p uniform
        z[1, t[1]] = 0.0
    elif flavor == "extreme":
        r = rng.permutation(n)
        other = (t + 1) % C
        z[r[0], t[r[0]]] = 1e4                      # p_t → 1
        z[r[1], :] = 0.0; z[r[1], t[r[1]]] = -1e4   # p_t → 0
        z[r[2], :] = -100.0; z[r[2], t[r[2]]] = 100.0
        z[r[3], :] = 0.0; z[r[3], t[r[3]]] = 20.0
        z[r[4], :] = 1e4                            # huge but all equal
        z[r[5], t[r[5]]] = -20.0; z[r[5], other[r[5]]] = 20.0
    else:
        raise ValueError(flavor)
    ign = rng.choice(n, max(1, n // 6), replace=False)
    t[ign] = ignore
    if flavor == "extreme":
        z[ign[0], :] = 1e4 * np.sign(rng.normal(size=C))   # ignored row, saturated
    if (t != ignore).sum() == 0:
        t[rows[0]] = 0
    return f32(z), t.astype(np.int32)


# ---------------------------------------------------------------------------
# Parameter grids
# ---------------------------------------------------------------------------

def grid():
    """(kind, params) pairs: every value of every parameter's grid for every
    kind, plus the combinations that matter."""
    out = []

    def add(kind, **kw):
        P = defaults(kind)
        P.update(kw)
        out.append((kind, P))

    for a in (-1.0, 0.25, 0.75):
        for wt in (0, 1):
            add("bce", alpha=a, weights=wt)
    for g in (0.0, 0.5, 1.0, 2.0, 5.0):
        for a in (-1.0, 0.25, 0.75):
            add("sigmoid-focal", gamma=g, alpha=a)
    add("sigmoid-focal", gamma=2.0, alpha=0.25, weights=1)
    add("sigmoid-focal", gamma=0.5, alpha=-1.0, weights=1)
    add("sigmoid-focal", gamma=0.0, alpha=0.75, weights=1)
    for g in (0.5, 1.0, 2.0, 5.0):
        for b in (0.0, 1.0, -1.0):
            add("focal-star", gamma=g, beta=b)
    add("focal-star", gamma=2.0, beta=1.0, alpha=0.25)
    add("focal-star", gamma=0.5, beta=0.0, alpha=0.75, weights=1)
    add("focal-star", gamma=1.0, beta=-1.0, weights=1)
    for gp in (0.0, 1.0):
        for gn in (0.0, 0.5, 2.0, 4.0):
            for m in (0.0, 0.05, 0.2):
                add("asl", gpos=gp, gneg=gn, margin=m)
    add("asl", gpos=1.0, gneg=4.0, margin=0.05, alpha=0.25)
    add("asl", gpos=0.0, gneg=2.0, margin=0.2, weights=1)
    add("asl", gpos=1.0, gneg=0.5, margin=0.0, alpha=0.75, weights=1)
    for e in (-1.0, 0.5, 1.0, 2.0):
        for g in (0.0, 0.5, 1.0, 2.0, 5.0):
            add("sigmoid-poly1", eps=e, gamma=g)
    add("sigmoid-poly1", eps=1.0, gamma=2.0, alpha=0.25)
    add("sigmoid-poly1", eps=2.0, gamma=0.5, alpha=0.75, weights=1)

    for ls in (0.0, 0.1, 0.3):
        for wt in (0, 1):
            add("ce", ls=ls, weights=wt)
    add("ce", ls=0.1, alpha=2.0)
    add("ce", alpha=0.25, weights=1)
    add("ce", ls=0.1, ignore=-1)
    add("ce", weights=1, ignore=255)
    for g in (0.0, 0.5, 1.0, 2.0, 5.0):
        for ls in (0.0, 0.1, 0.3):
            add("softmax-focal", gamma=g, ls=ls)
    add("softmax-focal", gamma=2.0, ls=0.1, weights=1)
    add("softmax-focal", gamma=0.5, ls=0.3, weights=1)
    add("softmax-focal", gamma=2.0, alpha=0.25)
    add("softmax-focal", gamma=1.0, ls=0.1, alpha=2.0, weights=1)
    add("softmax-focal", gamma=0.5, ignore=255)
    for e in (-1.0, 0.5, 1.0, 2.0):
        for g in (0.0, 0.5, 2.0):
            add("softmax-poly1", eps=e, gamma=g)
    add("softmax-poly1", eps=1.0, gamma=1.0)
    add("softmax-poly1", eps=1.0, gamma=5.0)
    add("softmax-poly1", eps=1.0, gamma=2.0, ls=0.1, weights=1)
    add("softmax-poly1", eps=-1.0, gamma=0.5, ls=0.3)
    add("softmax-poly1", eps=2.0, gamma=2.0, alpha=0.25, ignore=-1)
    return out


# ---------------------------------------------------------------------------
# Building and writing cases
# ---------------------------------------------------------------------------

def fmt_input(v):
    """An input value (a float32) written so that strtod returns exactly that
    float32 value as a double: the shortest decimal that round-trips the double
    (%.9g would round-trip only through float32)."""
    d = float(np.float32(v))
    text = repr(d)
    if text.endswith(".0"):
        text = text[:-2]
    assert float(text) == d and float(np.float32(d)) == d
    return text


def fmt17(v):
    v = float(v)
    assert math.isfinite(v), "non-finite reference value"
    return "%.17g" % v


class Stats:
    def __init__(self):
        self.tv_fallback = 0
        self.worst_agree = {}

    def note(self, key, worst):
        self.worst_agree[key] = max(self.worst_agree.get(key, 0.0), worst)


def build_sigmoid(kind, P, red, flavor, rng, stats, what):
    x32, y32 = sigmoid_inputs(rng, flavor)
    if kind == "asl":
        x32 = avoid_asl_kink(x32, P["margin"])
    x64, y64 = x32.astype(np.float64), y32.astype(np.float64)
    c = x64.shape[1]
    w = WEIGHT_VECTOR[:c] if P["weights"] else None

    stable = sigmoid_eval(sigmoid_stable(kind, P), x64, y64, w, red)
    assert all_finite(stable), what + ": stable formulation not finite"
    ref, src = stable, "stable"
    if kind in ("bce", "sigmoid-focal"):
        tv = sigmoid_eval(sigmoid_torchvision(P), x64, y64, w, red)
        stats.note("stable vs torchvision", assert_agree(what + " stable vs torchvision",
                                                           stable, tv, only_finite=True))
        if all_finite(tv):
            ref, src = tv, "torchvision"
        else:
            stats.tv_fallback += 1
    if kind == "bce":
        def bce_torch(x, y):
            return F.binary_cross_entropy_with_logits(x, y, weight=alpha_t(y, P["alpha"]),
                                                      reduction="none")
        stats.note("bce vs F.bce_with_logits", assert_agree(
            what + " bce vs F.binary_cross_entropy_with_logits",
            sigmoid_eval(bce_torch, x64, y64, w, red), ref))
    if flavor in ("moderate", "nopos"):
        naive = sigmoid_eval(sigmoid_naive(kind, P), x64, y64, w, red)
        stats.note("naive vs stable (moderate inputs)",
                   assert_agree(what + " naive vs stable", naive, stable, rtol=1e-10, atol=1e-12))

    def total(xv):
        return sigmoid_eval(sigmoid_stable(kind, P), xv, y64, w, red)[0]
    finite_difference_check(what, total, x64, ref[2])
    return dict(x=x32, y=y32, w=w, ref=ref, src=src)


def shift_rows_exactly(z64):
    """z − max over each row. Every softmax loss is invariant under a per-row
    shift, and so is its gradient; shifting first keeps logsumexp small, so
    rows of logits near ±1e4 lose no precision in z − lse. The subtraction is
    checked to be exact in float64, so the shifted inputs mean exactly the same
    function; a row where it is not exact is left as it is."""
    out = z64.copy()
    for i in range(z64.shape[0]):
        m = z64[i].max()
        d = z64[i] - m
        if all(Fraction(float(a)) - Fraction(float(m)) == Fraction(float(b))
               for a, b in zip(z64[i], d)):
            out[i] = d
    return out


def build_softmax(kind, P, red, flavor, rng, stats, what):
    z32, t = softmax_inputs(rng, flavor, P["ignore"])
    z64 = shift_rows_exactly(z32.astype(np.float64))
    C = z64.shape[1]
    w = WEIGHT_VECTOR[:C] if P["weights"] else None
    ls = P["ls"]

    fn = softmax_stable(kind, P, C)
    stable = softmax_eval(fn, z64, t, w, ls, P["ignore"], red)
    assert all_finite(stable), what + ": stable formulation not finite"
    ref, src = stable, "stable"
    if kind == "ce" and (w is None or ls == 0):
        ce = cross_entropy_eval(z64, t, w, ls, P["ignore"], red, P["alpha"])
        stats.note("stable vs F.cross_entropy", assert_agree(what + " stable vs F.cross_entropy",
                                                             stable, ce))
        assert all_finite(ce), what + ": F.cross_entropy not finite"
        ref, src = ce, "F.cross_entropy"
    if flavor == "moderate":
        naive = softmax_eval(softmax_naive(kind, P), z64, t, w, ls, P["ignore"], red)
        stats.note("naive vs stable (moderate inputs)",
                   assert_agree(what + " naive vs stable", naive, stable, rtol=1e-10, atol=1e-12))

    def total(zv):
        return softmax_eval(fn, zv, t, w, ls, P["ignore"], red)[0]
    finite_difference_check(what, total, z64, ref[2])
    return dict(x=z32, y=t, w=w, ref=ref, src=src)


def case_body(head, d, softmax, red, extra=()):
    """A case's text after its head line: the inputs, the lines of extra (after
    the weights), then the reference loss, per-element losses and gradient."""
    loss, per, grad = d["ref"]
    lines = [head, "logits " + " ".join(fmt_input(v) for v in d["x"].reshape(-1))]
    if softmax:
        lines.append("targets " + " ".join("%d" % v for v in d["y"]))
    else:
        lines.append("targets " + " ".join(fmt_input(v) for v in d["y"].reshape(-1)))
    if d["w"] is not None:
        lines.append("weights " + " ".join(fmt17(v) for v in d["w"]))
    lines.extend(extra)
    lines.append("loss " + fmt17(loss))
    if red == "none":
        lines.append("per " + " ".join(fmt17(v) for v in np.asarray(per).reshape(-1)))
    lines.append("grad " + " ".join(fmt17(v) for v in np.asarray(grad).reshape(-1)))
    lines.append("end")
    return "\n".join(lines) + "\n"


def case_text(cid, kind, red, flavor, P, d):
    n, c = d["x"].shape
    softmax = kind in SOFTMAX_KINDS
    head = ("case %d kind=%s red=%s n=%d c=%d gamma=%s alpha=%s beta=%s gpos=%s gneg=%s "
            "margin=%s eps=%s ls=%s ignore=%d weights=%d inputs=%s src=%s" %
            (cid, kind, red, n, c, fmt17(P["gamma"]), fmt17(P["alpha"]), fmt17(P["beta"]),
             fmt17(P["gpos"]), fmt17(P["gneg"]), fmt17(P["margin"]), fmt17(P["eps"]),
             fmt17(P["ls"]), P["ignore"], P["weights"], flavor, d["src"]))
    return case_body(head, d, softmax, red)


def main():
    rng = np.random.default_rng(170802002)
    stats = Stats()
    cases = []
    nopos_done = set()
    for kind, P in grid():
        softmax = kind in SOFTMAX_KINDS
        flavors = ["moderate", "extreme"] if softmax else ["moderate", "extreme", "soft"]
        for red in REDUCTIONS:
            fl = list(flavors)
            if not softmax and red == "positives" and kind not in nopos_done:
                fl.append("nopos")      # no positive target: the divisor is max(1, 0)
                nopos_done.add(kind)
            for flavor in fl:
                cid = len(cases) + 1
                what = "case %d (%s, %s, %s)" % (cid, kind, red, flavor)
                build = build_softmax if softmax else build_sigmoid
                d = build(kind, P, red, flavor, rng, stats, what)
                cases.append(case_text(cid, kind, red, flavor, P, d))

    covered = {(t.split()[2][5:], t.split()[3][4:]) for t in cases}
    for k in SIGMOID_KINDS + SOFTMAX_KINDS:
        for r in REDUCTIONS:
            assert (k, r) in covered, (k, r)

    versions = "python %s, torch %s, torchvision %s, numpy %s" % (
        platform.python_version(), torch.__version__, torchvision.__version__, np.__version__)
    header = [
        "# %s | generated by: python3 tools/gen_loss_reference.py | %s" % (FORMAT_TAG, versions),
        "# Reference losses and gradients for libfocal (see include/focal.h for the definitions",
        "# and tools/gen_loss_reference.py for where each value comes from). Do not edit: regenerate.",
        "# Each case: a 'case' line of key=value parameters (unused parameters hold the focal.h",
        "# defaults), then 'logits' (n*c float32 values, written exactly), 'targets' (n*c",
        "# floats for the sigmoid family, n ints for softmax), 'weights' (c values, only if",
        "# weights=1), 'loss' (the reduced loss; for red=none the sum), 'per' (red=none only:",
        "# n*c or n values), 'grad' (n*c values of d loss / d logits; for red=none of the sum)",
        "# and 'end'. The line below gives the number of cases; the last line repeats it.",
        "cases %d" % len(cases),
    ]
    path = os.path.join(REPO, OUT_REL)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(header) + "\n")
        for t in cases:
            f.write(t)
        f.write("eof %d\n" % len(cases))
    os.replace(tmp, path)

    size = os.path.getsize(path)
    print("wrote %s: %d cases, %d bytes" % (OUT_REL, len(cases), size))
    print("torchvision not finite (stable form used) in %d cases" % stats.tv_fallback)
    for k, v in sorted(stats.worst_agree.items()):
        print("worst disagreement (error / max(|reference|, 1)), %s: %.3g" % (k, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
