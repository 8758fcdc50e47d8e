"""`briefgen serve`: the live preview (the server itself is `briefgen.serve`)."""

from __future__ import annotations

import argparse
from pathlib import Path

COMMON = ()  # the shared options it offers (commands/__init__.py)

def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser(
        "serve", parents=[common],
        help="live HTML preview in the browser, reloaded as you edit",
        description="Serve an HTML preview of one audience's packs on localhost that reloads "
                    "itself in the browser when sources/, styles/ or briefgen.yaml change.")
    s.add_argument("--port", type=int, default=8000, metavar="N",
                   help="port to listen on (default: 8000; 0 picks a free one)")
    s.add_argument("--host", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    s.add_argument("--audience", default=None, metavar="NAME",
                   help="the audience to preview (and build with --pdf; default: the "
                        "project's default audience)")
    s.add_argument("--pdf", action="store_true",
                   help="also rebuild the PDFs into PROJECT/output after every change")
    s.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen import serve
    from briefgen.paths import find_root

    return serve.run(args, find_root(args.project or Path.cwd()))
