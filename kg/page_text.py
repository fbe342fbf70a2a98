"""The words of a server's HTML error page, for an error message: its body's text, whitespace collapsed."""

from __future__ import annotations

from html.parser import HTMLParser

# not the page's words: its head, and the h1 that restates the status line ("HTTP/1.1 500 Request Failed")
_SKIPPED = frozenset({"head", "title", "script", "style", "h1"})


class _PageText(HTMLParser):
    # xmp's content is literal text: Virtuoso writes its message there, IRIs in <...> included
    CDATA_CONTENT_ELEMENTS = (*HTMLParser.CDATA_CONTENT_ELEMENTS, "xmp")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skipping += tag in _SKIPPED

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def page_text(html: str) -> str:
    """The text of `html`'s body outside its h1, whitespace collapsed."""
    parser = _PageText()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())
