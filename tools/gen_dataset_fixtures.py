#!/usr/bin/python3
"""Fixtures and expected values for libfocal's dataset readers.

Writes into tests/fixtures/datasets/:
  tiny.npz              savez_compressed (deflate): RGB (N,5,4,3) uint8 images,
                        (N,1) uint8 labels, train/val/test
  tiny_stored.npz       savez (stored): gray (N,3,2) images, (N,) int64 labels
  tiny_multilabel.npz   savez_compressed: (N,4,4) images, (N,3) 0/1 labels
  npz_missing_key.npz   val_images without val_labels
  npz_wrong_dtype.npz   float32 train_images
  tiny-images-idx3-ubyte.gz / tiny-labels-idx1-ubyte.gz   5 images 3x2, gzip
  plain/tiny-images-idx3-ubyte / plain/tiny-labels-idx1-ubyte   the same, plain
  short-images-idx3-ubyte.gz / short-labels-idx1-ubyte.gz  5 images, 4 labels
  expected.txt          the fixtures' values and, when ../shared/data is present,
                        values computed from the real data (MNIST t10k class
                        counts, RetinaMNIST class counts, RFMiD column counts and
                        the 27 most frequent conditions)
Run: /usr/bin/python3 tools/gen_dataset_fixtures.py
"""
import csv
import gzip
import os
import struct
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "datasets")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")


def pixels(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def write_idx(path, magic, dims, data, compress):
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data.tobytes()
    if compress:
        with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
            g.write(raw)
    else:
        with open(path, "wb") as f:
            f.write(raw)


def fmt(values):
    return " ".join(str(int(v)) for v in values)


def main():
    os.makedirs(os.path.join(OUT, "plain"), exist_ok=True)
    lines = []

    # MedMNIST-style archives
    tiny = {
        "train_images": pixels((6, 5, 4, 3), 1), "train_labels": np.array([[0], [1], [2], [0], [2], [2]], np.uint8),
        "val_images": pixels((2, 5, 4, 3), 2), "val_labels": np.array([[1], [0]], np.uint8),
        "test_images": pixels((3, 5, 4, 3), 3), "test_labels": np.array([[2], [2], [1]], np.uint8),
    }
    np.savez_compressed(os.path.join(OUT, "tiny.npz"), **tiny)
    stored = {
        "train_images": pixels((4, 3, 2), 4), "train_labels": np.array([3, 0, 1, 3], np.int64),
        "test_images": pixels((1, 3, 2), 5), "test_labels": np.array([2], np.int64),
    }
    np.savez(os.path.join(OUT, "tiny_stored.npz"), **stored)
    ml = {
        "train_images": pixels((5, 4, 4), 6),
        "train_labels": np.array([[1, 0, 0], [0, 0, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1]], np.uint8),
    }
    np.savez_compressed(os.path.join(OUT, "tiny_multilabel.npz"), **ml)
    np.savez_compressed(os.path.join(OUT, "npz_missing_key.npz"), train_images=tiny["train_images"],
                        train_labels=tiny["train_labels"], val_images=tiny["val_images"])
    np.savez_compressed(os.path.join(OUT, "npz_wrong_dtype.npz"), train_images=tiny["train_images"].astype(np.float32),
                        train_labels=tiny["train_labels"])
    for name, arr in sorted(tiny.items()):
        lines.append("tiny.npz %s %s | %s" % (name, fmt(arr.shape), fmt(arr.reshape(-1)[:12])))
    for name, arr in sorted(stored.items()):
        lines.append("tiny_stored.npz %s %s | %s" % (name, fmt(arr.shape), fmt(arr.reshape(-1)[:12])))
    for name, arr in sorted(ml.items()):
        lines.append("tiny_multilabel.npz %s %s | %s" % (name, fmt(arr.shape), fmt(arr.reshape(-1)[:12])))

    # idx files
    img = pixels((5, 3, 2), 7)
    lab = np.array([4, 0, 9, 4, 1], np.uint8)
    for compress, sub, ext in ((True, "", ".gz"), (False, "plain", "")):
        write_idx(os.path.join(OUT, sub, "tiny-images-idx3-ubyte" + ext), 0x803, img.shape, img, compress)
        write_idx(os.path.join(OUT, sub, "tiny-labels-idx1-ubyte" + ext), 0x801, lab.shape, lab, compress)
    write_idx(os.path.join(OUT, "short-images-idx3-ubyte.gz"), 0x803, img.shape, img, True)
    write_idx(os.path.join(OUT, "short-labels-idx1-ubyte.gz"), 0x801, (4,), lab[:4], True)
    lines.append("tiny-idx images %s | %s" % (fmt(img.shape), fmt(img.reshape(-1)[:12])))
    lines.append("tiny-idx labels %s | %s" % (fmt(lab.shape), fmt(lab)))

    # values from the real data, when it is there
    mnist = os.path.join(SHARED, "mnist", "t10k-labels-idx1-ubyte.gz")
    if os.path.exists(mnist):
        with gzip.open(mnist, "rb") as f:
            y = np.frombuffer(f.read()[8:], np.uint8)
        lines.append("mnist-t10k counts %s" % fmt(np.bincount(y, minlength=10)))
    retina = os.path.join(SHARED, "medmnist", "retinamnist.npz")
    if os.path.exists(retina):
        with np.load(retina) as z:
            for split in ("train", "val", "test"):
                lines.append("retinamnist %s counts %s" % (split, fmt(np.bincount(z[split + "_labels"].reshape(-1),
                                                                                 minlength=5))))
    rf = os.path.join(SHARED, "rfmid", "RFMiD_Training_Labels.csv")
    if os.path.exists(rf):
        with open(rf, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        head, body = rows[0], np.array(rows[1:], dtype=np.int64)
        counts = body.sum(axis=0)
        conds = [j for j, name in enumerate(head) if name not in ("ID", "Disease_Risk")]
        # the 27 most frequent conditions, ties broken by column order (a stable sort)
        order = sorted(conds, key=lambda j: -counts[j])
        keep, rest = sorted(order[:27]), order[27:]
        other = body[:, rest].max(axis=1)
        lines.append("rfmid-train columns %s" % " ".join(head[j] for j in conds))
        lines.append("rfmid-train counts %s" % fmt(counts[j] for j in conds))
        lines.append("rfmid-train top27 %s" % " ".join(head[j] for j in keep))
        lines.append("rfmid-train other %d" % other.sum())
        lines.append("rfmid-train normal %d" % (body[:, conds].sum(axis=1) == 0).sum())

    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("# libfocal dataset fixtures: python %s, numpy %s; command: /usr/bin/python3 "
                "tools/gen_dataset_fixtures.py\n" % (sys.version.split()[0], np.__version__))
        for line in lines:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
