#!/usr/bin/python3
"""retina_dev.py RETINAMNIST.npz OUT.npz — the data the default recipe was
chosen on (README, "The default recipe"): RetinaMNIST with 120 of its 1080
training images (stratified by grade, numpy's default_rng(12345)) as the
validation split, and its official validation split as the test split, so
that recipes are compared without touching the official test split."""
import sys

import numpy as np


def main(src, dst):
    z = np.load(src)
    y = z["train_labels"].ravel()
    rng = np.random.default_rng(12345)
    idx = np.arange(len(y))
    val = []
    for c in np.unique(y):
        ic = idx[y == c]
        val += list(rng.choice(ic, round(120 * len(ic) / len(y)), replace=False))
    val = np.array(sorted(val))
    tr = np.setdiff1d(idx, val)
    np.savez_compressed(dst, train_images=z["train_images"][tr], train_labels=z["train_labels"][tr],
                        val_images=z["train_images"][val], val_labels=z["train_labels"][val],
                        test_images=z["val_images"], test_labels=z["val_labels"])
    print(f"{dst}: {len(tr)} training, {len(val)} validation, {len(z['val_labels'])} test images")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
