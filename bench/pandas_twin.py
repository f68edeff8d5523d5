#!/usr/bin/env python3
"""The pandas + openpyxl twin of a gep run, for bench/bench.sh (issue 14).

    python3 bench/pandas_twin.py INPUT.xlsx BOOK.xlsx OUT.xlsx

What a Python tool doing the same job must at least do: read every sheet of the input workbook
with pandas (openpyxl engine), aggregate each sheet's numeric columns by its first column (the
county code) with a group-by, and write a workbook with the same sheets, numbers, strings and
formulas as gep's book (BOOK.xlsx, written by `gep run` from INPUT.xlsx) with openpyxl in
write-only mode. No validation, no valuation, no formats. BOOK.xlsx is read before the clock
starts; prints `pandas_twin: ... total S s` (the timed part) on stderr.
"""
import sys
import time

import openpyxl
import pandas as pd


def book_cells(path):
    """(sheet name, rows) of a book: each row a list of values, formulas as "=…" strings."""
    wb = openpyxl.load_workbook(path, read_only=True)
    sheets = []
    for ws in wb.worksheets:
        sheets.append((ws.title, [list(r) for r in ws.iter_rows(values_only=True)]))
    wb.close()
    return sheets


def main():
    source, book, out = sys.argv[1:4]
    sheets = book_cells(book)

    start = time.perf_counter()
    frames = pd.read_excel(source, sheet_name=None, header=None, engine="openpyxl")
    read = time.perf_counter() - start
    aggregated = 0
    for frame in frames.values():
        if frame.empty:
            continue
        numeric = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
        sums = numeric.groupby(frame.iloc[:, 0].astype(str)).sum(min_count=1)
        aggregated += sums.size
    wb = openpyxl.Workbook(write_only=True)
    cells = 0
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
            cells += sum(v is not None for v in row)
    wb.save(out)
    total = time.perf_counter() - start
    print(
        f"pandas_twin: read {sum(f.size for f in frames.values())} cells in {read:.3f} s, "
        f"aggregated {aggregated}, wrote {cells} cells, total {total:.3f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
