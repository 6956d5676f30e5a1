"""Loading libfocal.so and the binary interface the package was generated for.

_abi.json (written at build time by focal_abi, compiled against focal.h) holds
the header version, the layout of every struct the package fills or reads and
every enum's values by the library's own names. This module is the only one
that touches it: others use Struct buffers and the enum tables below.
"""
import ctypes
import json
import os
import struct as _struct

_HERE = os.path.dirname(os.path.abspath(__file__))


class FocalError(RuntimeError):
    """A libfocal call failed: the message is the library's focal_last_error()."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class LibraryMismatch(ImportError):
    """The library found is not the one this package was generated for."""


def _read_json(name):
    path = os.path.join(_HERE, name)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ImportError(
            "focal: %s is missing; the package must be assembled by CMake (cmake --build: "
            "build/python/focal) or installed by cmake --install, not used from the source tree" % path) from None


ABI = _read_json("_abi.json")
__version__ = ABI["version"]


def _library_path():
    env = os.environ.get("FOCAL_LIBRARY")
    if env:
        return env
    paths = _read_json("_paths.json")
    lib = paths["library"]
    if paths.get("relative"):
        lib = os.path.normpath(os.path.join(_HERE, lib))
    return lib


def _load():
    path = _library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise LibraryMismatch("focal: cannot load the C library %s (%s); set FOCAL_LIBRARY to libfocal.so"
                              % (path, e)) from None
    try:
        fn = lib.focal_version
    except AttributeError:
        raise LibraryMismatch("focal: %s is not libfocal (no focal_version)" % path) from None
    fn.restype = ctypes.c_char_p
    fn.argtypes = []
    have = fn().decode()
    if have != __version__:
        raise LibraryMismatch(
            "focal: the library %s is version %s, but this Python package was generated from the headers "
            "of version %s; install the package and the library from the same build (or point "
            "FOCAL_LIBRARY at the matching libfocal.so)" % (path, have, __version__))
    return lib, path


lib, library_path = _load()
library_version = __version__

_c = ctypes
_P = _c.c_void_p
_SZ = _c.c_size_t
_I = _c.c_int
_D = _c.c_double
_SIGS = {
    "focal_last_error": (_c.c_char_p, []),
    "focal_status_string": (_c.c_char_p, [_I]),
    "focal_set_threads": (None, [_I]),
    "focal_get_threads": (_I, []),
    "focal_isa": (_c.c_char_p, []),
    "focal_loss_init": (None, [_P, _I]),
    "focal_loss_info": (_P, [_I]),
    "focal_loss_check": (_I, [_P, _SZ]),
    "focal_sigmoid_loss": (_I, [_P, _SZ, _SZ, _P, _P, _P, _P, _P]),
    "focal_sigmoid_loss_f64": (_I, [_P, _SZ, _SZ, _P, _P, _P, _P, _P]),
    "focal_softmax_loss": (_I, [_P, _SZ, _SZ, _P, _P, _P, _P, _P]),
    "focal_softmax_loss_f64": (_I, [_P, _SZ, _SZ, _P, _P, _P, _P, _P]),
    "focal_weights_balanced": (_I, [_P, _P, _SZ]),
    "focal_weights_effective": (_I, [_P, _P, _SZ, _D]),
    "focal_prior_bias": (_I, [_D, _P]),
    "focal_metrics_compute": (_I, [_P, _I, _I, _I, _P, _P, _P, _P]),
    "focal_metrics_release": (None, [_P]),
    "focal_roc_auc": (_I, [_P, _I, _P, _P, _SZ]),
    "focal_average_precision": (_I, [_P, _I, _P, _P, _SZ]),
    "focal_best_f1_threshold": (_I, [_P, _P, _I, _P, _P, _SZ]),
    "focal_image_read": (_I, [_c.c_char_p, _P]),
    "focal_image_release": (None, [_P]),
    "focal_image_resize": (_I, [_P, _P, _I, _I]),
    "focal_image_fundus_box": (_I, [_P, _P, _P, _P, _P]),
    "focal_image_crop": (_I, [_P, _P, _I, _I, _I, _I]),
}
for _name, (_res, _args) in _SIGS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def check(status):
    """Raises FocalError with the library's message for a status other than FOCAL_OK."""
    if status != 0:
        msg = lib.focal_last_error().decode("utf-8", "replace")
        raise FocalError(status, "focal: %s" % (msg or lib.focal_status_string(status).decode()))


def set_threads(n):
    """Threads the library's loops and BLAS use (n >= 1; 0 = one per core)."""
    lib.focal_set_threads(int(n))


def get_threads():
    return lib.focal_get_threads()


def isa():
    """The instruction set the loss kernels run with."""
    return lib.focal_isa().decode()


ENUMS = ABI["enums"]
FLAGS = ABI["flags"]


def enum_value(enum, name):
    """The value of `name` in enum `enum` (names as the library spells them)."""
    names = ENUMS[enum]
    try:
        return names.index(name)
    except ValueError:
        raise ValueError("%r is not a valid %s; expected one of %s"
                         % (name, enum.replace("focal_", "").replace("_", " "), ", ".join(names))) from None


_PACK = {"i32": "i", "u32": "I", "i64": "q", "u64": "Q", "f32": "f", "f64": "d", "ptr": "P"}


class Struct:
    """A C struct as a zeroed buffer laid out as _abi.json says; members are
    read and written by name (pointers as integers)."""

    def __init__(self, name):
        spec = ABI["structs"][name]
        self.name = name
        self._members = {m[0]: (m[1], _PACK[m[3]]) for m in spec["members"]}
        for m in spec["members"]:
            if _struct.calcsize(_PACK[m[3]]) != m[2]:
                raise LibraryMismatch("focal: %s.%s: size %d does not match its type %s" % (name, m[0], m[2], m[3]))
        self.buf = ctypes.create_string_buffer(spec["size"])
        self.ptr = ctypes.addressof(self.buf)

    @classmethod
    def at(cls, name, address):
        """A copy of the struct `name` found at address."""
        s = cls(name)
        ctypes.memmove(s.buf, address, len(s.buf))
        return s

    def __getitem__(self, key):
        off, fmt = self._members[key]
        return _struct.unpack_from(fmt, self.buf, off)[0]

    def __setitem__(self, key, value):
        off, fmt = self._members[key]
        _struct.pack_into(fmt, self.buf, off, 0 if value is None else value)


def cstring(address):
    return None if not address else ctypes.string_at(address).decode("utf-8")
