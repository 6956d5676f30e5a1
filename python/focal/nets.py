"""PyTorch equivalents of focal's network descriptions (focal.run, the tools).

focal describes a network as text, one layer per line (see include/focal.h,
"Networks"). build_network(desc, in_c, in_h, in_w, classes) returns the
torch.nn.Sequential that computes the same function, with the same
state_dict names as focal_model_tensor reports:

  * layer i is the module at index i of the Sequential, i counting the
    description's layer lines from 0 (comments and blank lines do not count),
    so a conv on the first line owns "0.weight" and "0.bias", a batchnorm on
    the second "1.weight", "1.bias", "1.running_mean", "1.running_var";
  * `block` is a BasicBlock whose tensors are "<i>.conv1.weight",
    "<i>.bn1.*", "<i>.conv2.weight", "<i>.bn2.*" and, when the block changes
    the stride or the channel count, "<i>.shortcut.0.weight" (1x1 conv) and
    "<i>.shortcut.1.*" (its batchnorm).

PyTorch also keeps "num_batches_tracked" for every batchnorm; focal has no such
tensor, so state_tensors() leaves it out.

Layer semantics (focal.h is the authority; this mirrors it):
  conv OC K [stride=S] [pad=P] [bias=0|1]  Conv2d, pad default K//2, bias default 1
  batchnorm [momentum=M] [eps=E]           BatchNorm2d, or BatchNorm1d after
                                           flatten/gap/dense; defaults 0.1, 1e-5
  relu | leakyrelu [slope=A]               slope default 0.01
  maxpool K [stride=S] [pad=P]             stride default K, pad default 0
  avgpool K [stride=S] [pad=P]             count_include_pad=True
  gap                                      adaptive average pool to 1x1, flattened
  dropout P                                Dropout(P)
  flatten                                  Flatten()
  dense N                                  Linear (N may be `classes`); needs a flat
                                           input (after flatten, gap or dense)
  dense-norm N                             NormedLinear: cosine similarities of the
                                           normalised input and weight rows (LDAM)
  block OC [stride=S]                      BasicBlock as described above

The module only builds networks; it writes nothing.
"""

import torch
from torch import nn


class DescriptionError(ValueError):
    """A description line this module cannot turn into a layer."""


class BasicBlock(nn.Module):
    """ResNet basic block: conv3x3(stride)-BN-ReLU-conv3x3-BN, plus the input
    (through a 1x1 conv + BN when the shape changes), then ReLU."""

    def __init__(self, in_c, out_c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        if stride != 1 or in_c != out_c:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_c, out_c, 1, stride=stride, padding=0, bias=False),
                nn.BatchNorm2d(out_c))
        else:
            self.shortcut = None

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.shortcut is None else self.shortcut(x)
        return torch.relu(y + s)


class NormedLinear(nn.Linear):
    """LDAM's normalised classifier (Cao et al. 2019), focal's `dense-norm`:
    out = normalize(x) @ normalize(weight).T, each row divided by its L2 norm
    clamped below at 1e-12 (F.normalize); no bias. A Linear, so its weight
    decays as a dense weight does."""

    def __init__(self, in_features, out_features):
        super().__init__(in_features, out_features, bias=False)

    def forward(self, x):
        return nn.functional.linear(nn.functional.normalize(x, dim=1, eps=1e-12),
                                    nn.functional.normalize(self.weight, dim=1, eps=1e-12))


class GlobalAvgPool(nn.Module):
    """(N, C, H, W) -> (N, C): the mean over each channel plane."""

    def forward(self, x):
        return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)


def layer_lines(desc):
    """The description's layer lines, comments and blanks removed, as
    (line number, [words]) in order."""
    out = []
    for num, raw in enumerate(desc.splitlines(), 1):
        text = raw.split("#", 1)[0].strip()
        if text:
            out.append((num, text.split()))
    return out


def _split_args(num, words, n_pos, keys):
    """Positional words and key=value options of one line, checked."""
    pos, opts = [], {}
    for w in words[1:]:
        if "=" in w:
            k, v = w.split("=", 1)
            if k not in keys:
                raise DescriptionError("line %d: '%s' takes no option '%s'" % (num, words[0], k))
            opts[k] = v
        else:
            pos.append(w)
    if len(pos) != n_pos:
        raise DescriptionError("line %d: '%s' takes %d positional value(s), got %d"
                               % (num, words[0], n_pos, len(pos)))
    return pos, opts


def build_network(desc, in_c, in_h, in_w, classes):
    """Returns (nn.Sequential, output shape) for a description and an input of
    in_c x in_h x in_w with `classes` outputs. Raises DescriptionError for a
    line it does not understand or a shape that does not fit."""
    layers = []
    shape = (in_c, in_h, in_w)          # per-sample shape: (C, H, W) or (F,)
    for num, words in layer_lines(desc):
        kind = words[0]
        if kind == "conv":
            (oc, k), o = _split_args(num, words, 2, {"stride", "pad", "bias"})
            oc, k = int(oc), int(k)
            stride, pad = int(o.get("stride", 1)), int(o.get("pad", k // 2))
            bias = int(o.get("bias", 1)) != 0
            c, h, w = shape
            layers.append(nn.Conv2d(c, oc, k, stride=stride, padding=pad, bias=bias))
            shape = (oc, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1)
        elif kind == "batchnorm":
            _, o = _split_args(num, words, 0, {"momentum", "eps"})
            mom, eps = float(o.get("momentum", 0.1)), float(o.get("eps", 1e-5))
            bn = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
            layers.append(bn(shape[0], eps=eps, momentum=mom))
        elif kind == "relu":
            _split_args(num, words, 0, set())
            layers.append(nn.ReLU())
        elif kind == "leakyrelu":
            _, o = _split_args(num, words, 0, {"slope"})
            layers.append(nn.LeakyReLU(float(o.get("slope", 0.01))))
        elif kind in ("maxpool", "avgpool"):
            (k,), o = _split_args(num, words, 1, {"stride", "pad"})
            k = int(k)
            stride, pad = int(o.get("stride", k)), int(o.get("pad", 0))
            if kind == "maxpool":
                layers.append(nn.MaxPool2d(k, stride=stride, padding=pad))
            else:
                layers.append(nn.AvgPool2d(k, stride=stride, padding=pad, count_include_pad=True))
            c, h, w = shape
            shape = (c, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1)
        elif kind == "gap":
            _split_args(num, words, 0, set())
            layers.append(GlobalAvgPool())
            shape = (shape[0],)
        elif kind == "dropout":
            (p,), _ = _split_args(num, words, 1, set())
            layers.append(nn.Dropout(float(p)))
        elif kind == "flatten":
            _split_args(num, words, 0, set())
            layers.append(nn.Flatten())
            shape = (int(torch.tensor(shape).prod()),)
        elif kind == "dense":
            (n,), o = _split_args(num, words, 1, {"bias"})
            n = classes if n == "classes" else int(n)
            if len(shape) != 1:
                raise DescriptionError("line %d: dense needs a flat input; add flatten or gap before it" % num)
            layers.append(nn.Linear(shape[0], n, bias=int(o.get("bias", 1)) != 0))
            shape = (n,)
        elif kind == "dense-norm":
            (n,), _ = _split_args(num, words, 1, set())
            n = classes if n == "classes" else int(n)
            if len(shape) != 1:
                raise DescriptionError("line %d: dense-norm needs a flat input; add flatten or gap before it" % num)
            layers.append(NormedLinear(shape[0], n))
            shape = (n,)
        elif kind == "block":
            (oc,), o = _split_args(num, words, 1, {"stride"})
            oc, stride = int(oc), int(o.get("stride", 1))
            c, h, w = shape
            layers.append(BasicBlock(c, oc, stride))
            shape = (oc, (h - 1) // stride + 1, (w - 1) // stride + 1)
        else:
            raise DescriptionError("line %d: unknown layer '%s'" % (num, kind))
        if min(shape) < 1:
            raise DescriptionError("line %d: '%s' leaves an empty output %s" % (num, kind, shape))
    net = nn.Sequential(*layers)
    with torch.no_grad():
        probe = net.eval()(torch.zeros(1, in_c, in_h, in_w))
    net.train()
    if tuple(probe.shape[1:]) != tuple(shape):
        raise DescriptionError("shape bookkeeping %s disagrees with torch %s"
                               % (shape, tuple(probe.shape[1:])))
    return net, shape


def softmax_focal(logits, target, gamma=2.0):
    """Mean over rows of -(1 - p_t)^gamma log p_t: focal.h's softmax-focal
    without alpha, for logits (rows, classes) and class indices target."""
    logp_t = torch.log_softmax(logits, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    return (-((1.0 - logp_t.exp()) ** gamma) * logp_t).mean()


def state_tensors(net):
    """The network's parameters and buffers by state_dict name, in state_dict
    order, without batchnorm's num_batches_tracked."""
    return [(k, v) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")]


def no_decay_names(net):
    """Names of the parameters focal trains without weight decay by default:
    biases and batchnorm weights (every parameter that is not a conv or dense
    weight)."""
    out = set()
    for mname, mod in net.named_modules():
        for pname, _ in mod.named_parameters(recurse=False):
            full = pname if not mname else mname + "." + pname
            if not (isinstance(mod, (nn.Conv2d, nn.Linear)) and pname == "weight"):
                out.add(full)
    return out
