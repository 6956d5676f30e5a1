"""The losses as written in focal.h, in torch float64 with autograd: the
references the package's losses are checked against (torchvision's
sigmoid_focal_loss and F.cross_entropy are used directly where they exist)."""
import torch
import torch.nn.functional as F


def alpha_t(y, alpha):
    return torch.ones_like(y) if alpha < 0 else alpha * y + (1 - alpha) * (1 - y)


def sigmoid_elementwise(kind, x, y, gamma=2.0, alpha=-1.0, beta=1.0, gamma_pos=0.0, gamma_neg=4.0, margin=0.05,
                        epsilon=1.0):
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


def softmax_rowwise(kind, x, t, gamma=2.0, alpha=-1.0, epsilon=1.0, label_smoothing=0.0, class_weights=None):
    c = x.shape[1]
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
