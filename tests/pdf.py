"""Read a printed document back as text (poppler's pdftotext; scripts/test.sh and .ci/run install it)."""

import shutil
import subprocess


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF"), content[:40]
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext is missing: apt-get install poppler-utils"
    return subprocess.run([tool, "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
