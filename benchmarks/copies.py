"""Numbered copies against rendering: CPU of stamping N copies of one pack's PDF (the copy
line set by WeasyPrint once per copy, placed on every page with pikepdf) against the CPU of
rendering that pack once (in process).

    .venv/bin/python benchmarks/copies.py [--area intelligence] [--audience analyst] [-n 100]

Target (issue #25): 100 copies of one pack cost less CPU than one render of it. Prints the
machine's 1-minute load average: process CPU time is little affected by other processes,
wall time is.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from briefgen.build import BuildOptions, build
from briefgen.distribute.copies import copy_line, stamp_pdf
from briefgen.loading import load_project

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--area", default="intelligence")
    parser.add_argument("--audience", default="analyst")
    parser.add_argument("-n", type=int, default=100)
    args = parser.parse_args()
    project = load_project(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build(project, out, BuildOptions(areas=(args.area,), audiences=(args.audience,),
                                         in_process=True, force=True))  # warm-up
        start = time.process_time()
        build(project, out, BuildOptions(areas=(args.area,), audiences=(args.audience,),
                                         in_process=True, force=True))
        render = time.process_time() - start
        pdf = (out / args.audience / f"{args.area}.pdf").read_bytes()
    import io

    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as opened:
        pages = len(opened.pages)
    start = time.process_time()
    for number in range(1, args.n + 1):
        stamp_pdf(pdf, copy_line(number, args.n, f"Recipient number {number}"))
    copies = time.process_time() - start
    print(f"{args.audience}/{args.area} ({pages} pages): render {render:.2f} s CPU; "
          f"{args.n} copies {copies:.2f} s CPU ({copies / args.n * 1000:.1f} ms each): "
          f"x{copies / render:.2f} of one render; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
