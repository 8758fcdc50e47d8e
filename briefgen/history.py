"""Earlier editions of a project, read from its git history.

`briefgen diff --rev REV` compares the project as committed at REV with the working tree.
The old edition is extracted with `git archive` into a temporary folder (tar members are
filtered: no absolute paths, no links out of the folder), so only the repository is read
and nothing in the working tree changes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from briefgen.errors import error

WHERE = "briefgen diff --rev"  # what errors name: the problem is in the command


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    git = shutil.which("git")
    if git is None:
        raise error(WHERE, "git is not installed", hint="install git, or pass the earlier "
                    "edition as a folder: briefgen diff OLD_FOLDER")
    return subprocess.run([git, "-C", str(root), *args], capture_output=True, check=False,
                          timeout=120)


def project_at_revision(root: Path, revision: str, workdir: Path) -> Path:
    """Extract the project at `root` as committed at `revision` into `workdir`; return the
    project's folder there."""
    if revision.startswith("-"):
        raise error(WHERE, f"'{revision}' is not a revision", hint="name a commit, tag or "
                    "branch, such as HEAD~1 or v1.0")
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise error(WHERE, "the project is not in a git repository",
                    hint="pass the earlier edition as a folder: briefgen diff OLD_FOLDER")
    repo = Path(top.stdout.decode().strip()).resolve()
    prefix = root.resolve().relative_to(repo).as_posix()
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if commit.returncode != 0:
        raise error(WHERE, f"git knows no commit '{revision}'",
                    hint="see `git log --oneline` for revisions; tags and branches work too")
    sha = commit.stdout.decode().strip()
    args = ["archive", "--format=tar", sha]
    if prefix != ".":
        args += ["--", prefix]
    archive = _git(repo, *args)
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip().splitlines()
        raise error(WHERE, f"the project folder did not exist at {revision}",
                    hint=message[-1] if message else "check the revision")
    if not hasattr(tarfile, "data_filter"):  # pragma: no cover - Python 3.11.0 to 3.11.3
        raise error(WHERE, "this Python cannot extract archives safely",
                    hint="use Python 3.11.4 or later, or pass the earlier edition as a folder")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(workdir, filter="data")
    return workdir if prefix == "." else workdir / prefix
