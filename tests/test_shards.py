"""Builds beyond one machine (issue #25): `build --shard K/N` builds a deterministic share of
the packs, and `bundle --from` puts the shards back together, refusing a missing or stale one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import FULL
from test_distribute import run

FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.parent != folder}


# Two editions and the books in CI; the PDFs alone here (the shares are tested below).
EXTRA = ("--to", "pdf,html", "--book") if FULL else ()


def test_shards_deal_every_pack_once_in_near_equal_shares():
    from briefgen.build import BuildOptions, shard_of
    from briefgen.loading import load_project

    project = load_project(FIXTURE)
    for book in (False, True):
        every = {(aud, area) for aud in project.audiences
                 for area in [*(a.slug for a in project.areas), *(["book"] if book else [])]}
        shares = [shard_of(project, BuildOptions(shard=(k, 3), book=book)) or set()
                  for k in (1, 2, 3)]
        assert set().union(*shares) == every
        assert sum(len(s) for s in shares) == len(every)          # none in two shards
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
    assert shard_of(project, BuildOptions()) is None


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("shards")
    root = base / "p"
    shutil.copytree(FIXTURE, root)
    for k in (1, 2, 3):
        proc = run(root, "build", "--shard", f"{k}/3", "--out", str(base / f"s{k}"), *EXTRA)
        assert proc.returncode == 0, proc.stderr
    proc = run(root, "build", "--out", str(base / "full"), *EXTRA)
    assert proc.returncode == 0, proc.stderr
    return base


def test_three_shards_together_are_byte_identical_to_one_full_build(shards):
    union: dict[str, bytes] = {}
    for k in (1, 2, 3):
        share = files(shards / f"s{k}")
        assert share, f"shard {k} built nothing"
        assert not set(share) & set(union)                  # each pack in one shard only
        union |= share
        manifest = json.loads((shards / f"s{k}" / "manifest.json").read_text())
        assert manifest["shard"] == f"{k}/3"
    full = {name: data for name, data in files(shards / "full").items()
            if not name.endswith("index.html")}            # the index is the bundle's to make
    assert union == full
    if FULL:
        assert {"study-group/book.pdf", "restricted/book.html"} <= set(union)


def test_bundling_the_shards_gives_the_full_builds_bundle(shards):
    root = shards / "p"
    args = [a for k in (1, 2, 3) for a in ("--from", str(shards / f"s{k}"))]
    proc = run(root, "bundle", "--audience", "study-group", *args)
    assert proc.returncode == 0, proc.stderr
    assert run(root, "bundle", "--audience", "study-group", "--out",
               str(shards / "full")).returncode == 0
    bundle = "bundles/study-group-1.0.zip"
    assert (root / "output" / bundle).read_bytes() == (shards / "full" / bundle).read_bytes()


def test_a_missing_mixed_or_stale_shard_is_refused(shards, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(shards / "p", root)
    shutil.rmtree(root / "output" / "bundles", ignore_errors=True)  # another test's bundle
    two = ["--from", str(shards / "s1"), "--from", str(shards / "s2")]
    missing = run(root, "bundle", "--audience", "study-group", *two)
    assert missing.returncode == 1 and "shard 3/3 is missing" in missing.stderr
    mixed = run(root, "bundle", "--audience", "study-group", *two, "--from",
                str(shards / "full"))
    assert mixed.returncode == 1 and "not the shards of one build" in mixed.stderr
    note = root / "sources" / "alpha" / "10-facts.md"
    note.write_text(note.read_text() + "\nA later sentence.\n")
    stale = run(root, "bundle", "--audience", "study-group", *two, "--from",
                str(shards / "s3"))
    assert stale.returncode == 1 and "built from older sources" in stale.stderr
    assert not (root / "output" / "bundles").exists()
    bad = run(root, "build", "--shard", "4/3")
    assert bad.returncode == 2 and "not a shard" in bad.stderr
