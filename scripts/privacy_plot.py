#!/usr/bin/env python3
"""The ε sweep as an SVG plot (written to stdout), from the JSON reports of
`consentrec evaluate --epsilon ...` (one per data set, named by the file's stem).

NDCG@K of the private global emoji model against ε (log scale), with the non-private model,
popularity and random of the same held-out people as dashed lines. Plain SVG, no dependencies.
"""
import json
import math
import os
import sys

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 40, 60
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]


def series(path):
    report = json.load(open(path))
    rec = next(r for r in report["recommenders"] if r["recommender"] == "emoji")
    private, baselines = [], {}
    for row in rec["rows"]:
        name, ndcg = row["name"], row["metrics"]["textbook"]["ndcg"]
        if name.startswith("private ε="):
            private.append((float(name.split("=")[1].split(":")[0]), ndcg))
        elif name.startswith("ALS "):
            baselines["non-private"] = ndcg
        elif name in ("popularity", "random"):
            baselines[name] = ndcg
    people = rec["rows"][0]["metrics"]["users"]
    return os.path.splitext(os.path.basename(path))[0], sorted(private), baselines, people, rec["k"]


def main(paths):
    data = [series(p) for p in paths]
    eps = sorted({e for _, private, _, _, _ in data for e, _ in private})
    k = data[0][4]
    values = [v for _, private, base, _, _ in data for v in [n for _, n in private] + list(base.values())]
    low, high = math.floor(min(values) * 10) / 10, math.ceil(max(values) * 10) / 10
    x0, x1 = math.log2(eps[0]), math.log2(eps[-1])

    def x(e):
        return LEFT + (math.log2(e) - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)

    def y(v):
        return HEIGHT - BOTTOM - (v - low) / (high - low) * (HEIGHT - TOP - BOTTOM)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2 - 60}" y="22" font-size="14">NDCG@{k} of the private global emoji model against ε</text>']
    for i in range(int(round((high - low) * 20)) + 1):
        v = low + i * 0.05
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    for e in eps:
        out.append(f'<text x="{x(e):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{e:g}</text>')
    out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 15}" text-anchor="middle">ε (δ = 1e-7), log scale</text>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="black"/>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" stroke="black"/>')
    legend = TOP + 10
    for n, (name, private, base, people, _) in enumerate(data):
        colour = COLOURS[n % len(COLOURS)]
        points = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in private)
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for e, v in private:
            out.append(f'<circle cx="{x(e):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}"/>')
        for label, dash in (("non-private", "6,3"), ("popularity", "2,3"), ("random", "1,6")):
            if label in base:
                out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(base[label]):.1f}" y2="{y(base[label]):.1f}" '
                           f'stroke="{colour}" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 10}" y="{legend}" fill="{colour}">{name} ({people:,} test people)</text>')
        for label, dash in (("private", ""), ("non-private", "6,3"), ("popularity", "2,3"), ("random", "1,6")):
            legend += 16
            out.append(f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 34}" y1="{legend - 4}" y2="{legend - 4}" stroke="{colour}" '
                       f'stroke-width="{2 if not dash else 1}" stroke-dasharray="{dash}"/>')
            out.append(f'<text x="{WIDTH - RIGHT + 40}" y="{legend}">{label}</text>')
        legend += 24
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: privacy_plot.py REPORT.json ... > plot.svg")
    main(sys.argv[1:])
