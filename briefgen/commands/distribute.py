"""`briefgen bundle`, `briefgen verify` and `briefgen clean`: the distribution stage
(briefgen.distribute), after a build."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from briefgen.commands.common import EXIT_OK, EXIT_PROBLEMS


def add(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    b = sub.add_parser(
        "bundle", parents=[common], help="one audience's editions in one zip for recipients",
        description="Write output/bundles/<audience>-<edition>.zip: the audience's built "
                    "files, SHA256SUMS, manifest.json and README.txt; with --recipients, one "
                    "numbered copy per recipient in output/bundles/<audience>-<edition>/ and "
                    "register.csv beside them. Refuses output that does not match the "
                    "sources. Example: briefgen bundle --audience study-group --build "
                    "--recipients group.csv")
    b.add_argument("--audience", required=True, metavar="NAME")
    b.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: PROJECT/output)")
    b.add_argument("--build", action="store_true",
                   help="build the audience's packs first (unchanged ones are skipped)")
    b.add_argument("--recipients", type=Path, default=None, metavar="FILE",
                   help="numbered copies, one zip per recipient, and register.csv beside "
                        "them (a YAML list of names or a CSV with a 'name' column); "
                        "required from TLP:AMBER up")
    b.add_argument("--from", dest="shards", action="append", type=Path, default=None,
                   metavar="DIR", help="take the packs from the output folders of a sharded "
                   "build (briefgen build --shard K/N --out DIR), one --from per shard")
    b.set_defaults(run=run_bundle)
    v = sub.add_parser(
        "verify", parents=[common], help="check files against the hashes they shipped with",
        description="Check a bundle zip, an unpacked bundle, an output folder or one file in "
                    "it: one line per file; exit 1 on any changed, missing or extra file. "
                    "Example: briefgen verify output/bundles/study-group-1.0.zip")
    v.add_argument("path", type=Path, metavar="PATH")
    v.add_argument("--trust", type=Path, default=None, metavar="CERT",
                   help="the certificate (PEM or DER) every signed PDF must be signed with; "
                        "without it, the signer the bundle's manifest records")
    v.set_defaults(run=run_verify)
    c = sub.add_parser(
        "clean", parents=[common], help="remove the output briefgen made, and only that",
        description="Remove every file the manifest says briefgen wrote (with the hash it "
                    "recorded), its bundles, the manifest and the folders left empty; any "
                    "other file stays and is named. Example: briefgen clean")
    c.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="output folder (default: PROJECT/output)")
    c.set_defaults(run=run_clean)


def run_bundle(args: argparse.Namespace) -> int:
    from briefgen.distribute.bundle import bundle
    from briefgen.loading import load_project
    from briefgen.paths import find_root, output_folder
    from briefgen.suggest import did_you_mean

    recipients = None
    if args.recipients is not None:
        from briefgen.distribute.copies import read_recipients

        recipients = read_recipients(args.recipients.absolute(), str(args.recipients))
    project = load_project(find_root(args.project or Path.cwd()))
    if args.audience not in project.audiences:
        from briefgen.errors import error

        raise error("styles/", f"no audience '{args.audience}'",
                    hint=did_you_mean(args.audience, project.audiences,
                                      f"audiences: {', '.join(sorted(project.audiences))}"))
    out = output_folder(project.root, args.out)
    if args.shards and args.build:
        from briefgen.commands.common import usage

        return usage("--build and --from do not go together: build each shard, then bundle "
                     "them with --from")
    if args.build:
        from briefgen.book import BOOK
        from briefgen.build import BuildOptions, build, editions
        from briefgen.build.cache import read_manifest

        # Every edition the audience has (its configured ones and those built before), so
        # that none is left behind out of date; the book too if it was built.
        built = [e for e in read_manifest(out).values() if e.get("audience") == args.audience]
        options = BuildOptions(audiences=[args.audience])
        formats = [*editions(project, project.audiences[args.audience], options),
                   *(e["format"] for e in built if e.get("format") in ("pdf", "html", "epub"))]
        options = BuildOptions(audiences=[args.audience], formats=tuple(dict.fromkeys(formats)),
                               book=any(e.get("area") == BOOK for e in built))
        failed = [r for r in build(project, out, options) if r.status == "failed"]
        if failed:
            for r in failed:
                print(f"  failed: {r.audience}/{r.area}: {r.message}", file=sys.stderr)
            return EXIT_PROBLEMS
    path = bundle(project, out, args.audience, recipients,
                  [s.absolute() for s in args.shards or ()])
    if not args.quiet:
        print(f"{len(recipients)} numbered copies -> {path}/" if recipients
              else f"bundled -> {path}")
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    from briefgen.distribute.verify import verify

    trusted = None
    if args.trust is not None:
        from briefgen.distribute.sign import read_certificate

        trusted = read_certificate(args.trust)
    lines = verify(args.path, trusted)
    for line in lines:
        if not (args.quiet and line.ok):
            detail = f" ({line.detail})" if line.detail else ""
            print(f"{line.status:<8} {line.name}{detail}",
                  file=sys.stdout if line.ok else sys.stderr)
    bad = [line for line in lines if not line.ok]
    print(f"{len(lines) - len(bad)} ok, {len(bad)} failed", file=sys.stderr if bad else sys.stdout)
    return EXIT_PROBLEMS if bad or not lines else EXIT_OK


def run_clean(args: argparse.Namespace) -> int:
    from briefgen.distribute.clean import clean
    from briefgen.paths import find_root, output_folder

    root = find_root(args.project or Path.cwd())
    out = output_folder(root, args.out)
    if not out.is_dir():
        print(f"nothing to clean in {out}")
        return EXIT_OK
    removed, kept = clean(out)
    for name in kept:
        print(f"kept     {name} (briefgen did not write it, or it changed since)",
              file=sys.stderr)
    if not args.quiet:
        print(f"removed {len(removed)} file(s) from {out}"
              + (f"; kept {len(kept)} briefgen cannot account for" if kept else ""))
    return EXIT_OK
