"""The package's view of the C interface (_abi.json, written by focal_abi)
against the headers themselves, and the version check."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

REQUIRES = ("numpy",)
SOURCE = os.environ["FOCAL_SOURCE_DIR"]
BUILD = os.environ["FOCAL_BUILD_DIR"]
PKG = os.path.join(BUILD, "python", "focal")


def _header(name):
    with open(os.path.join(SOURCE, "include", "focal", name), encoding="utf-8") as f:
        return re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)


def _struct_members(text, struct):
    body = re.search(r"struct %s \{(.*?)\};" % struct, text, re.S).group(1)
    names = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        # "double a, b", "const double *w", "int64_t *support", "char **names"
        head, *rest = decl.split(",")
        names.append(re.search(r"(\w+)\s*(\[[^\]]*\])?$", head).group(1))
        names += [r.strip().lstrip("*").strip() for r in rest]
    return names


def _enum_constants(text, enum):
    body = re.search(r"enum %s \{(.*?)\}" % enum, text, re.S).group(1)
    return [c.split("=")[0].strip() for c in body.split(",") if c.strip()]


def test_struct_members_match_headers():
    abi = json.load(open(os.path.join(PKG, "_abi.json")))
    for header, struct in (("loss.h", "focal_loss"), ("loss.h", "focal_loss_info"),
                           ("eval.h", "focal_metrics"), ("image.h", "focal_image")):
        want = _struct_members(_header(header), struct)
        have = [m[0] for m in abi["structs"][struct]["members"]]
        assert have == want, "%s: _abi.json lists %s; %s declares %s" % (struct, have, header, want)
        offs = [m[1] for m in abi["structs"][struct]["members"]]
        assert offs == sorted(offs) and abi["structs"][struct]["size"] >= offs[-1], struct
        assert all(m[3] != "?" for m in abi["structs"][struct]["members"]), struct


def test_enums_match_headers():
    abi = json.load(open(os.path.join(PKG, "_abi.json")))
    kinds = [c for c in _enum_constants(_header("loss.h"), "focal_loss_kind") if c != "FOCAL_LOSS_KIND_COUNT"]
    assert len(kinds) == len(abi["enums"]["focal_loss_kind"]), (kinds, abi["enums"]["focal_loss_kind"])
    for c, name in zip(kinds, abi["enums"]["focal_loss_kind"]):
        assert c == "FOCAL_LOSS_" + name.upper().replace("-", "_"), (c, name)
    reds = [c for c in _enum_constants(_header("loss.h"), "focal_reduction") if c != "FOCAL_REDUCTION_COUNT"]
    assert ["FOCAL_REDUCTION_" + r.upper() for r in abi["enums"]["focal_reduction"]] == reds
    tasks = _enum_constants(_header("base.h"), "focal_task")
    assert ["FOCAL_TASK_" + t.upper() for t in abi["enums"]["focal_task"]] == tasks
    params = _enum_constants(_header("loss.h"), "focal_loss_param")
    assert ["FOCAL_PARAM_" + p.upper() for p in abi["flags"]["focal_loss_param"]] == params
    assert len(abi["enums"]["focal_status"]) == len(re.search(r"enum focal_status \{(.*?)\}", _header("base.h"),
                                                              re.S).group(1).split(","))


def test_version_is_the_headers_and_the_librarys():
    import focal.losses  # noqa: F401  (loads and checks the library)
    import focal
    ver = re.search(r'#define FOCAL_VERSION_STRING "([^"]+)"', _header("base.h")).group(1)
    assert focal.__version__ == ver and focal.library_version == ver


def test_mismatched_library_is_refused():
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(PKG, os.path.join(tmp, "focal"))
        path = os.path.join(tmp, "focal", "_abi.json")
        abi = json.load(open(path))
        abi["version"] = "9.8.7"
        json.dump(abi, open(path, "w"))
        r = subprocess.run([sys.executable, "-c", "import focal.losses"], cwd=tmp, capture_output=True, text=True,
                           env=dict(os.environ, PYTHONPATH=tmp))
        assert r.returncode != 0
        assert "LibraryMismatch" in r.stderr and "is version 0" in r.stderr and "9.8.7" in r.stderr, r.stderr


def test_library_not_found_message():
    r = subprocess.run([sys.executable, "-c", "import focal.losses"], capture_output=True, text=True,
                       env=dict(os.environ, FOCAL_LIBRARY="/nonexistent/libfocal.so"))
    assert r.returncode != 0 and "cannot load the C library /nonexistent/libfocal.so" in r.stderr, r.stderr
