"""The losses as written in focal.h, in torch float64 with autograd: the
references the package's losses are checked against (torchvision's
sigmoid_focal_loss and F.cross_entropy are used directly where they exist)."""
import torch
import torch.nn.functional as F


def alpha_t(y, alpha):
    return torch.ones_like(y) if alpha < 0 else alpha * y + (1 - alpha) * (1 - y)


def db_elementwise(x, y, gamma, class_prior, db_alpha, db_beta, db_mu, db_lambda, db_kappa):
    """Distribution-balanced loss (Wu et al. 2020, as its official code): the
    bias (κ/λ)·log(π/(1−π)) added to the logits, negatives' logits scaled by
    λ and their loss divided by λ, focal factor, re-balancing weight
    α + σ(β (r − μ)) with r = (1/π_j) / Σ_k y_k/π_k (soft targets interpolate)."""
    pi = torch.as_tensor(class_prior, dtype=x.dtype)
    v = x + db_kappa / db_lambda * torch.log(pi / (1 - pi))
    inv = 1 / pi
    rep = (y.clamp(min=0) * inv).sum(-1, keepdim=True)
    w = db_alpha + torch.sigmoid(db_beta * (inv / rep - db_mu))
    pos = (1 - torch.sigmoid(v)) ** gamma * -F.logsigmoid(v)
    neg = torch.sigmoid(db_lambda * v) ** gamma * -F.logsigmoid(-db_lambda * v) / db_lambda
    return w.detach() * (y * pos + (1 - y) * neg)


def sigmoid_elementwise(kind, x, y, gamma=2.0, alpha=-1.0, beta=1.0, gamma_pos=0.0, gamma_neg=4.0, margin=0.05,
                        epsilon=1.0, class_prior=None, db_alpha=0.1, db_beta=10.0, db_mu=0.2, db_lambda=2.0,
                        db_kappa=0.05):
    if kind == "db":
        return db_elementwise(x, y, gamma, class_prior, db_alpha, db_beta, db_mu, db_lambda, db_kappa)
    p = torch.sigmoid(x)
    pt = p * y + (1 - p) * (1 - y)
    bce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    at = alpha_t(y, alpha)
    if kind == "bce":
        return at * bce
    if kind == "sigmoid-focal":
        return at * (1 - pt) ** gamma * bce
    if kind == "focal-star":
        xt = (2 * y - 1) * x
        return at * (-F.logsigmoid(gamma * xt + beta) / gamma)
    if kind == "asl":
        pm = torch.clamp(p - margin, min=0)
        return at * (-y * (1 - p) ** gamma_pos * torch.log(p) - (1 - y) * pm ** gamma_neg * torch.log(1 - pm))
    if kind == "sigmoid-poly1":
        return at * (1 - pt) ** gamma * bce + epsilon * (1 - pt) ** (gamma + 1)
    raise ValueError(kind)


def softmax_rowwise(kind, x, t, gamma=2.0, alpha=-1.0, epsilon=1.0, label_smoothing=0.0, class_weights=None,
                    class_prior=None, tau=1.0, margin=0.5, scale=30.0):
    c = x.shape[1]
    if kind in ("la", "balanced-softmax", "ldam"):
        # logit adjustment (Menon et al.), Balanced Softmax (Ren et al.: τ = 1), LDAM (Cao et al.)
        n = torch.as_tensor(class_prior, dtype=x.dtype)
        w = torch.ones(x.shape[0], dtype=x.dtype) if class_weights is None else class_weights[t]
        a = 1.0 if alpha < 0 else alpha
        if kind == "ldam":
            d = n ** -0.25
            d = d * (margin / d.max())
            u = scale * (x - d[t].unsqueeze(1) * F.one_hot(t, c).to(x.dtype))
        else:
            u = x + (1.0 if kind == "balanced-softmax" else tau) * torch.log(n)
        return a * w * F.cross_entropy(u, t, reduction="none")
    logp = torch.log_softmax(x, dim=1)
    p = logp.exp()
    q = (1 - label_smoothing) * F.one_hot(t, c).to(x.dtype) + label_smoothing / c
    w = torch.ones(x.shape[0], dtype=x.dtype) if class_weights is None else class_weights[t]
    a = 1.0 if alpha < 0 else alpha
    g = 0.0 if kind == "ce" else gamma
    main = a * w * (q * (-(1 - p) ** g * logp)).sum(1)
    if kind == "softmax-poly1":
        P = (q * p).sum(1)
        main = main + w * epsilon * (1 - P) ** (gamma + 1)
    return main


def reduce(per, reduction, counted, positives):
    if reduction == "none":
        return per
    s = per.sum()
    if reduction == "sum":
        return s
    if reduction == "mean":
        return s / max(1, int(counted))
    return s / max(1, int(positives))
