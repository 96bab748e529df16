"""Render a template to an A4 PDF in a given language."""

from __future__ import annotations

import logging

from django.template.loader import render_to_string
from django.utils import translation

# WeasyPrint logs every font subset (INFO) and each SVG style property it skips (WARNING): noise in a clinic log.
for _name in ("weasyprint", "fontTools"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def render_pdf(template: str, context: dict, *, language: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which a CLI command does not need

    with translation.override(language):
        html = render_to_string(template, {**context, "language": language})
    return HTML(string=html, base_url=None).write_pdf()
