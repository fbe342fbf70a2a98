"""End to end in a real headless Chromium (Debian's `chromium`, driven by Playwright) against `kg serve`.

A reader's path: an entity's IRI, its page, a quote followed to the document view, then a catalogue question
run from the query page. Skipped only when /usr/bin/chromium is missing and KG_REQUIRE_BROWSER is not set
(CI sets it, so there a missing browser fails). With KG_SCREENSHOT=PATH the entity page is also saved as a
PNG there (how docs/entity-page.png is made).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# no sandbox (CI runs as root), and nothing that reaches the network on its own
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("KG_REQUIRE_BROWSER"),
    reason="/usr/bin/chromium is not installed (apt-get install chromium; KG_REQUIRE_BROWSER=1 makes this a failure)",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    """A page of a fresh Chromium profile (Playwright never downloads a browser here: the system one is used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_entity_quote_document_and_query(kg_server, browser) -> None:
    from playwright.sync_api import expect

    page = browser
    # the IRI dereferences (303) to the entity page in a browser
    page.goto(f"{kg_server.url}/id/NORAD")
    assert page.url == f"{kg_server.url}/page/NORAD"
    expect(page.locator("h1")).to_have_text("North American Aerospace Defense Command")
    expect(page.locator('dd[lang="fr"]')).to_have_text("Commandement de la défense aérospatiale de l'Amérique du Nord")
    quote = page.locator("figure.quote").filter(has=page.locator("a.claim-link", has_text="C07"))
    expect(quote.locator("mark")).to_have_text("we work together in NORAD")
    expect(quote.locator("blockquote")).to_contain_text("At home, we work together in NORAD – the North American")
    if os.environ.get("KG_SCREENSHOT"):
        page.screenshot(path=os.environ["KG_SCREENSHOT"])

    # the quote's link leads to its span in the document, highlighted as the target
    quote.locator("a.claim-link").click()
    page.wait_for_url(f"{kg_server.url}/document?source=id%3Afactsheet#C07")
    targeted = page.locator("mark.targeted")
    # C08 ("NORAD – the North American Aerospace Defense Command") overlaps C07 on "NORAD": two pieces
    expect(targeted).to_have_count(2)
    assert "".join(targeted.all_text_contents()) == "we work together in NORAD"
    expect(targeted.first).to_be_in_viewport()

    # a catalogue question, one click into the editor, run against /sparql, rows linked to their pages
    page.locator("header.site nav").get_by_role("link", name="Query").click()
    page.wait_for_url(f"{kg_server.url}/query")
    page.get_by_role("button", name="Operations and activities with a partner").click()
    expect(page.locator("#sparql")).to_have_value(re.compile(r"VALUES \(\?partner \?document\)"))
    page.get_by_role("button", name="Run").click()
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(3)
    # by hand (C07, C20–C21, C38), in the query's order of English labels
    assert rows.locator("td:first-child a").all_text_contents() == [
        "NORADCooperation",
        "NorthKoreaSanctionsEnforcement",
        "CaribbeanDrugInterdiction",
    ]
    rows.first.locator("td:first-child a").click()
    page.wait_for_url(f"{kg_server.url}/page/NORADCooperation")

    # the ontology documentation, from every page's header
    page.locator("header.site nav").get_by_role("link", name="Ontology").click()
    page.wait_for_url(f"{kg_server.url}/docs/ontology/")
    expect(page.locator("h1")).to_contain_text("Defence cooperation knowledge graph ontology")

    # a bad query shows the server's message instead of a table
    page.goto(f"{kg_server.url}/query")
    page.locator("#sparql").fill("SELECT ?x WHERE { ?x a }")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("Error 400")
    expect(page.locator("table.results")).to_have_count(0)
