"""The command line: ledger formats, diff, completion, verbosity."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def run(*args: str, cwd: Path = FIXTURE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_version():
    from briefgen import __version__

    assert run("--version").stdout.strip() == f"briefgen {__version__}"


def test_claims_table_lists_every_claim_and_counts():
    out = run("claims").stdout
    assert out.splitlines()[0].split() == ["AREA", "ID", "STATUS", "GRADE", "HANDLING", "TEXT"]
    assert "AL-04    disputed" in out
    assert out.strip().endswith(
        "8 claims: 2 disputed, 1 judgment, 2 sourced, 3 uncorroborated "
        "(as seen by audience study-group, cleared for TLP:CLEAR)")
    everything = run("claims", "--audience", "restricted").stdout
    assert "9 claims" in everything and "TLP:AMBER" in everything


def test_claims_csv_round_trips():
    rows = list(csv.DictReader(io.StringIO(run("claims", "--format", "csv").stdout)))
    assert len(rows) == 8
    assert rows[0]["id"] == "AL-01" and rows[0]["status"] == "sourced"
    assert rows[0]["handling"] == "TLP:CLEAR"
    assert rows[3]["evidence"] == "blog-f (supports, p. 1); law-a (contradicts, art. 1)"


def test_claims_claimreview_json_ld():
    data = json.loads(run("claims", "--format", "claimreview").stdout)
    assert data["@context"] == "https://schema.org"
    reviews = {r["identifier"]: r for r in data["@graph"]}
    assert "AL-07" not in reviews  # a judgment is not a claim of fact
    disputed = reviews["AL-05"]
    assert disputed["@type"] == "ClaimReview"
    assert disputed["claimReviewed"].startswith("DISPUTED-IMPROBABLE-CLAIM")
    assert disputed["reviewRating"]["ratingValue"] == 2
    assert disputed["reviewRating"]["alternateName"] == "Disputed (F5: improbable)"
    assert disputed["itemReviewed"]["appearance"][0]["name"] == "Blog Foxtrot"
    assert disputed["datePublished"] == "2025-03-01"


def test_claims_for_one_area_and_unknown_area():
    rows = json.loads(run("claims", "--format", "json", "--area", "beta").stdout)
    assert [r["id"] for r in rows] == ["BE-01"]
    bad = run("claims", "--area", "gamma")
    assert bad.returncode == 2 and "no area 'gamma'" in bad.stderr


def test_diff_between_editions(tmp_path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    note = old / "sources/alpha/20-doubts.md"
    note.write_text(note.read_text().replace("credibility: 6", "credibility: 5"))
    new = tmp_path / "new"
    shutil.copytree(FIXTURE, new)
    extra = new / "sources/beta/10-only.md"
    extra.write_text(extra.read_text().replace("claims:\n", "claims:\n  - id: BE-02\n"
                                               "    text: new claim\n", 1)
                     .replace("Beta fact.", "Beta fact. [[BE-02]]"))
    proc = run("diff", str(old), str(new))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "1.0 -> 1.0: 4 change(s) (claims a reader cleared for TLP:CLEAR may see)"
    # each re-graded claim with the reason the rule now gives
    assert ("  status changed  alpha/AL-06: disputed -> uncorroborated (no supporting source "
            "graded C or better)") in lines
    assert "  added           beta/BE-02: new, uncorroborated" in lines
    data = json.loads(run("diff", str(old), str(new), "--format", "json").stdout)
    assert {"kind": "status", "area": "alpha", "id": "AL-06", "old": "disputed",
            "new": "uncorroborated", "reason": "no supporting source graded C or better"} in data


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
                    "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_diff_against_a_git_revision(tmp_path):
    """The project lives in a subfolder of a repository: --rev reads that folder at REV."""
    repo = tmp_path / "repo"
    project = repo / "briefing"
    shutil.copytree(FIXTURE, project)
    (repo / "README").write_text("not part of the project\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "edition 1.0")
    _git(repo, "tag", "v1.0")
    note = project / "sources/alpha/20-doubts.md"
    note.write_text(note.read_text().replace("credibility: 6", "credibility: 5"))
    proc = run("diff", "--rev", "v1.0", cwd=project)
    assert proc.returncode == 0, proc.stderr
    # Credibility 6 (cannot be judged) at v1.0, 5 (improbable) now: the claim became disputed.
    assert "  status changed  alpha/AL-06: uncorroborated -> disputed" in proc.stdout
    assert "credibility: 6" not in note.read_text()  # the working tree is untouched
    _git(repo, "commit", "-q", "-am", "regrade")
    assert run("diff", "--rev", "HEAD", cwd=project).stdout.startswith("1.0 -> 1.0: 0 change")
    assert "uncorroborated -> disputed" in run("diff", "--rev", "HEAD~1", cwd=project).stdout


def test_diff_rev_errors_say_what_to_do(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(FIXTURE, project)
    proc = run("diff", "--rev", "HEAD", cwd=project)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "briefgen diff --rev: error: the project is not in a git repository" in proc.stderr
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "one")
    proc = run("diff", "--rev", "no-such-tag", cwd=project)
    assert "git knows no commit 'no-such-tag'" in proc.stderr and "hint:" in proc.stderr
    proc = run("diff", "--rev", "--output=/tmp/x", cwd=project)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    proc = run("diff", cwd=project)
    assert "give the earlier edition as a folder or as --rev REV" in proc.stderr
    proc = run("diff", str(FIXTURE), "--rev", "HEAD", cwd=project)
    assert proc.returncode == 1 and "--rev compares with this project; give no folders" \
        in proc.stderr
    # A broken old edition is named the git way, REV:path:line.
    config = project / "briefgen.yaml"
    good = config.read_text()
    config.write_text(good.replace("as_of: 2025-03-01", "as_of: yesterday"))
    _git(project, "commit", "-q", "-am", "broken")
    config.write_text(good)
    proc = run("diff", "--rev", "HEAD", cwd=project)
    assert proc.returncode == 1
    assert "HEAD:briefgen.yaml:4: error:" in proc.stderr, proc.stderr


def test_completion_script_knows_the_commands():
    script = run("--print-completion", "bash").stdout
    for command in ("build", "check", "claims", "diff", "init"):
        assert command in script


def test_quiet_and_verbose(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    first = run("build", "--audience", "study-group", cwd=root)
    assert "built     study-group/alpha.pdf" in first.stdout
    assert "withheld note sources/alpha/30-restricted.md (TLP:AMBER)" in first.stdout
    quiet = run("build", "-q", cwd=root)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    verbose = run("-v", "build", cwd=root)
    assert "unchanged study-group/alpha.pdf" in verbose.stdout
    assert verbose.stdout.strip().endswith(f"4 unchanged -> {root / 'output'}")


def test_css_warnings_repeat_on_every_build_that_skips_the_pack(tmp_path):
    """WeasyPrint's warnings about a stylesheet (an unknown property) come from rendering;
    a no-op build renders nothing and still reports them, as the README says."""
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    style = root / "styles" / "study-group" / "style.css"
    style.parent.mkdir(parents=True, exist_ok=True)
    style.write_text(".claim-entry { colr: red; }\n")
    warning = "styles/study-group/style.css:1:16: warning: Ignored `colr: red`"
    first = run("build", "--audience", "study-group", cwd=root)
    assert first.returncode == 0 and warning in first.stderr, first.stderr
    again = run("build", "--audience", "study-group", cwd=root)          # nothing changed
    assert "2 unchanged" in again.stdout and again.stderr.count(warning) == 1, again.stderr
    other = root / "styles" / "other"          # the project changed, these packs did not
    other.mkdir()
    (other / "audience.yaml").write_text("extends: analyst\ntitle: Other\n")
    loaded = run("build", "--audience", "study-group", cwd=root)   # loads, renders nothing
    assert "2 unchanged" in loaded.stdout and loaded.stderr.count(warning) == 1, loaded.stderr
    style.write_text(".claim-entry { color: red; }\n")                   # fixed
    fixed = run("build", "--audience", "study-group", cwd=root)
    assert "2 built" in fixed.stdout and "warning" not in fixed.stderr, fixed.stderr
