"""matplotlib's SVG styles as SVG presentation attributes, so a plot inlined in a page obeys a
Content-Security-Policy without 'unsafe-inline' styles (which blocks both `style="…"` and `<style>`).

matplotlib writes every property it uses (fill, stroke*, font-*, text-anchor…) as a CSS declaration; each of
them is also an SVG presentation attribute with the same name and value, so the drawing is unchanged.
"""

from __future__ import annotations

import html
import re

_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>\s*\*\s*\{([^}]*)\}\s*</style>\s*")
_SVG_OPEN = re.compile(r"<svg\b")


def _attributes(declarations: str) -> str:
    parts = []
    for declaration in html.unescape(declarations).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if re.fullmatch(r"[a-z-]+", name) and value:
            parts.append(f' {name}="{html.escape(value, quote=True)}"')
    return "".join(parts)


def styles_to_attributes(svg: str) -> str:
    """Every `style="…"` becomes attributes; the one `*{…}` rule matplotlib writes goes on the root <svg>,
    from where its values are inherited (an element's own attribute still wins, as its style did)."""
    root_rule = _STYLE_ELEMENT.search(svg)
    if root_rule:
        svg = svg[: root_rule.start()] + svg[root_rule.end() :]
        svg = _SVG_OPEN.sub(lambda m: "<svg" + _attributes(root_rule.group(1)), svg, count=1)
    svg = svg.replace("<defs>\n </defs>", "").replace("<defs>\n  </defs>", "")
    return _STYLE_ATTRIBUTE.sub(lambda m: _attributes(m.group(1)), svg)
