"""The hair-loss scale pickers (web/scales/*.html): one pictured radio per stage code, safe inline SVG."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from dermatox.clinical.observations import observation_types

SVG_RE = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def scale_codes(type_id: str) -> list[str]:
    obs = observation_types()[type_id]
    if obs.value_type == "code":
        return list(obs.codes)
    return [str(n) for n in range(int(obs.min), int(obs.max) + 1)]  # Sinclair: integer grades


class Picker(HTMLParser):
    """Collects the radios, labels and fieldset of one rendered picker."""

    def __init__(self):
        super().__init__()
        self.radios: list[dict] = []
        self.labels = 0
        self.fieldsets: list[dict] = []
        self.legends = 0
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.attrs: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.update(name for name, _ in attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "input" and a.get("type") == "radio":
            self.radios.append(a)
        elif tag == "label":
            self.labels += 1
        elif tag == "fieldset":
            self.fieldsets.append(a)
        elif tag == "legend":
            self.legends += 1


def render(scale: str, **context) -> tuple[str, Picker]:
    html = render_to_string(f"web/scales/{scale}.html", {"name": f"obs_{scale}", **context})
    parser = Picker()
    parser.feed(html)
    parser.close()
    return html, parser


CASES = [("norwood", "III-vertex"), ("ludwig", "II"), ("sinclair", "3")]


@pytest.mark.parametrize(("scale", "value"), CASES)
def test_one_radio_per_code_plus_unknown(scale, value):
    html, p = render(scale, value=value)
    assert [r["value"] for r in p.radios] == [*scale_codes(scale), ""]
    assert {r["name"] for r in p.radios} == {f"obs_{scale}"}
    assert p.labels == len(p.radios)
    assert len(SVG_RE.findall(html)) == len(p.radios)  # every option is pictured


@pytest.mark.parametrize(("scale", "value"), CASES)
def test_fieldset_legend_and_description(scale, value):
    _, p = render(scale, value=value)
    [fieldset] = p.fieldsets
    assert "scale-picker" in fieldset["class"].split()
    assert p.legends == 1
    assert fieldset["aria-describedby"] in p.ids


@pytest.mark.parametrize(("scale", "value"), CASES)
def test_each_svg_is_wellformed_with_a_title(scale, value):
    html, _ = render(scale, value=value)
    for svg in SVG_RE.findall(html):
        root = ET.fromstring(svg)  # noqa: S314 -- our own template output; this checks it is well-formed
        assert root.get("role") == "img"
        assert root.get("viewBox") == "0 0 88 100"
        title = root.find("title")
        assert title is not None
        assert title.text
        assert title.text.strip()


@pytest.mark.parametrize(("scale", "value"), CASES)
def test_the_given_value_is_checked(scale, value):
    _, p = render(scale, value=value)
    assert [r["value"] for r in p.radios if "checked" in r] == [value]


def test_integer_value_is_checked_for_sinclair():
    _, p = render("sinclair", value=4)
    assert [r["value"] for r in p.radios if "checked" in r] == ["4"]


@pytest.mark.parametrize("scale", ["norwood", "ludwig", "sinclair"])
@pytest.mark.parametrize("value", [None, ""])
def test_no_value_checks_the_unknown_option(scale, value):
    _, p = render(scale, value=value)
    assert [r["value"] for r in p.radios if "checked" in r] == [""]


@pytest.mark.parametrize("scale", ["norwood", "ludwig", "sinclair"])
def test_required_only_when_asked(scale):
    _, p = render(scale, value=None, required=True)
    assert all("required" in r for r in p.radios)
    _, p = render(scale, value=None)
    assert not any("required" in r for r in p.radios)


@pytest.mark.parametrize("scale", ["norwood", "ludwig", "sinclair"])
@pytest.mark.parametrize("lang", ["en", "tr"])
def test_no_scripts_or_external_references(scale, lang):
    with translation.override(lang):
        html, p = render(scale, value=None)
    lowered = html.lower()
    assert "script" not in p.tags
    assert not [a for a in p.attrs if a.startswith("on")]  # no event handlers
    for bad in (
        "<script",
        "href",
        "src=",
        "<image",
        "<foreignobject",
        "<use",
        "url(",
        "http:",
        "https:",
        "//",
    ):
        assert bad not in lowered, bad
