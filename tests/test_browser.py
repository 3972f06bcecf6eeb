"""The rendered book in a real browser: Debian's Chromium, driven by Playwright.

The HTML book is served over http on 127.0.0.1 (Sphinx search needs http, not file://)
and every page is opened at a desktop and a phone width. On each page: it loads with its
title and without console errors, every image has loaded, every internal link lands on a
file of the book (and on an existing anchor), and a chapter page has an "Open in Colab"
link to that very notebook on the repository's ``main`` branch and a download button
that offers its ``.ipynb``; search finds every chapter. Full-page screenshots of every
page of the TOC at both widths go to ``<html>/_screenshots/`` of the build under test,
with a copy in ``_build/screenshots/`` of the repository for a person to look at. Tests at
the end break a copy of the build on purpose (a figure, a link, the Colab button, the
download button, the main content) to show that the checks catch each kind of break.

Requests to other hosts (thebe, external links) are aborted, so the test behaves the
same with or without internet; errors caused by them are ignored, errors from the
book's own files are not. MathJax ships with the build (sphinx-mathjax-offline), so
every formula on a page, the sidebar's and the headings' included, must be typeset
with the network blocked. Install the browser with
``scripts/install_browser.sh``.
"""

import functools
import http.server
import json
import re
import shutil
import sys
import threading
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from conftest import toc_files

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers; use /tmp instead
]
COLAB = "https://colab.research.google.com"
BRANCH = "main"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
SCREENSHOTS = "_screenshots"

sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@dataclass(frozen=True)
class Book:
    """A built book being served: its html folder, its http address and what it promises."""

    html: Path  # the built html folder
    base: str  # http://127.0.0.1:PORT/ serving ``html``
    title: str  # _config.yml title
    repository: str  # "org/name" from _config.yml repository.url
    pages: tuple[str, ...]  # the TOC's pages in order, as html paths ("book/intro.html")


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_pages():
    return tuple(f"{name}.html" for name in toc_files())


def _repository():
    url = _config()["repository"]["url"]
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", url)
    assert match, f"_config.yml repository.url is not a GitHub repository: {url}"
    return f"{match[1]}/{match[2]}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A tab closed before its download ended is no error of the book.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def _serve(html):
    """Serve ``html`` on an ephemeral port of 127.0.0.1; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _book(html, base):
    return Book(
        html=Path(html),
        base=base,
        title=_config()["title"],
        repository=_repository(),
        pages=_toc_pages(),
    )


def _is_chapter(path):
    return path.startswith("notebooks/")


def _screenshot_name(path):
    return Path(path).stem  # "book/intro.html" -> "intro"


# --- the page checker -------------------------------------------------------------------------

_IMAGES_JS = """async () => {
  const images = Array.from(document.images);
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done);
    img.addEventListener("error", done);
    setTimeout(done, 10000);
  })));
  const result = images.map((img) => ({
    src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0}));
  const empty = Array.from(document.querySelectorAll("figure"))
    .filter((f) => !f.querySelector("img, svg, object, video, canvas")).length;
  return {images: result, emptyFigures: empty};
}"""

_MAIN_TEXT_JS = """() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  if (!article) return null;
  const h1 = article.querySelectorAll("h1").length;
  const copy = article.cloneNode(true);
  copy.querySelectorAll("h1, .headerlink, script, style").forEach((e) => e.remove());
  return {text: copy.textContent.trim(), media: copy.querySelectorAll("img, svg").length, h1};
}"""


# Desktop width from which nothing in the article may scroll sideways.
DESKTOP_MIN_WIDTH = 1200

_LAYOUT_JS = """(checkScroll) => {
  const article = document.querySelector("article.bd-article");
  if (!article) return {figures: [], scrolling: []};
  const figures = Array.from(article.querySelectorAll("img"))
    .filter((img) => img.complete && img.naturalWidth > 0 && !img.closest(".colab-badge"))
    .map((img) => ({src: img.getAttribute("src"), url: img.currentSrc || img.src,
                    natural: img.naturalWidth, shown: img.getBoundingClientRect().width}));
  const scrolling = !checkScroll ? [] : Array.from(
      article.querySelectorAll("pre, div.cell_output, div.output, table, .table-wrapper"))
    .filter((el) => el.scrollWidth > el.clientWidth + 1)
    .map((el) => {
      const line = (el.innerText || "").split("\\n")
        .reduce((a, b) => (b.length > a.length ? b : a), "");
      const kind = el.className ? "." + el.className.split(" ")[0] : "";
      return {tag: el.tagName.toLowerCase() + kind,
              scroll: el.scrollWidth, client: el.clientWidth, line: line.slice(0, 100)};
    });
  const code = article.querySelector("div.highlight pre, div.cell_output pre");
  const smallPrint = parseFloat(getComputedStyle(code || article).fontSize);
  return {figures, scrolling, smallPrint};
}"""


# Text in a figure must be at least as large as the page's small print: the font size of
# its code and outputs (14 px in this theme), read from the page. The figures' smallest
# text is FIGURE_TEXT_PT points (tests/test_reader.py checks the notebooks set no smaller
# size); its size on the page follows from the PNG's dpi (matplotlib writes it, Pillow
# reads it) and the scale at which the page shows the image.
FIGURE_TEXT_PT = 12
DEFAULT_DPI = 96  # an image that states no dpi: one pixel is one CSS px

def _figure_dpi(book, url):
    from PIL import Image

    target = _local_file(book, url)
    if target is None:
        return DEFAULT_DPI
    with Image.open(target) as image:
        dpi = image.info.get("dpi")
    return float(dpi[0]) if dpi and dpi[0] > 1 else DEFAULT_DPI


def _figure_problems(book, figure, small_print):
    """Upscaled (blurry) or shrunk until its text is smaller than the page's small print."""
    natural, shown = figure["natural"], figure["shown"]
    if natural + 0.5 < shown:
        return [f"figure {figure['src']} is {natural} px wide but shown at {shown:.0f} px "
                "(upscaled, so blurred: raise its dpi or use retina)"]
    dpi = _figure_dpi(book, figure["url"])
    text_px = FIGURE_TEXT_PT / 72 * dpi * shown / natural
    if text_px + 0.05 < small_print:
        return [f"figure {figure['src']} ({natural} px at {dpi:.0f} dpi, shown at {shown:.0f} px): "
                f"its {FIGURE_TEXT_PT}-point text is {text_px:.1f} px tall, smaller than the "
                f"page's {small_print:.0f} px code (make the figure narrower or its text larger)"]
    return []


def _layout_problems(book, page):
    """Figures unreadable as shown; blocks that scroll sideways at desktop width."""
    wide = (page.viewport_size or {}).get("width", 0) >= DESKTOP_MIN_WIDTH
    found = page.evaluate(_LAYOUT_JS, wide)
    problems = []
    for figure in found["figures"] if wide else []:
        problems += _figure_problems(book, figure, found["smallPrint"])
    problems += [
        f"{block['tag']} scrolls sideways ({block['scroll']} px in {block['client']} px): "
        f"{block['line']!r}"
        for block in found["scrolling"]
    ]
    return problems


def _local_file(book, url):
    """The file of the book that a same-origin ``url`` names, or None if it names none."""
    path = unquote(urlsplit(url).path).lstrip("/")
    target = (book.html / path).resolve()
    if not target.is_relative_to(book.html.resolve()) or not target.is_file():
        return None
    return target


@functools.lru_cache(maxsize=256)
def _anchors(path):
    """Every id="..." in the HTML file at ``path``."""
    return frozenset(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))


def _link_problems(book, links):
    problems = []
    for shown, url in links:
        if not url.startswith(("http://", "https://")) or not url.startswith(book.base):
            continue  # another host (not fetched here), mailto:, javascript:
        target = _local_file(book, url)
        if target is None:
            problems.append(f"link {shown!r} -> {url} is not a page of the book")
            continue
        fragment = unquote(urlsplit(url).fragment)
        if fragment and target.suffix == ".html" and fragment not in _anchors(target):
            problems.append(f"link {shown!r} -> {url}: no anchor #{fragment} on that page")
    return problems


def _fetch(url):
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (our own server)
        return response.status, response.read()


def _colab_problems(book, path, page):
    name = Path(path).stem
    expected = f"{COLAB}/github/{book.repository}/blob/{BRANCH}/notebooks/{name}.ipynb"
    hrefs = page.eval_on_selector_all(f'a[href^="{COLAB}"]', "els => els.map((a) => a.href)")
    if not hrefs:
        return [f"no Open in Colab link (expected {expected})"]
    problems = [f"Colab link {href} is not {expected}" for href in hrefs if href != expected]
    if not (ROOT / "notebooks" / f"{name}.ipynb").is_file():
        problems.append(f"Colab link names notebooks/{name}.ipynb, not in the repository")
    return problems


def _badge_problems(book, path, page):
    """A visible "Open in Colab" badge under the chapter's title, to that very notebook."""
    name = Path(path).stem
    expected = f"{COLAB}/github/{book.repository}/blob/{BRANCH}/notebooks/{name}.ipynb"
    badge = page.evaluate("""() => {
      const a = document.querySelector("article.bd-article h1 ~ .colab-badge a");
      if (!a) return null;
      const box = a.getBoundingClientRect();
      const h1 = document.querySelector("article.bd-article h1").getBoundingClientRect();
      return {href: a.href, text: a.innerText.trim(), width: box.width, height: box.height,
              below: box.top - h1.bottom};
    }""")
    if badge is None:
        return ["no Open in Colab badge under the title"]
    problems = []
    if badge["href"] != expected:
        problems.append(f"the Colab badge links {badge['href']}, not {expected}")
    if "Open in Colab" not in badge["text"] or badge["width"] < 40 or badge["height"] < 10:
        problems.append(f"the Colab badge is not visible ({badge})")
    if not 0 <= badge["below"] < 100:
        problems.append(f"the Colab badge is not right under the title ({badge['below']} px)")
    return problems


def _download_problems(book, path, page):
    name = Path(path).stem
    hrefs = page.eval_on_selector_all(
        "a.btn-download-source-button", "els => els.map((a) => a.href)"
    )
    notebooks = [href for href in hrefs if urlsplit(href).path.endswith(f"/{name}.ipynb")]
    if not notebooks:
        return [f"download button does not offer {name}.ipynb (offers {hrefs})"]
    problems = []
    for href in notebooks:
        try:
            _, body = _fetch(href)
            if "cells" not in json.loads(body):
                problems.append(f"download {href} is not a notebook")
        except Exception as error:  # HTTPError, URLError, JSONDecodeError
            problems.append(f"download {href} failed: {error}")
    return problems


_MATH_JS = """async () => {
  const formulas = [...document.querySelectorAll('.math')];
  if (!formulas.length) return {count: 0, raw: []};
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const raw = formulas.filter((el) => !el.querySelector('mjx-container'))
                      .map((el) => el.textContent.trim().slice(0, 40));
  return {count: formulas.length, raw};
}"""


def _math_problems(page):
    """Formulas left as raw TeX: MathJax missing, blocked or failing."""
    found = page.evaluate(_MATH_JS)
    return [f"formula not rendered: {tex!r}" for tex in found["raw"][:5]]


def check_page(context, book, path, screenshot=None):
    """Open ``path`` of ``book`` in a new tab of ``context``; return the problems found.

    ``screenshot``: a file to save a full-page screenshot to after the checks.
    """
    url = book.base + path
    problems, errors = [], []

    def on_console(message):
        origin = (message.location or {}).get("url", "")
        if message.type == "error" and (not origin or origin.startswith(book.base)):
            errors.append(f"console error: {message.text} ({origin})")

    def on_response(response):
        if response.url.startswith(book.base) and response.status >= 400:
            errors.append(f"HTTP {response.status} for {response.url}")

    def on_request_failed(request):
        if request.url.startswith(book.base):
            errors.append(f"request failed: {request.url} ({request.failure})")

    page = context.new_page()
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    try:
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            return [f"{path}: did not load ({response and response.status})"]
        title = page.title()
        if not title.strip() or book.title not in title:
            problems.append(f"title {title!r} does not name the book {book.title!r}")

        found = page.evaluate(_IMAGES_JS)
        problems += [
            f"image did not load: {img['src']}"
            for img in found["images"]
            if not img["ok"] and img["src"].startswith(book.base)
        ]
        if found["emptyFigures"]:
            problems.append(f"{found['emptyFigures']} figure(s) without an image")

        links = page.eval_on_selector_all(
            "a[href]", "els => els.map((a) => [a.getAttribute('href'), a.href])"
        )
        problems += _link_problems(book, links)

        if path in book.pages:
            main = page.evaluate(_MAIN_TEXT_JS)
            if main is None:
                problems.append("no main content element")
            else:
                if not main["text"] and not main["media"]:
                    problems.append("main content is empty")
                if main["h1"] != 1:
                    problems.append(f"{main['h1']} top-level headings, expected 1")
        if path in book.pages:
            problems += _layout_problems(book, page)
            problems += _math_problems(page)
        if path in book.pages and _is_chapter(path):
            problems += _colab_problems(book, path, page)
            problems += _badge_problems(book, path, page)
            problems += _download_problems(book, path, page)

        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True, animations="disabled")
        page.wait_for_timeout(100)  # let late console errors arrive
    finally:
        page.close()
    return [f"{path}: {problem}" for problem in problems + errors]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def book(built_book):
    """The book built by conftest's ``built_book``, served on 127.0.0.1."""
    with _serve(built_book) as base:
        yield _book(built_book, base)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_browser.sh")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def _context(browser, book, viewport="desktop"):
    """A browser tab group at ``viewport`` that may reach ``book`` and nothing else."""
    context = browser.new_context(**VIEWPORTS[viewport])

    def only_the_book(route):
        if route.request.url.startswith(book.base):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_book)
    try:
        yield context
    finally:
        context.close()


def _is_redirect(file):
    """Whether an HTML file only sends the reader on (index.html does, to the root page)."""
    return 'http-equiv="Refresh"' in file.read_text(encoding="utf-8")[:2000]


def _all_pages(book):
    """The TOC's pages first, then every other HTML page in the build but redirects."""
    skip = ("_static", "_sources", "_images", SCREENSHOTS)
    others = sorted(
        p.relative_to(book.html).as_posix()
        for p in book.html.rglob("*.html")
        if p.relative_to(book.html).parts[0] not in skip and not _is_redirect(p)
    )
    return list(book.pages) + [p for p in others if p not in book.pages]


# --- the tests -----------------------------------------------------------------------------


def test_the_build_has_every_page_of_the_toc(book):
    missing = [p for p in book.pages if not (book.html / p).is_file()]
    assert not missing, f"pages of _toc.yml missing from the build: {missing}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_in_the_browser(browser, book, viewport):
    problems = []
    with _context(browser, book, viewport) as context:
        for path in _all_pages(book):
            shot = None
            if path in book.pages:
                shot = book.html / SCREENSHOTS / f"{_screenshot_name(path)}-{viewport}.png"
            problems += check_page(context, book, path, screenshot=shot)
    # The build lives in pytest's temporary folder; keep a copy where a person looks.
    shutil.copytree(book.html / SCREENSHOTS, ROOT / "_build" / "screenshots", dirs_exist_ok=True)
    assert not problems, "\n".join(problems)
    for path in book.pages:
        shot = book.html / SCREENSHOTS / f"{_screenshot_name(path)}-{viewport}.png"
        assert shot.stat().st_size > 1000, f"screenshot {shot} is missing or blank"


def test_index_opens_the_introduction(browser, book):
    with _context(browser, book) as context:
        page = context.new_page()
        page.goto(book.base + "index.html")
        page.wait_for_url(book.base + book.pages[0], timeout=10000)
        assert book.title in page.title()


def _search_word(path):
    """The longest word of a page's title, the one a reader would type into search."""
    html = path.read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", html, re.S)[1].split("&#8212;")[0]
    words = re.findall(r"[A-Za-z]{4,}", title)
    assert words, f"no word to search for in the title {title!r} of {path}"
    return max(words, key=len).lower()


def test_search_finds_every_chapter(browser, book):
    misses = []
    with _context(browser, book) as context:
        page = context.new_page()
        for path in (p for p in book.pages if _is_chapter(p)):
            word = _search_word(book.html / path)
            page.goto(f"{book.base}search.html?q={word}")
            page.locator("#search-results .search-summary").wait_for(timeout=20000)
            hits = page.eval_on_selector_all(
                "#search-results ul.search li a", "els => els.map((a) => a.href)"
            )
            if book.base + path not in hits:
                misses.append(f"searching {word!r} did not find {path} (found {hits})")
    assert not misses, "\n".join(misses)


# --- each kind of break is caught ----------------------------------------------------------


def _article(text):
    """The span of the page's main article in its HTML."""
    start = text.index('<article class="bd-article"')
    return start, text.index("</article>", start)


def _break_figure(text):
    start, end = _article(text)
    match = re.compile(r'<img [^>]*?src="([^"]+)"').search(text, start, end)
    if not match:
        return None
    return text[: match.start(1)] + "../_images/no-such-figure.png" + text[match.end(1) :]


def _break_link(text):
    start, end = _article(text)
    pattern = re.compile(r'<a class="reference internal" href="([^"#]+)')
    match = pattern.search(text, start, end) or pattern.search(text)
    if not match:
        return None
    return text[: match.start(1)] + "no-such-page.html" + text[match.end(1) :]


def _break_colab(text):
    broken = re.sub(r"(colab\.research\.google\.com/github/[^\"]*?/blob/)main/", r"\1master/", text)
    return broken if broken != text else None


def _break_download(text):
    broken = re.sub(r'href="([^"]*_sources/notebooks/[^"]+)\.ipynb"', r'href="\1.py"', text)
    return broken if broken != text else None


def _empty_main(text):
    start, end = _article(text)
    heading = re.search(r"<h1>.*?</h1>", text[start:end], re.S)
    inner = heading[0] if heading else ""
    return text[:start] + f'<article class="bd-article">{inner}' + text[end:]


def _break_wrap(text):
    """Long lines no longer wrap: drop wrap.css and put a long line into a code cell."""
    start, end = _article(text)
    match = re.compile(r'<div class="highlight[^"]*"><pre>').search(text, start, end)
    if match is None or "wrap.css" not in text:
        return None
    text = text[: match.end()] + "x = " + "1 + " * 60 + "1\n" + text[match.end() :]
    return re.sub(r'<link[^>]*wrap\.css[^>]*>', "", text)


def _break_math(text):
    """MathJax no longer ships with the page: its script points at a file that is not there."""
    broken = text.replace("_static/mathjax/tex-chtml.js", "_static/mathjax/missing.js")
    return broken if broken != text and 'class="math' in text else None


def _break_badge(text):
    broken = re.sub(r'<p class="colab-badge">.*?</p>', "", text, count=1, flags=re.S)
    return broken if broken != text else None


def _image_style(style):
    def breaker(text):
        start, end = _article(text)
        match = re.compile(r'<img (?=[^>]*?src="[^"]*_images/)').search(text, start, end)
        if not match:
            return None
        return text[: match.end()] + f'style="{style}" ' + text[match.end() :]

    return breaker


BREAKS = {
    "figure": (_break_figure, "image did not load"),
    "scrolling": (_break_wrap, "scrolls sideways"),
    "badge": (_break_badge, "no Open in Colab badge"),
    "upscaled figure": (_image_style("width: 4000px; max-width: none"), "upscaled"),
    "shrunk figure": (_image_style("width: 150px"), "smaller than the page's"),
    "link": (_break_link, "is not a page of the book"),
    "colab": (_break_colab, "Colab link"),
    "download": (_break_download, "download button does not offer"),
    "empty": (_empty_main, "main content is empty"),
    "math": (_break_math, "formula not rendered"),
}


@pytest.mark.parametrize("kind", list(BREAKS))
def test_a_broken_copy_is_caught(browser, book, tmp_path, kind):
    breaker, expected = BREAKS[kind]
    html = tmp_path / "html"
    shutil.copytree(book.html, html, ignore=shutil.ignore_patterns(SCREENSHOTS))
    for path in (p for p in book.pages if _is_chapter(p)):
        broken = breaker((html / path).read_text(encoding="utf-8"))
        if broken is not None:
            break
    else:
        pytest.fail(f"no chapter page has anything for the {kind!r} break to break")
    with _context(browser, book) as context:
        assert check_page(context, book, path) == [], f"{path} has problems before the break"
    (html / path).write_text(broken, encoding="utf-8")
    with _serve(html) as base:
        copy = _book(html, base)
        with _context(browser, copy) as context:
            problems = check_page(context, copy, path)
    assert any(expected in problem for problem in problems), problems
