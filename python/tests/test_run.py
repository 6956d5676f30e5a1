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


def test_posthoc_logit_adjustment_matches_scores():
    """A multi-class run with --posthoc-la 1: the module's probabilities are
    the softmax of its logits plus run.json's shift, as in the run's scores.csv."""
    import random
    with tempfile.TemporaryDirectory() as tmp:
        rng = random.Random(5)
        rows = []
        for _ in range(300):
            x = [rng.uniform(-2, 2) for _ in range(3)]
            rows.append(x + [2 if x[0] + x[1] > 2.2 else (1 if x[2] > 0 else 0)])
        with open(os.path.join(tmp, "m.csv"), "w") as f:
            f.writelines("%.4f,%.4f,%.4f,%d\n" % tuple(r) for r in rows)
        sh("train", "--data", "m.csv", "--model", "mlp", "--epochs", "2", "--posthoc-la", "1", "--out", "R",
           "--threads", "1", "--quiet", cwd=tmp)
        model = focal.run.load(os.path.join(tmp, "R"))
        assert model.posthoc_tau == 1.0 and model.logit_shift is not None
        with open(os.path.join(tmp, "R", "scores.csv")) as f:
            test = [r for r in csv.reader(f) if r[0] == "test"]
        # a table's sample id is its line in the file
        x = torch.tensor([rows[int(r[1]) - 1][:3] for r in test], dtype=torch.float32)
        want = torch.tensor([[float(v) for v in r[2:5]] for r in test], dtype=torch.float64)
        with torch.no_grad():
            got = model(x).double()
            plain = torch.softmax(model.logits(x), dim=1).double()
        err = (got - want).abs().max().item()
        assert err <= 1e-5, "largest difference from scores.csv %.3g" % err
        assert (plain - want).abs().max().item() > 1e-2, "the shift changes the probabilities"


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
