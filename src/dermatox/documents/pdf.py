"""Render a template to an A4 PDF in a given language. The only place that calls WeasyPrint: every
document loads resources through `fetcher.StaticOnlyFetcher` (a test checks no other module imports it)."""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils import translation

# WeasyPrint logs every font subset (INFO) and each SVG style property it skips (WARNING): noise in a clinic log.
for _name in ("weasyprint", "fontTools"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def preload() -> None:
    """Load WeasyPrint now (the server calls it before forking, so a new worker's first PDF does not)."""
    import weasyprint  # noqa: F401


def render_pdf(template: str, context: dict, *, language: str) -> bytes:
    # Imported late: WeasyPrint loads Pango, which a CLI command does not need.
    from weasyprint import HTML

    from dermatox.documents.fetcher import BASE_URL, StaticOnlyFetcher

    with translation.override(language):
        html = render_to_string(template, {**context, "language": language})
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf()
