"""The words of a server's HTML error page (kg.page_text), as Virtuoso writes them."""

from __future__ import annotations

from kg.page_text import page_text

from conftest import virtuoso_error_page

# Virtuoso 7.2's Graph Store refusing an upload it cannot parse (its message in <xmp>, the graph's IRI in <...>)
REJECTED = virtuoso_error_page(
    "22023", "The PUT request for graph <urn:x> is rejected: the submitted resource is of unsupported type text/plain"
)


def test_the_text_is_the_bodys_without_the_status_line_and_keeps_an_iri_in_xmp() -> None:
    assert page_text(REJECTED) == (
        "Error 22023 The PUT request for graph <urn:x> is rejected: the submitted resource is of unsupported type text/plain"
    )


def test_entities_are_decoded_and_whitespace_collapsed() -> None:
    assert page_text("<html><body><p>a &lt;b&gt;\n\n  c&amp;d</p></body></html>") == "a <b> c&d"
