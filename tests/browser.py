"""Open a report in headless Chromium (the system's, driven by Playwright) and say what a person
would see: a full-page screenshot, each chart's drawn area, console errors, network requests
and the fonts Chromium actually used for the Chinese text (DevTools ``CSS.getPlatformFontsForNode``)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from salesops.report.build import chromium, chromium_args

HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Seen:
    screenshot: Path
    problems: list[str] = field(default_factory=list)  # console errors and warnings, page errors
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    charts: dict[str, float] = field(default_factory=dict)  # data-chart -> share of non-white pixels
    chart_sizes: dict[str, tuple[float, float]] = field(default_factory=dict)
    han_fonts: dict[str, dict[str, int]] = field(default_factory=dict)  # selector -> family -> glyphs
    han_chars: dict[str, int] = field(default_factory=dict)  # selector -> Han characters in its text
    sorted_column: list[float] = field(default_factory=list)


def _inked(png: Path) -> float:
    with Image.open(png) as image:
        histogram = image.convert("L").histogram()  # pixels per grey level 0..255
    return sum(histogram[:235]) / max(1, sum(histogram))


def look_at(report: Path, out: Path, han_selectors: tuple[str, ...] = (),
            sort_table: str | None = None) -> Seen:
    from playwright.sync_api import sync_playwright

    seen = Seen(screenshot=out / f"{report.stem}.png")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        args = [a for a in chromium_args(profile) if not a.startswith(("--user-data-dir", "--headless"))]
        browser = p.chromium.launch(executable_path=chromium(), args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: seen.problems.append(f"{m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: seen.problems.append(f"pageerror: {e}"))
        page.on("request", lambda r: seen.requests.append(r.url))
        page.goto(report.resolve().as_uri(), wait_until="load")
        page.screenshot(path=str(seen.screenshot), full_page=True)
        for figure in page.query_selector_all("figure.chart"):
            name = figure.get_attribute("data-chart")
            svg = figure.query_selector("svg")
            box = svg.bounding_box()
            seen.chart_sizes[name] = (box["width"], box["height"])
            shot = out / f"{report.stem}-{name}.png"
            svg.screenshot(path=str(shot))
            seen.charts[name] = _inked(shot)
        if han_selectors:
            cdp = page.context.new_cdp_session(page)
            root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
            cdp.send("CSS.enable")
            for selector in han_selectors:
                node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
                text = page.inner_text(selector) if not selector.endswith("text") else \
                    page.eval_on_selector(selector, "e => e.textContent")
                seen.han_chars[selector] = len(HAN.findall(text))
                fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
                seen.han_fonts[selector] = {f["familyName"]: f["glyphCount"] for f in fonts}
        if sort_table:
            header = page.query_selector(f"#{sort_table} th[data-numeric='1']")
            column = page.eval_on_selector(f"#{sort_table}", "(t, h) => Array.from(t.tHead.rows[0].cells)"
                                           ".indexOf(h)", header)
            header.click()
            values = page.eval_on_selector(
                f"#{sort_table}",
                f"t => Array.from(t.tBodies[0].rows).map(r => r.cells[{column}].dataset.sort)")
            seen.sorted_column = [float(v) for v in values if v not in ("", "None")]
        browser.close()
    return seen
