"""Write data/examples/fund-holdings.xlsx, the example fund holdings export.

EXAMPLE DATA: a made-up fund ("Example Emerging Markets Equity Fund") holding real
listed companies with made-up weights and values; not a factual claim. The layout is
that of a provider's export: two title lines and a blank line above the header (so the
mapping says `header_row: 4`), weights in percent, an Excel date for the report date,
and a cash line that the mapping filters out.

    .venv/bin/python data/examples/make_xlsx.py        # rewrites the .xlsx next to this file

The output is deterministic (fixed workbook properties), so re-running it gives the
same table.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

OUT = Path(__file__).with_name("fund-holdings.xlsx")
AS_OF = dt.datetime(2025, 9, 30)

HEADER = ["Ticker", "Name", "ISIN", "Sector", "Market", "Weight (%)", "Market value (USD)", "Shares", "As of"]
ROWS = [
    ["700", "Tencent Holdings Ltd", "KYG875721634", "Communication", "China", 4.12, 41_200_000, 612_000],
    ["9988", "Alibaba Group Holding Ltd", "KYG017191142", "Consumer Discretionary", "China", 2.99, 29_900_000,
     2_150_000],
    ["2330", "Taiwan Semiconductor Manufacturing Co Ltd", "TW0002330008", "Information Technology", "Taiwan", 9.87,
     98_700_000, 2_640_000],
    ["005930", "Samsung Electronics Co Ltd", "KR7005930003", "Information Technology", "South Korea", 3.05,
     30_500_000, 520_000],
    ["002415", "Hangzhou Hikvision Digital Technology Co Ltd", "CNE100000PM8", "Information Technology", "China",
     0.21, 2_100_000, 480_000],
    ["941", "China Mobile Ltd", "HK0941009539", "Communication", "Hong Kong", 1.02, 10_200_000, 1_010_000],
    ["9618", "JD.com Inc", "KYG8208B1014", "Consumer Discretionary", "China", 0.74, 7_400_000, 420_000],
    ["USD", "USD Cash", None, "Cash and/or Derivatives", "United States", 0.35, 3_500_000, None],
]


def build(path: Path = OUT) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Holdings"
    ws["A1"] = "Example Emerging Markets Equity Fund - holdings (EXAMPLE DATA, not a factual claim)"
    ws["A1"].font = Font(bold=True)
    ws["A2"] = "As of 30/09/2025"
    # row 3 stays blank; the header is row 4
    ws.append([])
    ws.append(HEADER)
    for c in ws[4]:
        c.font = Font(bold=True)
    for r in ROWS:
        ws.append([*r, AS_OF])
        ws.cell(row=ws.max_row, column=9).number_format = "dd/mm/yyyy"
    for col, width in zip("ABCDEFGHI", (8, 44, 15, 24, 14, 11, 19, 12, 12)):
        ws.column_dimensions[col].width = width
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Example data for techgiants' mapping examples (data/examples/fund-holdings.mapping.yaml)."
    fixed = dt.datetime(2025, 10, 1)
    wb.properties.creator = "techgiants examples"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    _normalise(buf.getvalue(), path, fixed)
    return path


def _normalise(data: bytes, path: Path, when: dt.datetime) -> None:
    """Rewrite the zip with fixed entry times and document dates, so the file is reproducible."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp.encode() + rb"\2",
                              body)
            zi = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, body)


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
