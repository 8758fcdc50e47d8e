"""Where briefgen's own files are, and the one test of whether a path stays inside a folder.

Every module asks here: the package's data folders (templates, fonts, built-in audiences, the
`init` skeleton, the preview's static files), and `inside`, which resolves symlinks and `..`
before it answers, so a link out of the project is outside however it is spelled.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from briefgen.errors import error

CONFIG_FILE = "briefgen.yaml"

PACKAGE_ROOT = Path(__file__).resolve().parent
TEMPLATES = PACKAGE_ROOT / "templates"
FONTS = PACKAGE_ROOT / "fonts"
AUDIENCES = PACKAGE_ROOT / "audiences"
SKELETON = PACKAGE_ROOT / "skeleton"
STATIC = PACKAGE_ROOT / "serve" / "static"
# The audiences that ship with briefgen (folders under AUDIENCES), in the order `init` offers.
BUILTIN_AUDIENCES = ("study-group", "analyst", "large-print", "print-mono")
# What a pack may load from briefgen itself: its data folders, never its Python code.
DATA_FOLDERS = (AUDIENCES, FONTS, TEMPLATES)


def inside(path: Path, folder: Path) -> bool:
    """True if `path`, after resolving symlinks and `..`, is `folder` or below it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        return False


def link_problem(path: Path, root: Path) -> str:
    """Why `path` may not be read or served as a file of the project at `root` ('' if it may).

    A project file is identified by where it really lives: it must be a regular file reached
    from `root` through real folders only. A symbolic link (the file itself or any folder on
    the way) or a hard link (a second name for a file that lives elsewhere, perhaps in a
    restricted area) would give one text two places and so two handlings; both are refused,
    and so are pipes, sockets and devices, wherever a file is read or served.
    """
    root = root.resolve()
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return "is outside the project"
    current = root
    info = None
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = current.lstat()
        except OSError:
            return "does not exist"
        if stat.S_ISLNK(info.st_mode):
            if not inside(current, root):
                return "points outside the project (a symbolic link)"
            return ("is a symbolic link (to elsewhere in the project)"
                    if index == len(parts) - 1
                    else f"is inside a folder that is a symbolic link ({part})")
    if info is None or not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_nlink > 1:
        return "is a hard link (the same file has another name elsewhere)"
    return ""


def shown(path: Path, base: Path) -> str:
    """`path` as messages show it: relative to `base` (POSIX style) if it is below it, else
    the full path. Symlinks are not resolved: this names, it does not contain."""
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return str(path)


def find_root(start: Path) -> Path:
    """The project root: `start` or the nearest parent holding briefgen.yaml."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise error(start, f"no {CONFIG_FILE} here or in any parent folder",
                hint="run inside a briefgen project, pass --project DIR, or create one "
                     "with 'briefgen init DIR'")


def output_folder(project_root: Path, given: Path | None) -> Path:
    """Where a build writes: the folder given on the command line (`--out`), else the
    project's `output/`, which must then really be inside the project. A project that makes
    `output` a link to somewhere else would otherwise have the build write, and delete,
    files wherever it points."""
    if given is not None:
        return given.resolve()
    folder = project_root.resolve() / "output"
    if folder.is_symlink() or (folder.exists() and not inside(folder, project_root)):
        raise error("output", f"output is a link to {os.path.realpath(folder)}; briefgen "
                    "writes only inside the project unless told otherwise",
                    hint="remove the link, or name the folder on the command line: "
                         "briefgen build --out DIR")
    return folder
