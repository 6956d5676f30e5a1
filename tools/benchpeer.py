"""benchpeer.py — setup shared by the PyTorch peers of the benchmark programs
(tools/bench_*_torch.py).

The peers import it from their own directory. It imports nothing heavy itself,
so a peer can still report a missing torch in the form its C program parses:
    info torch=<version> torchvision=<version> threads=<N>
    unavailable=<reason>; install: apt-get install python3-torch python3-torchvision
"""
import argparse

INSTALL = "apt-get install python3-torch python3-torchvision"
EXIT_UNAVAILABLE = 3    # the exit status of a peer that printed unavailable=


def int_at_least(lo):
    """argparse type: an integer >= lo; anything else is an argparse error
    naming lo and the text given."""
    def parse(s):
        try:
            v = int(s)
        except ValueError:
            v = None
        if v is None or v < lo:
            raise argparse.ArgumentTypeError(f"expected an integer >= {lo}, got '{s}'")
        return v
    return parse


def report_unavailable(error):
    """Prints the unavailable= line for an ImportError (or any exception) and
    returns EXIT_UNAVAILABLE, the status the peer should exit with."""
    print(f"unavailable={error}; install: {INSTALL}", flush=True)
    return EXIT_UNAVAILABLE


def report_info(torch, torchvision):
    """Prints the info line: the versions of the imported torch and torchvision
    modules and torch's thread count (set it first)."""
    print(f"info torch={torch.__version__} torchvision={torchvision.__version__} "
          f"threads={torch.get_num_threads()}", flush=True)
