"""Stand-in for the get-pip script that ansible-test downloads from a host our
machines cannot reach. ansible-test runs it (as get_pip_<version>.py from its cache)
inside each fresh sanity venv with pip's own arguments; this one bootstraps pip from the
interpreter's bundled ensurepip, then lets that pip install what was asked for, from PyPI.
tests/run-all.sh copies it into ~/.ansible/test/cache/ before running ansible-test."""

from __future__ import annotations

import subprocess
import sys

# get-pip options that pip install itself does not know
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}


def main() -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                   check=True, stdout=subprocess.DEVNULL)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    return subprocess.run([sys.executable, "-m", "pip", "install", *args], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
