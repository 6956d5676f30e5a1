"""A trained focal run folder as a torch.nn.Module.

    import focal.run
    model = focal.run.load("runs/x")            # eval mode, on the CPU
    images = model.load_images(["a.png", "b.jpg"])  # decoded, cropped, resized as focal does
    probs = model(images)                       # the probabilities `focal predict` writes

load() reads run.json (task, class names, thresholds, fundus crop) and
model.safetensors (weights, network description, input shape, head, input
normalisation), builds the equivalent torch network (focal.nets) with the
same state_dict names and loads the weights. The module's forward takes
images as (N, C, H, W) — uint8 0..255, or floats already divided by 255 —
(channels-last (N, H, W, C) is accepted too) at the run's input size, or for
a run on a table, (N, features) floats with NaN for a missing value; it
normalises them with the training statistics, runs the network and returns
probabilities: a sigmoid per output (binary: one column, the positive class;
multi-label: one per label), or a softmax over the classes (multi-class).
A run trained with post-hoc logit adjustment (`focal train --posthoc-la`)
adds run.json's posthoc_la.logit_shift (−τ·log of the training prior) to the
logits before that softmax, as focal predict does (model.logit_shift, None
without it). model.logits(x) returns the network's raw outputs, unadjusted;
model.net is the bare torch.nn.Sequential (what to fine-tune or export).
"""
import json
import os
import struct

import numpy as np
import torch
from torch import nn

from focal import nets

__all__ = ["load", "RunModule", "read_safetensors"]

_DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1"}


def read_safetensors(path):
    """({name: numpy array}, {metadata key: value}) of a safetensors file;
    every offset is checked against the file's size."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: truncated (no header length)" % path)
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError("%s: header says %d bytes, the file has %d after the length" % (path, n, len(data) - 8))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        if t["dtype"] not in _DTYPES or not 0 <= begin <= end <= len(body):
            raise ValueError("%s: tensor %s: dtype %s or offsets %r invalid" % (path, name, t["dtype"], t["data_offsets"]))
        arr = np.frombuffer(body[begin:end], dtype=_DTYPES[t["dtype"]])
        tensors[name] = arr.reshape(t["shape"]).copy()
    return tensors, meta


class RunModule(nn.Module):
    """A finished run: preprocessing, the network and the output head."""

    def __init__(self, net, meta, run):
        super().__init__()
        self.net = net
        c, h, w = (int(v) for v in meta["input"].split(","))
        self.input_shape = (c, h, w)
        self.head = meta["head"]
        self.task = run["task"]
        self.class_names = list(run.get("class_names") or json.loads(meta.get("class_names", "[]")))
        self.thresholds = list(run.get("thresholds", []))
        self.fundus_crop = bool(run.get("fundus_crop", False))
        posthoc = run.get("posthoc_la")
        self.posthoc_tau = None
        if posthoc is None:
            self.register_buffer("logit_shift", None)
        else:
            shift = posthoc.get("logit_shift") if isinstance(posthoc, dict) else None
            if self.head != "softmax" or not isinstance(shift, list) or len(shift) != int(meta["classes"]):
                raise ValueError("run.json: posthoc_la needs a softmax head and a logit_shift of %s numbers"
                                 % meta["classes"])
            self.register_buffer("logit_shift", torch.tensor(shift, dtype=torch.float32))
            self.posthoc_tau = float(posthoc["tau"])
        mean = json.loads(meta.get("mean", "[]"))
        std = json.loads(meta.get("std", "[]"))
        if mean and len(mean) != c:
            raise ValueError("the checkpoint normalises %d channels; the model takes %d" % (len(mean), c))
        self.register_buffer("mean", torch.tensor(mean or [0.0] * c, dtype=torch.float32).reshape(c, 1, 1))
        self.register_buffer("std", torch.tensor(std or [1.0] * c, dtype=torch.float32).reshape(c, 1, 1))

    def _inputs(self, x):
        c, h, w = self.input_shape
        x = torch.as_tensor(x)
        if x.device.type != "cpu":
            x = x.cpu()
        if h == 1 and w == 1 and x.dim() == 2:            # a table's rows
            x = x.to(torch.float32).reshape(-1, c, 1, 1)
            return torch.where(torch.isnan(x), torch.zeros_like(x), (x - self.mean) / self.std)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if x.dim() != 4:
            raise ValueError("expected images (N, %d, %d, %d); got shape %s" % (c, h, w, tuple(x.shape)))
        if tuple(x.shape[1:]) != (c, h, w) and tuple(x.shape[1:]) == (h, w, c):
            x = x.permute(0, 3, 1, 2)
        if tuple(x.shape[1:]) != (c, h, w):
            raise ValueError("images of shape %s; this run takes (N, %d, %d, %d) at its training size "
                             "(load_images resizes files)" % (tuple(x.shape), c, h, w))
        x = x.to(torch.float32) / 255.0 if x.dtype == torch.uint8 else x.to(torch.float32)
        return (x - self.mean) / self.std

    def logits(self, x):
        """The network's outputs for images or rows x (see the module's documentation)."""
        return self.net(self._inputs(x))

    def forward(self, x):
        z = self.logits(x)
        if self.logit_shift is not None:
            z = z + self.logit_shift
        return torch.softmax(z, dim=1) if self.head == "softmax" else torch.sigmoid(z)

    def load_images(self, paths):
        """The image files at paths as a uint8 tensor (N, C, H, W), decoded by
        libfocal, cropped to the retina when the run was trained so, resized
        to the run's input size and converted to its channels, exactly as
        `focal predict` does."""
        from focal import _images
        c, h, w = self.input_shape
        return torch.from_numpy(_images.load(paths, w, h, c, self.fundus_crop))

    def predict(self, paths):
        """Probabilities of the image files at paths, as `focal predict`."""
        with torch.no_grad():
            return self(self.load_images(paths))

    def extra_repr(self):
        return "task=%s, head=%s, input=%s, classes=%s" % (self.task, self.head, self.input_shape, self.class_names)


def load(path):
    """The run folder at path (run.json + model.safetensors) as a RunModule in eval mode."""
    with open(os.path.join(path, "run.json"), encoding="utf-8") as f:
        run = json.load(f)
    if run.get("format") is None or "task" not in run:
        raise ValueError("%s/run.json: not a focal run description" % path)
    ckpt = os.path.join(path, "model.safetensors")
    tensors, meta = read_safetensors(ckpt)
    if meta.get("format") != "focal-checkpoint":
        raise ValueError("%s: not a focal checkpoint" % ckpt)
    c, h, w = (int(v) for v in meta["input"].split(","))
    net, _ = nets.build_network(meta["description"], c, h, w, int(meta["classes"]))
    want = dict(nets.state_tensors(net))
    missing, extra = sorted(set(want) - set(tensors)), sorted(set(tensors) - set(want))
    if missing or extra:
        raise ValueError("%s: tensor names differ from the network's: missing %s, extra %s" % (ckpt, missing, extra))
    state = {}
    for k, v in want.items():
        if tuple(v.shape) != tensors[k].shape:
            raise ValueError("%s: %s has shape %s; the network wants %s" % (ckpt, k, tensors[k].shape, tuple(v.shape)))
        state[k] = torch.from_numpy(tensors[k].astype(np.float32))
    net.load_state_dict(state, strict=False)
    return RunModule(net, meta, run).eval()
