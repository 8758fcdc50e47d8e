"""The QR code on the cover (issue #25): an audience's `online_url` becomes, on each pack's
cover, a QR code that a phone reads back as that pack's address; read here from the printed
page with zxing-cpp, as a phone would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import full_only
from test_distribute import run

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
URL = "https://briefings.example.org/mps/study-group/{area}.html"


def codes_on_first_page(pdf: Path) -> list[str]:
    import pypdfium2
    import zxingcpp

    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=200 / 72).to_pil()
    return [c.text for c in zxingcpp.read_barcodes(image)]


@pytest.fixture(scope="module")
def with_url(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("qr") / "p"
    shutil.copytree(FIXTURE, root)
    audience = root / "styles" / "study-group" / "audience.yaml"
    audience.write_text(audience.read_text() + f'online_url: "{URL}"\n')
    proc = run(root, "build", "--to", "pdf,html,epub")
    assert proc.returncode == 0, proc.stderr
    return root


def test_the_cover_qr_code_reads_back_as_the_packs_address(with_url):
    out = with_url / "output"
    for area in ("alpha", "beta"):
        address = URL.format(area=area)
        assert codes_on_first_page(out / "study-group" / f"{area}.pdf") == [address]
        html = (out / "study-group" / f"{area}.html").read_text()
        assert f'role="img" aria-label="QR code: {address}"' in html
        assert f'<a href="{address}">{address}</a>' in html
    assert codes_on_first_page(out / "restricted" / "alpha.pdf") == []   # no online_url


@pytest.mark.parametrize(("value", "message"), [
    ('"https://example.org/{audience}/{area}.pdf"', "the only placeholder"),
    ('"ftp://example.org/{area}.pdf"', "online_url"),
])
def test_a_bad_online_url_is_a_located_error(tmp_path, value, message):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    audience = root / "styles" / "study-group" / "audience.yaml"
    lines = len(audience.read_text().splitlines())
    audience.write_text(audience.read_text() + f"online_url: {value}\n")
    proc = run(root, "check")
    assert proc.returncode == 1
    assert f"styles/study-group/audience.yaml:{lines + 1}:" in proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


@full_only  # the code is read back from the rendered page by the test above, here too
def test_a_cover_with_a_qr_code_passes_axe_and_epubcheck(with_url):
    from test_formats import AXE, CHROMIUM, CHROMIUM_FLAGS, EPUBCHECK, epubcheck, need

    need(EPUBCHECK, "EPUBCheck")
    report = epubcheck(with_url / "output" / "study-group" / "alpha.epub")
    assert "No errors or warnings detected" in report, report
    need(CHROMIUM, "Chromium")
    need(AXE, "axe-core")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 900})
            page.goto((with_url / "output" / "study-group" / "alpha.html").as_uri())
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            assert [v["id"] for v in result["violations"]] == []
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        finally:
            browser.close()
