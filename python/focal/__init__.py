"""focal: the losses, metrics and trained runs of libfocal, from Python.

Pure Python over the C library (libfocal.so, through ctypes); nothing to
compile. Submodules, imported on first use:

  focal.losses   every loss of the library on numpy arrays: (loss, gradient);
                 class-weight helpers
  focal.metrics  classification metrics with scikit-learn's names and arguments
  focal.torch    torch.autograd Functions and nn.Modules for every loss
                 (drop-in sigmoid_focal_loss, FocalLoss, ...), CPU tensors
  focal.run      a run folder as a torch.nn.Module giving `focal predict`'s
                 probabilities
  focal.nets     focal's network descriptions as torch.nn.Sequential

The library is found through the environment variable FOCAL_LIBRARY, else the
_paths.json installed beside this file (written by CMake: the built library in
a build tree, the installed one after `cmake --install`). Importing focal.losses,
focal.metrics or focal.torch loads it and refuses a library whose version
differs from the headers this package was generated from.
"""
import importlib

__all__ = ["losses", "metrics", "torch", "run", "nets", "library_version", "FocalError"]


def __getattr__(name):
    if name in ("losses", "metrics", "torch", "run", "nets"):
        return importlib.import_module("focal." + name)
    if name in ("library_version", "FocalError", "set_threads", "get_threads", "isa", "__version__"):
        from focal import _lib
        return getattr(_lib, name)
    raise AttributeError("module 'focal' has no attribute %r" % name)
