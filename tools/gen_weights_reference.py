#!/usr/bin/python3
"""Reference values for libfocal's class-weight and prior-bias helpers.

Balanced weights come from scikit-learn's compute_class_weight('balanced');
class-balanced (effective number) weights follow Cui et al. 2019 as written,
evaluated with numpy in float64; the prior bias is -log((1 - pi) / pi).
Writes tests/fixtures/weights_reference.txt. Run: /usr/bin/python3 tools/gen_weights_reference.py
"""
import os
import sys

import numpy as np
import sklearn
from sklearn.utils.class_weight import compute_class_weight

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "weights_reference.txt")


def label_vectors():
    rng = np.random.default_rng(20261122)
    yield "two-classes", np.array([0] * 90 + [1] * 10)
    yield "retinamnist-train", np.repeat(np.arange(5), [486, 128, 206, 194, 66])
    yield "long-tail-10", np.repeat(np.arange(10), [int(1000 * 100 ** (-c / 9)) for c in range(10)])
    yield "random-7", rng.integers(0, 7, size=333)
    yield "singletons", np.array([0, 1, 2, 2, 2, 2, 2, 2, 2, 3])


def fmt(values):
    return " ".join("%.17g" % v for v in values)


def main():
    lines = ["# libfocal weights reference: python %s, numpy %s, scikit-learn %s; command: "
             "/usr/bin/python3 tools/gen_weights_reference.py"
             % (sys.version.split()[0], np.__version__, sklearn.__version__)]
    count = 0
    for name, y in label_vectors():
        classes = np.unique(y)
        counts = np.array([np.sum(y == c) for c in classes], dtype=np.float64)
        balanced = compute_class_weight("balanced", classes=classes, y=y)
        lines.append("balanced %s %d %s | %s" % (name, len(classes), fmt(counts), fmt(balanced)))
        count += 1
        for beta in (0.0, 0.9, 0.99, 0.999, 0.9999):
            w = (1.0 - beta) / (1.0 - np.power(beta, counts))
            w = w * len(classes) / np.sum(w)
            lines.append("effective %s %d %.17g %s | %s" % (name, len(classes), beta, fmt(counts), fmt(w)))
            count += 1
    for pi in (0.5, 0.1, 0.01, 0.001, 1e-6, 0.9):
        lines.append("prior %.17g %.17g" % (pi, -np.log((1.0 - pi) / pi)))
        count += 1
    lines.insert(1, "count %d" % count)
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, OUT)
    print("wrote %d reference lines to %s" % (count, os.path.relpath(OUT, ROOT)))


if __name__ == "__main__":
    main()
