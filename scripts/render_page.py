#!/usr/bin/env python3
"""Opens a ConsentRec report page in headless Chromium and says what the browser drew.

    render_page.py PAGE.html [--png OUT.png] [--width 1100] [--height 4000]

Prints one JSON object:
  console  the browser's console messages while loading the page (errors, blocked loads)
  charts   the data-chart names of the <svg> charts in the DOM Chromium built
  tones    per chart, how many pixels of each chart colour it drew: every chart is rendered
           again on its own, in a cell of a contact sheet with the page's own styles, and its
           cell of the screenshot is counted
  page     pixels of each colour in the screenshot of the whole page (--png keeps it)

Needs Debian's `chromium` and Pillow (`make test` installs both). Used by the browser test
(Tests/ConsentRecCLITests/ReportPageTests.swift) and for the screenshots in docs/.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

# The colours of Chart.stylesheet (Sources/HTMLReport/Chart.swift), by tone.
TONES = {
    "primary": (0x1F, 0x6F, 0xB4),
    "baseline": (0xEF, 0x8A, 0x17),
    "history": (0x8A, 0x55, 0xC7),
    "good": (0x2F, 0x9E, 0x44),
    "bad": (0xD6, 0x33, 0x6C),
    "neutral": (0x86, 0x8E, 0x96),
}
CELL_HEIGHT = 420


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium: apt-get install -y chromium (make test installs it)")


def browse(url, extra, profile):
    """Runs headless Chromium once; returns (stdout, console lines)."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0"] + extra + [url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


class Charts(html.parser.HTMLParser):
    """The data-chart names of the <svg> elements in a DOM."""

    def __init__(self):
        super().__init__()
        self.names = []

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.names.append(dict(attrs).get("data-chart", ""))


def count_tones(image, box=None):
    region = image.crop(box) if box else image
    counts = dict.fromkeys(TONES, 0)
    by_colour = {rgb: name for name, rgb in TONES.items()}
    for count, rgb in region.getcolors(maxcolors=1 << 24):
        name = by_colour.get(rgb[:3])
        if name:
            counts[name] += count
    return counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("--png")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=4000)
    args = parser.parse_args()
    page = os.path.abspath(args.page)
    source = open(page, encoding="utf-8").read()
    with tempfile.TemporaryDirectory() as work:
        dom, console = browse("file://" + page, ["--dump-dom"], work + "/profile")
        charts = Charts()
        charts.feed(dom)
        screenshot = args.png or work + "/page.png"
        _, more = browse("file://" + page, [f"--window-size={args.width},{args.height}", f"--screenshot={screenshot}"], work + "/profile")
        console += [line for line in more if line not in console]
        whole = count_tones(Image.open(screenshot).convert("RGB"))

        # The contact sheet: each chart of the page alone in a cell of known place and size.
        style = "\n".join(re.findall(r"<style>(.*?)</style>", source, re.S))
        svgs = re.findall(r"<svg\b.*?</svg>", source, re.S)
        cells = "".join(f'<div style="height:{CELL_HEIGHT}px;overflow:hidden">{svg}</div>' for svg in svgs)
        sheet = work + "/sheet.html"
        with open(sheet, "w", encoding="utf-8") as out:
            out.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{{margin:0}}\n{style}</style></head><body>{cells}</body></html>")
        sheet_png = work + "/sheet.png"
        browse("file://" + sheet, [f"--window-size={args.width},{CELL_HEIGHT * max(len(svgs), 1)}", f"--screenshot={sheet_png}"], work + "/profile")
        image = Image.open(sheet_png).convert("RGB")
        names = [re.search(r'data-chart="([^"]*)"', svg).group(1) for svg in svgs]
        tones = {name: count_tones(image, (0, i * CELL_HEIGHT, args.width, (i + 1) * CELL_HEIGHT)) for i, name in enumerate(names)}
    json.dump({"console": console, "charts": charts.names, "tones": tones, "page": whole}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
