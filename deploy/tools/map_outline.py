"""One-off: build the wall map's province outline from GSHHG coastlines (Debian ``gmt`` + ``gmt-gshhg-high``).

    apt-get install gmt gmt-gshhg-high
    python deploy/tools/map_outline.py > simulators/data/an_giang_outline.geojson
    python deploy/tools/map_outline.py --before-2025 > simulators/data/kien_giang_outline.geojson

Only the small GeoJSON it writes is committed; the wall needs neither GMT nor the internet.
The coast, the islands and the land border with Cambodia are GSHHG's (high resolution,
simplified to about 300 m); the inland boundary is not in GSHHG and is hand-digitised below,
coarsely (a few kilometres).  The merged An Giang (since 2025-07-01): the coast from Hà Tiên to
Cà Mau, the boundary with Cà Mau, Cần Thơ and Đồng Tháp up the Tiền river to the border at
Vĩnh Xương (Tân Châu), and the border with Cambodia back along the former An Giang to Hà Tiên.
Kiên Giang before 2025-07-01 (``--before-2025``): the same coast, the boundary with Cà Mau,
Bạc Liêu, Hậu Giang, Cần Thơ and An Giang to the tripoint near Giang Thành, the border to Hà Tiên.

Features (``properties.kind``): ``land`` (the region around the province, neighbours included),
``province`` (mainland part and islands) and ``border`` (the national land border).
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile

BOX = (103.3, 105.9, 9.0, 11.1)  # west, east, south, north
TOLERANCE = 0.003  # degrees (~330 m): Douglas-Peucker simplification
MIN_RING_POINTS = 4

#: where the land border meets the sea at Hà Tiên; the tripoint of Kiên Giang, the former An Giang and
#: Cambodia; where the border crosses the Tiền river at Vĩnh Xương (the merged province's, with Đồng Tháp)
HATIEN_BORDER = (104.4467, 10.4222)
TRIPOINT = (104.8839, 10.5344)
TIEN_BORDER = (105.234, 10.890)
#: the coast point where Kiên Giang (An Minh) meets Cà Mau (U Minh)
CAMAU_COAST = (104.842, 9.555)
#: hand-digitised inland boundary, from the Cà Mau coast point to the tripoint (approximate)
INLAND = [
    (104.95, 9.56), (105.05, 9.52), (105.12, 9.46), (105.20, 9.42), (105.30, 9.43), (105.36, 9.52),
    (105.38, 9.62), (105.40, 9.70), (105.42, 9.80), (105.45, 9.92), (105.46, 10.00), (105.38, 10.06),
    (105.35, 10.15), (105.30, 10.22), (105.18, 10.27), (105.08, 10.33), (105.00, 10.38), (104.97, 10.42),
    (104.93, 10.46),
]
#: the merged province's inland boundary, from the Cà Mau coast point to the Tiền river at the border:
#: Kiên Giang's with Cà Mau and Cần Thơ, then the former An Giang's with Cần Thơ (across the Hậu river
#: below Long Xuyên) and Đồng Tháp (around Chợ Mới, up the Tiền river past Tân Châu); approximate
INLAND_MERGED = [
    *INLAND[:14], (105.38, 10.25), (105.45, 10.29), (105.50, 10.32), (105.53, 10.38), (105.60, 10.43),
    (105.64, 10.48), (105.60, 10.55), (105.52, 10.62), (105.42, 10.68), (105.33, 10.74), (105.275, 10.80),
    (105.255, 10.855),
]

Point = tuple[float, float]


def gmt_segments(option: str) -> list[list[Point]]:
    west, east, south, north = BOX
    with tempfile.TemporaryDirectory() as tmp:  # GMT leaves gmt.history in its working directory
        out = subprocess.run(["gmt", "coast", f"-R{west}/{east}/{south}/{north}", "-Dh", "-M", "-A0.5", option],
                             capture_output=True, text=True, check=True, cwd=tmp).stdout
    segs: list[list[Point]] = []
    for line in out.splitlines():
        if line.startswith(">"):
            segs.append([])
        elif line.strip():
            x, y = map(float, line.split()[:2])
            segs[-1].append((x, y))
    return [s for s in segs if len(s) > 1]


def _key(p: Point) -> tuple[float, float]:
    return round(p[0], 4), round(p[1], 4)


def chain(segs: list[list[Point]]) -> list[list[Point]]:
    """Join segments that share end points (GSHHG cuts lines at its bins)."""
    pieces = [list(s) for s in segs]
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(pieces):
            for j, b in enumerate(pieces):
                if i == j or not a or not b:
                    continue
                if _key(a[-1]) == _key(b[0]):
                    a.extend(b[1:])
                elif _key(a[-1]) == _key(b[-1]):
                    a.extend(reversed(b[:-1]))
                else:
                    continue
                pieces[j] = []
                joined = True
        pieces = [p for p in pieces if p]
    return pieces


def simplify(points: list[Point], tol: float = TOLERANCE) -> list[Point]:
    """Douglas-Peucker."""
    if len(points) < 3:
        return points
    (x0, y0), (x1, y1) = points[0], points[-1]
    dx, dy = x1 - x0, y1 - y0
    norm = math.hypot(dx, dy) or 1e-12
    far, at = -1.0, 0
    for i, (x, y) in enumerate(points[1:-1], 1):
        d = abs(dy * (x - x0) - dx * (y - y0)) / norm if (dx or dy) else math.hypot(x - x0, y - y0)
        if d > far:
            far, at = d, i
    if far <= tol:
        return [points[0], points[-1]]
    return simplify(points[: at + 1], tol)[:-1] + simplify(points[at:], tol)


def nearest(points: list[Point], p: Point) -> int:
    return min(range(len(points)), key=lambda i: math.hypot(points[i][0] - p[0], points[i][1] - p[1]))


def centroid(ring: list[Point]) -> Point:
    return sum(x for x, _ in ring) / len(ring), sum(y for _, y in ring) / len(ring)


def in_province_waters(ring: list[Point]) -> bool:
    """Vietnamese islands of the province: south of the maritime line north of Phú Quốc."""
    x, y = centroid(ring)
    return 103.4 <= x <= 105.0 and 9.1 <= y <= 10.5 and (y < 10.44 or x > 104.2)


def closed(ring: list[Point]) -> list[list[float]]:
    ring = [(round(x, 4), round(y, 4)) for x, y in ring]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return [list(p) for p in ring]


def main() -> None:
    merged = "--before-2025" not in sys.argv[1:]
    coast = chain(gmt_segments("-W"))
    rings = [s for s in coast if _key(s[0]) == _key(s[-1])]
    mainland = max((s for s in coast if _key(s[0]) != _key(s[-1])), key=len)  # Cambodia → Cà Mau
    west, east, south, north = BOX
    region = simplify(mainland) + [(east, north), (mainland[0][0], north)]
    islands = [simplify(r) for r in rings if len(r) >= MIN_RING_POINTS and centroid(r)[0] < 105.0]
    islands = [r for r in islands if len(r) >= MIN_RING_POINTS]

    border_raw = max(chain(gmt_segments("-N1")), key=lambda s: sum(1 for x, y in s if 104.4 < x < 105.0 and y < 10.7))
    if border_raw[0][0] > border_raw[-1][0]:
        border_raw = border_raw[::-1]  # west to east
    end = TIEN_BORDER if merged else TRIPOINT
    border = border_raw[nearest(border_raw, HATIEN_BORDER): nearest(border_raw, end) + 1]

    a, b = nearest(mainland, HATIEN_BORDER), nearest(mainland, CAMAU_COAST)
    coast_kg = simplify(mainland[a: b + 1])
    province_main = coast_kg + [CAMAU_COAST, *(INLAND_MERGED if merged else INLAND)] + simplify(border)[::-1]

    features = [
        {"type": "Feature", "properties": {"kind": "land", "source": "GSHHG 2.3.7 high, simplified"},
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [[closed(region)]] + [[closed(r)] for r in islands]}},
        {"type": "Feature",
         "properties": {"kind": "province", "name": "An Giang" if merged else "Kiên Giang",
                        "source": "coast and islands GSHHG 2.3.7 high; inland boundary hand-digitised (±3 km)"},
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [[closed(province_main)]]
                      + [[closed(r)] for r in islands if in_province_waters(r)]}},
        {"type": "Feature", "properties": {"kind": "border", "name": "Việt Nam – Campuchia", "source": "GSHHG 2.3.7"},
         "geometry": {"type": "LineString", "coordinates": [[round(x, 4), round(y, 4)] for x, y in simplify(border)]}},
    ]
    json.dump({"type": "FeatureCollection", "features": features}, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
