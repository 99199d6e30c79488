"""Every page of the built book in a real browser: headless Chromium from Debian's
packages, driven by Playwright. Skipped where Chromium is not installed; CI installs it.

Every page: one search box, nothing wider than the column at 1280 px, no absolute
path of the build machine, and no request off localhost. Each chapter also: its
title comes first, the maths is typeset, every figure loads, no cell shows an
error, the widgets render, and the Colab link opens the chapter's notebook. A
screenshot of every page goes to _build/screenshots/.
"""

import functools
import http.server
import json
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT, chapters
from seqlm.book import html_dir

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = ["index", "book/setup", "book/notation", "book/results", "book/assignments",
         "book/bibliography"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(built):
    handler = functools.partial(_QuietHandler, directory=str(html_dir(built)))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        profile = tmp_path_factory.mktemp("chromium-profile")
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def visit(browser, url: str):
    """Open a page, refusing (and recording) every request that leaves localhost,
    and recording every local request that fails."""
    page = browser.new_page()
    outside = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.on("response", lambda r: r.status >= 400 and outside.append(f"{r.status} {r.url}"))
    page.goto(url, wait_until="networkidle")
    return page, outside


ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~])/(?:tmp|root|home|work|Users)/")


def check_layout(page) -> None:
    """One visible search box; nothing in the article wider than its box; no absolute path."""
    searches = page.evaluate("""() => [...document.querySelectorAll(
        '.search-button-field, .bd-search, input[type=search]')].filter(e => e.offsetParent !== null
        && e.getBoundingClientRect().width > 0).length""")
    assert searches == 1, f"{searches} search boxes"
    wide = page.evaluate("""() => [...document.querySelectorAll(
        'article pre, article table, article img, article mjx-container[display="true"]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right >
                 document.querySelector('article').getBoundingClientRect().right + 1)
        .map(e => (e.innerText || e.getAttribute('src') || e.tagName).slice(0, 60))""")
    assert wide == [], f"wider than the column at 1280 px: {wide}"
    text = page.locator("article").inner_text()
    assert not ABSOLUTE_PATH.search(text), ABSOLUTE_PATH.search(text).group(0)


def typeset(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")


@pytest.mark.parametrize("name", PAGES)
def test_prose_pages(server, browser, name):
    page, outside = visit(browser, f"{server}/{name}.html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '_')}.png"), full_page=True)
    assert outside == []
    check_layout(page)
    page.close()


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_page(server, browser, built, chapter):
    page, outside = visit(browser, f"{server}/notebooks/{chapter}.html")
    typeset(page)
    article = page.locator("article")
    check_layout(page)

    # the title and what the chapter teaches come first; the setup cells after them
    order = page.evaluate("""() => {
        const nodes = [...document.querySelectorAll('article h1, article div.cell, article ul')];
        return nodes.map(n => n.tagName === 'DIV' ? 'cell' : n.tagName.toLowerCase());
    }""")
    assert order[:2] == ["h1", "ul"], order[:4]
    assert article.locator("h1").first.inner_text().split(".")[0].strip() == str(int(chapter[:2]))

    untypeset = page.evaluate("""() => [...document.querySelectorAll('.math')]
        .filter(m => !m.querySelector('mjx-container')).length""")
    assert page.locator("mjx-container").count() > 0 and untypeset == 0
    text = article.inner_text()
    assert "$$" not in text and "\\\\[" not in text and "\\\\(" not in text

    images = page.evaluate("""() => [...document.querySelectorAll('article img')]
        .map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])""")
    assert images and all(ok for _, ok in images), images

    assert "Traceback (most recent call last)" not in text
    assert page.locator("article .output.error, article .output.traceback").count() == 0

    executed = json.loads((built / "executed" / f"{chapter}.ipynb").read_text())
    if executed["metadata"].get("widgets"):
        page.wait_for_selector("article .jupyter-widgets", timeout=10_000)
        assert page.locator("article .widget-slider, article .widget-hprogress").count() > 0

    colab = page.evaluate("""() => [...document.querySelectorAll('a')].map(a => a.href)
        .filter(h => h.includes('colab.research.google.com'))""")
    assert colab and all(h.endswith(f"/notebooks/{chapter}.ipynb") for h in colab), colab

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{chapter}.png"), full_page=True)
    assert outside == [], outside
    page.close()
