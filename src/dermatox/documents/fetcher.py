"""What a PDF may load while it renders: the app's own static files and `data:` URLs, nothing else.

WeasyPrint's default fetcher opens any URL a document names (http, https, ftp, file): text that reached a
style sheet could make the server call other machines or embed its own files in a PDF (issue 12 §1.2).
Every renderer goes through `render_pdf`, which passes this fetcher; docs/security/pdf.md.
"""

from __future__ import annotations

import logging
import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

# Documents are rendered with this base URL, so `{% static %}` paths ("/static/...") resolve under it.
# It names no real host: the fetcher below answers it from the disk and never opens a connection.
BASE_URL = "https://dermatox-static.invalid/"
_STATIC_ORIGIN = urlsplit(BASE_URL).netloc


class RefusedURL(ValueError):
    """A document named a URL it may not load (WeasyPrint skips the resource and goes on)."""


class StaticOnlyFetcher(URLFetcher):
    def __init__(self):
        # data: only for the parent's opener; everything else is refused before it is reached.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "https" and parts.netloc == _STATIC_ORIGIN:
            path = static_file(unquote(parts.path))
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        # The URL may carry what an attacker typed (or patient data): log its scheme only.
        log.warning("PDF rendering refused to load a %s: URL", scheme or "relative")
        raise RefusedURL("only the app's static files and data: URLs may be loaded")


def static_file(url_path: str) -> Path | None:
    """The file behind a /static/... path: collected files (STATIC_ROOT) first, then the app folders
    (Django's finders). None for anything outside them, including any `..` or absolute-path trick."""
    prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
    if not url_path.startswith(prefix):
        return None
    relative = url_path[len(prefix) :]
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    normal = posixpath.normpath(relative)
    if normal != relative or normal.startswith(("/", "..")):
        return None
    if settings.STATIC_ROOT:
        try:
            collected = Path(safe_join(str(settings.STATIC_ROOT), normal))
        except SuspiciousFileOperation:
            return None
        if collected.is_file():
            return collected
    try:
        found = finders.find(normal)
    except SuspiciousFileOperation:
        return None
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None
