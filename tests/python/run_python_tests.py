#!/usr/bin/python3
"""Runs the focal Python package's tests (python/tests/test_*.py) with the
system interpreter, against the package assembled in the build tree.

Each test module's test_* functions run in turn; a module may set
REQUIRES = ("numpy", "torch", ...) and is skipped, with a visible "skip:"
line, when one of them cannot be imported. Prints one line per test and
ends with "N passed, M failed"; exits 1 if anything failed.

Usage (CTest runs it so): run_python_tests.py BUILD_DIR [NAME_FILTER]
"""
import importlib
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))


def main():
    if len(sys.argv) < 2:
        print("usage: run_python_tests.py BUILD_DIR [NAME_FILTER]", file=sys.stderr)
        return 2
    build = os.path.abspath(sys.argv[1])
    filt = sys.argv[2] if len(sys.argv) > 2 else ""
    sys.path.insert(0, os.path.join(build, "python"))
    sys.path.insert(0, os.path.join(SOURCE, "python", "tests"))
    os.environ.setdefault("FOCAL_SOURCE_DIR", SOURCE)
    os.environ["FOCAL_BUILD_DIR"] = build
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(build, "python")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("skip: numpy is not installed (Debian: python3-numpy); the Python package's tests did not run")
        print("0 passed, 0 failed")
        return 0
    tests_dir = os.path.join(SOURCE, "python", "tests")
    passed = failed = 0
    for fname in sorted(os.listdir(tests_dir)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        modname = fname[:-3]
        spec = importlib.util.spec_from_file_location(modname, os.path.join(tests_dir, fname))
        mod = importlib.util.module_from_spec(spec)
        missing = []
        for req in _peek_requires(os.path.join(tests_dir, fname)):
            if importlib.util.find_spec(req) is None:
                missing.append(req)
        if missing:
            print("skip: %s needs %s (Debian: %s)" % (modname, ", ".join(missing),
                                                         " ".join("python3-" + m for m in missing)))
            continue
        try:
            spec.loader.exec_module(mod)
        except Exception:
            failed += 1
            print("FAIL %s (import)\n%s" % (modname, traceback.format_exc()))
            continue
        for name in sorted(n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n))):
            full = "%s.%s" % (modname, name)
            if filt and filt not in full:
                continue
            t0 = time.time()
            try:
                getattr(mod, name)()
            except Exception:
                failed += 1
                print("FAIL %s\n%s" % (full, traceback.format_exc()))
            else:
                passed += 1
                print("ok   %s (%.2f s)" % (full, time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def _peek_requires(path):
    """The module's REQUIRES tuple, read without importing it."""
    import ast
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "REQUIRES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    return ()


if __name__ == "__main__":
    sys.exit(main())
