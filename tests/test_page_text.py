"""The words of a server's HTML error page (kg.page_text), as Virtuoso writes them."""

from __future__ import annotations

from kg.page_text import page_text

# Virtuoso 7.2's Graph Store refusing an upload it cannot parse (its message in <xmp>, the graph's IRI in <...>)
REJECTED = """<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html>
  <head>
    <title>SPARQL Graph Protocol request failed</title>
  </head>
  <body>
    <h1>HTTP/1.1 500 Request Failed</h1>
    <h3>Error 22023</h3>
<xmp>The PUT request for graph <urn:x> is rejected: the submitted resource is of unsupported type text/plain</xmp></body></html>"""


def test_the_text_is_the_bodys_without_the_status_line_and_keeps_an_iri_in_xmp() -> None:
    assert page_text(REJECTED) == (
        "Error 22023 The PUT request for graph <urn:x> is rejected: the submitted resource is of unsupported type text/plain"
    )


def test_entities_are_decoded_and_whitespace_collapsed() -> None:
    assert page_text("<html><body><p>a &lt;b&gt;\n\n  c&amp;d</p></body></html>") == "a <b> c&d"
