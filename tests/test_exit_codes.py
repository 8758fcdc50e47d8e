"""The README's exit-code table is the contract: each row is provoked here on every command
it applies to, through the real command line (in process: `main` is what the console script
runs; `serve` in its own process, because it would serve)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from briefgen.commands import main, parser

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def table() -> dict[int, str]:
    text = (REPO / "README.md").read_text()
    rows = text.split("<!-- exit-codes -->", 1)[1].split("<!-- /exit-codes -->", 1)[0]
    return {int(m[1]): m[2] for m in re.finditer(r"^\| (\d+) \| ([^|]+) \|", rows, re.M)}


def exit_of(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as stop:            # argparse: a wrong command line
        code = int(stop.code or 0)
    return code, capsys.readouterr().err


# Every command and subcommand, with arguments that are right apart from the mistake.
COMMANDS = {
    "build": ["build", "-q", "--area", "alpha", "--audience", "study-group"],
    "check": ["check"],
    "claims": ["claims"],
    "diff": ["diff"],
    "init": ["init", "{tmp}/new-project"],
    "new": ["new", "ref", "another-source"],
    "bundle": ["bundle", "--audience", "study-group"],
    "verify": ["verify", "{tmp}/output"],
    "clean": ["clean"],
    "schema": ["schema", "--out", "{tmp}/schemas"],
    "import-refs": ["import-refs", "{tmp}/refs.bib"],
}
NEEDS_PROJECT = [c for c in COMMANDS if c not in ("init", "schema")]


def args_for(name: str, tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in COMMANDS[name]]


def test_the_table_lists_the_codes_the_code_uses():
    from briefgen.commands import common

    codes = {getattr(common, n) for n in dir(common) if n.startswith("EXIT_")}
    assert set(table()) == codes | {2, 130}   # 2 is argparse's, 130 the shell's for SIGINT


def test_every_command_is_covered():
    sub = next(a for a in parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(sub.choices) == set(COMMANDS) | {"serve"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_2_a_wrong_command_line(name, tmp_path, capsys):
    assert 2 in table()
    code, err = exit_of(capsys, *args_for(name, tmp_path), "--no-such-option")
    assert code == 2, err
    assert "unrecognized arguments: --no-such-option" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["build", "--timeout", "inf"], ["claims", "--format", "pdf"],
                                  ["check", "--clearance", "PURPLE"], ["build", "--shard", "4/3"],
                                  ["new", "area"], ["serve", "--port", "many"]])
def test_2_a_bad_or_missing_value(args, capsys):
    code, err = exit_of(capsys, "-C", str(FIXTURE), *args)
    assert code == 2 and "Traceback" not in err, err


@pytest.mark.parametrize("name", NEEDS_PROJECT)
def test_1_no_project_where_pointed(name, tmp_path, capsys):
    (tmp_path / "refs.bib").write_text("@book{a, title={A}, year={2020}}\n")
    code, err = exit_of(capsys, "-C", str(tmp_path / "nowhere"), *args_for(name, tmp_path))
    assert code == 1, err
    assert ": error: " in err and "Traceback" not in err


# `new` and `import-refs` add to a project without loading all of it (a mistake elsewhere is
# for `check` to report); `verify`, `clean` and `diff` read outputs and history.
@pytest.mark.parametrize("name", [c for c in NEEDS_PROJECT if c not in (
    "verify", "clean", "diff", "new", "import-refs")])
def test_1_a_mistake_in_the_project(name, tmp_path, capsys):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    config = root / "briefgen.yaml"
    config.write_text(config.read_text() + "defualt_audience: study-group\n")
    (tmp_path / "refs.bib").write_text("@book{a, title={A}, year={2020}}\n")
    code, err = exit_of(capsys, "-C", str(root), *args_for(name, tmp_path))
    assert code == 1, err
    assert re.search(r"^briefgen\.yaml:\d+: error: .*defualt_audience", err, re.M), err


@pytest.mark.parametrize("name", ["check", "claims", "init", "new", "schema"])
def test_0_done(name, tmp_path, capsys):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    code, err = exit_of(capsys, "-C", str(root), *args_for(name, tmp_path))
    assert code == 0, err


def test_1_serve_with_no_project(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "briefgen", "-C", str(tmp_path / "nowhere"),
                           "serve", "--port", "0"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1 and ": error: " in proc.stderr, proc.stderr


def test_2_a_clearance_spelt_with_a_letter_that_upper_cases_to_ascii(capsys):
    code, err = exit_of(capsys, "-C", str(FIXTURE), "check", "--clearance", "amber+str\u0131ct")
    assert code == 2 and "not a TLP level" in err
