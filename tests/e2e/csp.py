"""Content-Security-Policy violations seen by the browser, collected per browser context.

Two sources, so that nothing slips through: Chromium's own console messages ("Refused to execute inline
script …", "Refused to apply inline style …") and the page's `securitypolicyviolation` events, reported by an
init script (Playwright injects init scripts outside the page's policy).
"""

from __future__ import annotations

REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def is_violation(text: str) -> bool:
    return (
        text.startswith("CSP violation:")
        or "Content Security Policy" in text
        or text.startswith("Refused to")
    )


def watch(context, into: list[str] | None = None) -> list[str]:
    """Collect this context's violations (and Permissions-Policy header errors) into `into` (or a new list)."""
    seen: list[str] = [] if into is None else into
    context.add_init_script(REPORTER)

    def on_console(message) -> None:
        text = message.text
        if is_violation(text) or "Permissions-Policy" in text:
            seen.append(f"{message.page.url if message.page else '?'}: {text}")

    context.on("console", on_console)
    return seen
