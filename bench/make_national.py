#!/usr/bin/env python3
"""Generates an N-county workbook and a matching coefficient set for benchmarks (SYNTHETIC).

    python3 bench/make_national.py N OUT_DIR

Deterministic for a given N. The demo's 117 county rows are replicated under new codes:
40 counties per prefecture (PPQQCC), 60 prefectures per province (PP from 11), so any N up to
100,000 fits in 42 provinces. Every sheet of the demo keeps its header rows; each prefecture
gets a subtotal row (code PPQQ00, the exact sum of its counties, as bureaus write them) before
its counties on the wide sheets, and each province a subtotal row PP0000 before its prefectures. Writes OUT_DIR/national-N.xlsx and OUT_DIR/set-N/ (a copy of
coefficients/shanxi with regions.csv replaced and its SHA-256 in the manifest updated, so the
set loads without a "modified" warning). Needs openpyxl. Nothing here is official statistics.
"""
import csv
import hashlib
import io
import os
import re
import shutil
import sys

import openpyxl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = os.path.join(ROOT, "fixtures", "demo", "shanxi-demo-2021.xlsx")
SET = os.path.join(ROOT, "coefficients", "shanxi")
PER_PREFECTURE, PER_PROVINCE = 40, 60
CODE = re.compile(r"^\d{6}$")


def county_code(i):
    prefecture, county = divmod(i, PER_PREFECTURE)
    province, pref = divmod(prefecture, PER_PROVINCE)
    return f"{11 + province:02d}{pref + 1:02d}{county + 1:02d}"


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    demo = openpyxl.load_workbook(DEMO)
    regions = [r for r in csv.DictReader(
        line for line in open(os.path.join(SET, "regions.csv"), encoding="utf-8")
        if not line.startswith("#"))]
    template = [r["code"] for r in regions]  # demo county i → regions order
    name_of = {r["code"]: r["name"] for r in regions}
    # county index → (new code, demo code, name)
    counties = []
    for i in range(n):
        demo_code = template[i % len(template)]
        code = county_code(i)
        kind = "区" if name_of[demo_code].endswith("区") else "县"
        counties.append((code, demo_code, f"C{code}{kind}"))

    book = openpyxl.Workbook(write_only=True)
    for ws in demo.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        first = next(i for i, r in enumerate(rows) if r and isinstance(r[0], str) and CODE.match(r[0]))
        header = rows[:first]
        by_code = {}
        for r in rows[first:]:
            if r and isinstance(r[0], str) and CODE.match(r[0]) and not r[0].endswith("00"):
                by_code.setdefault(r[0], []).append(r)
        long_form = any(len(v) > 1 for v in by_code.values()) or ws.title == "实物量"
        out_ws = book.create_sheet(ws.title)
        for r in header:
            out_ws.append(r)

        def total(code, label, rows):
            return [code, label] + [
                sum(x[c] for x in rows if isinstance(x[c], (int, float)))
                if any(isinstance(x[c], (int, float)) for x in rows) else None
                for c in range(2, len(rows[0]))
            ]

        # province → prefecture → county rows, in code order
        blocks = {}
        for code, demo_code, name in counties:
            for r in by_code.get(demo_code, []):
                blocks.setdefault(code[:2], {}).setdefault(code[:4], []).append([code, name] + r[2:])
        for province, prefectures in blocks.items():
            if not long_form:
                everything = [x for rows in prefectures.values() for x in rows]
                out_ws.append(total(province + "0000", f"省{province}", everything))
            for prefecture, rows in prefectures.items():
                if not long_form:
                    out_ws.append(total(prefecture + "00", f"P{prefecture}", rows))
                for x in rows:
                    out_ws.append(x)
    path = os.path.join(out, f"national-{n}.xlsx")
    book.save(path)

    target = os.path.join(out, f"set-{n}")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(SET, target)
    with open(os.path.join(target, "regions.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("# SYNTHETIC benchmark regions (bench/make_national.py); not real codes\n")
        w = csv.writer(f)
        w.writerow(["code", "name", "prefecture_code", "prefecture", "kind", "area_km2", "area_source"])
        for code, demo_code, name in counties:
            w.writerow([code, name, code[:4] + "00", f"P{code[:4]}",
                        "市辖区" if name.endswith("区") else "县", "", ""])
    manifest = os.path.join(target, "manifest.toml")
    text = open(manifest, encoding="utf-8").read()
    text = re.sub(r'(?m)^province = .*$', 'province = "全国（合成）"', text, count=1)
    text = re.sub(r'(?m)^province_code = .*$', 'province_code = "000000"', text, count=1)
    names = "".join(f'"{11 + p:02d}0000" = "省{11 + p:02d}"\n'
                    for p in range((len(counties) - 1) // (PER_PREFECTURE * PER_PROVINCE) + 1))
    text = text.replace("[switches]", "[provinces]\n" + names + "\n[switches]", 1)
    digest = hashlib.sha256(open(os.path.join(target, "regions.csv"), "rb").read()).hexdigest()
    text, hashed = re.subn(r'(?m)^"regions.csv" = "[0-9a-f]{64}"$', f'"regions.csv" = "{digest}"', text)
    assert hashed == 1, "manifest.toml lists no hash of regions.csv"
    open(manifest, "w", encoding="utf-8").write(text)
    print(path)
    print(target)


if __name__ == "__main__":
    main()
