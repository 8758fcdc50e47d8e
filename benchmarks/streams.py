"""CPU spent making PDF stream bytes (compressing) per pack build, with briefgen's finisher
(`pdf.compress_once`: each stream compressed once) and without it (pydyf compresses every
stream a second time to hash it for /ID), both in one run.

    .venv/bin/python benchmarks/streams.py [--area intelligence] [--audience analyst]

Prints process CPU time of the whole in-process build and of pydyf's `Stream.data`, and
the machine's 1-minute load average.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pydyf

from briefgen import pdf as pdf_module
from briefgen.build import BuildOptions, build
from briefgen.loading import load_project

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--area", default="intelligence")
    parser.add_argument("--audience", default="analyst")
    args = parser.parse_args()
    project = load_project(ROOT)
    spent = [0.0]
    plain = pydyf.Stream.data.fget

    def timed(self: pydyf.Stream) -> bytes:
        start = time.process_time()
        data = plain(self)
        spent[0] += time.process_time() - start
        return data  # type: ignore[no-any-return]

    pydyf.Stream.data = property(timed)  # type: ignore[assignment, method-assign]
    keep = pdf_module.compress_once
    options = BuildOptions(areas=(args.area,), audiences=(args.audience,), in_process=True,
                           force=True)
    with tempfile.TemporaryDirectory() as tmp:
        build(project, Path(tmp), options)  # warm-up
        for label, finisher in (("once (briefgen)", keep),
                                ("twice (pydyf alone)", lambda _d, _p: None)):
            pdf_module.compress_once = finisher  # type: ignore[assignment]
            pdf_module._frozen.cache_clear()
            spent[0] = 0.0
            start = time.process_time()
            build(project, Path(tmp), options)
            total = time.process_time() - start
            print(f"{label:<20} build {total:.2f} s CPU, stream bytes {spent[0]:.3f} s "
                  f"({spent[0] / total:.1%})")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
