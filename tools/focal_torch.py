"""The tools' name for focal.nets (python/focal/nets.py), where the
translator from focal's network descriptions to torch now lives, installed
with the Python package. Importing it needs only torch, not libfocal."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python"))
from focal.nets import *  # noqa: E402,F401,F403
from focal.nets import _split_args  # noqa: E402,F401
