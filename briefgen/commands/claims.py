"""`briefgen claims`: every claim with its computed status, as one audience may see it."""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
from pathlib import Path

from briefgen.commands.common import EXIT_OK, clearance_options, usage

COMMON = ()  # the shared options it offers (commands/__init__.py)

def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    cl = sub.add_parser("claims", help="list every claim with its computed status",
                        parents=[common])
    cl.add_argument("--format", choices=("table", "json", "csv", "claimreview"),
                    default="table", help="claimreview: schema.org ClaimReview JSON-LD")
    cl.add_argument("--area", action="append", metavar="AREA", help="only this area")
    clearance_options(cl)
    cl.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from briefgen.loading import load_project
    from briefgen.paths import find_root
    from briefgen.suggest import did_you_mean

    project = load_project(find_root(args.project or Path.cwd()))
    if args.area:
        known = {a.slug for a in project.areas}
        for slug in args.area:
            if slug not in known:
                suggestion = did_you_mean(slug, known)
                return usage(f"no area '{slug}' (areas: {', '.join(sorted(known))})"
                             + (f"; {suggestion}" if suggestion else ""))
    from briefgen.ledger import PUBLIC, claim_review, export, export_audience

    audience = export_audience(project, args.audience, args.clearance)
    if args.format == "claimreview":
        if audience.config.clearance != PUBLIC and (args.audience or args.clearance):
            print(f"briefgen: note: ClaimReview is a publishing format: it lists only "
                  f"TLP:CLEAR claims, graded from TLP:CLEAR sources (not "
                  f"TLP:{audience.config.clearance})", file=sys.stderr)
        public = export_audience(project, audience.name, PUBLIC)
        print(json.dumps(claim_review(project, export(project, public, args.area)), indent=2,
                         ensure_ascii=False))
        return EXIT_OK
    rows = export(project, audience, args.area).records
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["area", "id", "status", "grade", "kind", "handling", "text",
                         "evidence", "source", "quote"])
        for r in rows:
            writer.writerow([r["area"], r["id"], r["status"], r["grade"], r["kind"],
                             r["handling"], r["text"],
                             "; ".join(f"{e['ref']} ({e['stance']}, {e['locator']})"
                                       if e["locator"] else f"{e['ref']} ({e['stance']})"
                                       for e in r["evidence"]),
                             r["source"], r["origin_quote"]])
        sys.stdout.write(buffer.getvalue())
    else:
        width = shutil.get_terminal_size((120, 20)).columns
        text_width = max(20, width - 58)
        print(f"{'AREA':<13} {'ID':<8} {'STATUS':<15} {'GRADE':<5} {'HANDLING':<9} TEXT")
        for r in rows:
            text = r["text"] if len(r["text"]) <= text_width else r["text"][: text_width - 1] + "…"
            print(f"{r['area']:<13} {r['id']:<8} {r['status']:<15} {r['grade']:<5} "
                  f"{r['handling']:<9} {text}")
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        print(f"{len(rows)} claims: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
              + f" (as seen by audience {audience.name}, cleared for "
                f"TLP:{audience.config.clearance})")
    return EXIT_OK
