from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def basic_project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project with every claim status and a restricted note."""
    target = tmp_path / "basic"
    shutil.copytree(FIXTURES / "basic", target)
    return target
