from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

# `make test` here stays under five minutes on two cores; the heaviest checks, each with a
# lighter sibling that runs everywhere, run in full only in CI (.ci/run sets CI=true). A skip
# says so in the summary.
FULL = os.environ.get("CI") == "true"
full_only = pytest.mark.skipif(not FULL, reason="heavy: runs in CI (.ci/run sets CI=true)")


@pytest.fixture
def basic_project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project with every claim status and a restricted note."""
    target = tmp_path / "basic"
    shutil.copytree(FIXTURES / "basic", target)
    return target


@pytest.fixture(params=["libyaml", "python"])
def yaml_parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each YAML parser briefgen can use: libyaml (the default where PyYAML has
    it) and PyYAML's pure-Python one (the fallback). Both must give the same guarantees."""
    from briefgen import yamlio

    if request.param == "libyaml" and not yamlio.USE_LIBYAML:
        pytest.skip("this PyYAML has no libyaml >= 0.2.6")
    monkeypatch.setattr(yamlio, "USE_LIBYAML", request.param == "libyaml")
    return request.param
