"""focal.run: a run trained by the focal program, loaded in torch, gives the
probabilities `focal predict` writes; and the package installed by
cmake --install works from the installed tree."""
import csv
import os
import subprocess
import sys
import tempfile

import torch

import focal.run

REQUIRES = ("numpy", "torch")
FOCAL = os.environ.get("FOCAL_BIN") or os.path.join(os.environ["FOCAL_BUILD_DIR"], "focal")
NETS = {"multilabel": "conv 4 3\nbatchnorm\nrelu\nmaxpool 2\nblock 8 stride=2\ngap\ndense 6\nrelu\ndense classes\n",
        "dense-norm": "conv 4 3\nrelu\ngap\ndense 6\nrelu\ndense-norm classes\n"}


def sh(*args, cwd):
    r = subprocess.run([FOCAL] + list(args), cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, "focal %s: %s%s" % (" ".join(args), r.stdout, r.stderr)


def check_run_matches_focal_predict(net):
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "net.txt"), "w") as f:
            f.write(NETS[net])
        sh("synth", "--n", "60", "--size", "32", "--out", "D", cwd=tmp)          # resized to 16x16 below
        sh("train", "--data", "D", "--size", "16x16", "--model", "net.txt", "--epochs", "1", "--out", "R",
           "--threads", "1", cwd=tmp)
        sh("predict", "--model", "R", "--images", "D/Test", "--out", "P.csv", "--threads", "1", cwd=tmp)
        with open(os.path.join(tmp, "P.csv")) as f:
            rows = list(csv.reader(f))
        model = focal.run.load(os.path.join(tmp, "R"))
        assert not model.training and model.task == "multilabel"
        k = len(model.class_names)
        assert rows[0][1:1 + k] == model.class_names
        want = torch.tensor([[float(v) for v in r[1:1 + k]] for r in rows[1:]], dtype=torch.float64)
        paths = [os.path.join(tmp, "D", "Test", r[0] + ".png") for r in rows[1:]]
        images = model.load_images(paths)
        assert images.dtype == torch.uint8 and tuple(images.shape[1:]) == (3, 16, 16)
        with torch.no_grad():
            got = model(images).double()
            got_hwc = model(images.permute(0, 2, 3, 1)).double()
            got_float = model(images.float() / 255).double()
        err = (got - want).abs().max().item()
        assert err <= 1e-5, "largest difference from focal predict %.3g" % err
        assert torch.equal(got, got_hwc) and (got - got_float).abs().max().item() < 1e-6
        # the thresholds focal predict applied
        for r, p in zip(rows[1:], got):
            assert [int(v) for v in r[1 + k:]] == [int(p[j] >= model.thresholds[j]) for j in range(k)] or \
                any(abs(p[j] - model.thresholds[j]) < 1e-5 for j in range(k))


def test_run_matches_focal_predict():
    check_run_matches_focal_predict("multilabel")


def test_dense_norm_run_matches_focal_predict():
    """LDAM's normalised classifier (dense-norm) rebuilt as focal.nets.NormedLinear."""
    check_run_matches_focal_predict("dense-norm")


def test_installed_package():
    build = os.environ["FOCAL_BUILD_DIR"]
    with tempfile.TemporaryDirectory() as prefix:
        r = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        site = os.path.join(prefix, "lib", "python3", "dist-packages")
        code = ("import focal, focal.losses, focal.metrics, focal.run, focal.torch, numpy as np\n"
                "l, g = focal.losses.sigmoid_focal(np.zeros((2, 2)), np.ones((2, 2)))\n"
                "print(focal._lib.library_path); print(round(l, 6))")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FOCAL_LIBRARY")}
        r = subprocess.run([sys.executable, "-c", code], cwd=prefix, capture_output=True, text=True,
                           env=dict(env, PYTHONPATH=site))
        assert r.returncode == 0, r.stderr
        lib, value = r.stdout.split()
        assert lib.startswith(prefix) and os.path.exists(lib), lib
        assert abs(float(value) - 0.25 * 0.693147) < 1e-6, value   # (1 - 0.5)^2 log 2, alpha off
