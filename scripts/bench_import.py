"""Benchmark the importer: rows per second and peak memory.

    python scripts/bench_import.py                 # generates a 100,000-row XLSX
    python scripts/bench_import.py --rows 10000
    python scripts/bench_import.py --csv-rows 1000000   # also a generated CSV of a million rows
    python scripts/bench_import.py --file some.csv --mapping map.yml

Targets on the 2-core machine (issue 12): 100,000 XLSX rows in 10 s; 1,000,000 CSV
rows in 60 s and 1 GiB (issue 31: 100,000 XLSX rows in 8 s); a 10,000-row re-import with no changes in under 5 s. Each
import runs in a fresh process so that peak memory (ru_maxrss) is its own, printed
with the peak of the process that reads a large file beside it (``importing/reading``)
and their sum; the time is the import's own (from reading the file to the commit),
without starting Python, and its CPU time (both processes: on a shared host it varies less
than the time). A quarter of the generated names repeat, as in real
directories (``synthetic.organisation_name``). Each figure is printed with the host's speed
reference (``hostref``) measured right after it, so that a slow hour is told apart from a
regression.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import hostref  # noqa: E402 # the host's speed, printed beside each figure
import synthetic  # noqa: E402 # names repeat as in real directories

CITIES = [("Lyon", "FR", 45.764, 4.836, "69001"), ("Toulon", "FR", 43.124, 5.928, "83000"),
          ("Marseille", "FR", 43.297, 5.370, "13001"), ("Paris", "FR", 48.857, 2.352, "75011"),
          ("Bruxelles", "BE", 50.850, 4.352, "1000"), ("Gent", "BE", 51.054, 3.717, "9000"),
          ("Milano", "IT", 45.464, 9.190, "20121"), ("Bologna", "IT", 44.495, 11.343, "40121"),
          ("Poznań", "PL", 52.406, 16.925, "61-001"), ("Warszawa", "PL", 52.230, 21.012, "00-001"),
          ("Λευκωσία", "CY", 35.186, 33.382, "1010"), ("Limassol", "CY", 34.685, 33.045, "3010")]
THEMES = ["Education", "Food", "AM50", "Logement", "Agricoltura", "Transport", "Arts, Media, Culture & Leisure"]
HEADER = ["Reference", "Name", "Street", "Postcode", "City", "Country", "Website", "Email",
          "Themes", "Needs", "Latitude", "Longitude"]


def rows(n: int, seed: int = 7):
    rng = random.Random(seed)
    names = random.Random(seed + 1)  # its own: the other columns stay those of earlier runs
    tag = "" if seed == 7 else f"{seed}-"  # another seed, other organisations (not duplicates of the first)
    for i in range(n):
        city, country, lat, lon, postcode = rng.choice(CITIES)
        located = i % 2 == 0
        yield [f"R{tag}{i:07d}", synthetic.organisation_name(f"Cooperative {tag}{i} of {city}", city, names),
               f"{rng.randint(1, 200)} Main Street", postcode,
               city, country, f"coop{tag}{i}.example.org", f"info@coop{tag}{i}.example.org",
               "; ".join(rng.sample(THEMES, 2)), "funding: a loan; volunteers",
               round(lat + rng.uniform(-0.02, 0.02), 5) if located else None,
               round(lon + rng.uniform(-0.02, 0.02), 5) if located else None]


def write_xlsx(path: Path, n: int) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Organisations")
    sheet.append(["Benchmark organisations (generated)"])
    sheet.append(HEADER)
    for row in rows(n):
        sheet.append(row)
    book.save(path)


def write_csv(path: Path, n: int, seed: int = 7) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(n, seed))


APP = """
from mapapp import create_app
folder = Path({db!r}).parent
app = create_app({{"DATABASE": {db!r}, "SECRET_KEY": "bench", "UPLOAD_DIR": str(folder / "uploads"),
                  "CACHE_DIR": str(folder / "cache"), "UPLOAD_MAX_MB": 2000, "GEOCODERS": "provided,cache,gazetteer"}})
"""
# The staff member's side, in a process of its own as a web worker is: sign in, upload through the
# staff area's form, look at the preview (a dry run of the first rows), confirm (the job is queued).
WEB = APP + """
import re
from mapapp import accounts
try:  # the same staff member for every import into this catalogue
    accounts.create_user(db, "bench@example.org", "bench-password-1234", "admin")
except accounts.AccountError:
    pass
client = app.test_client()


def token(page):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


client.post("/login", data={{"email": "bench@example.org", "password": "bench-password-1234",
                            "csrf_token": token(client.get("/login").get_data(as_text=True))}})
with open({file!r}, "rb") as f:
    uploaded = client.post("/admin/imports", content_type="multipart/form-data", data={{
        "csrf_token": token(client.get("/admin/imports").get_data(as_text=True)), "file": (f, {name!r}),
        "status": "published"}})
preview_url = uploaded.headers["Location"]
page = client.get(preview_url).get_data(as_text=True)
confirmed = client.post(preview_url, data={{"csrf_token": token(page), "action": "confirm"}})
print(int(confirmed.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
"""
# The job worker's side, measured: the app as `mapapp worker` makes it, and huey's consumer running
# the queued import (in a thread here: `mapapp worker` forks a process for it).
BROWSER = APP + """
import types
from mapapp.importing import jobs
from mapapp.jobs.worker import Worker
start, cpu = time.perf_counter(), cpu_seconds()
worker = Worker(app.extensions["mapapp.jobs"], workers=1).start()
while (record := jobs.get(db, {import_id}))["state"] not in ("done", "failed"):
    time.sleep(0.05)
if record["state"] == "failed":
    raise SystemExit(record["error"])
report = types.SimpleNamespace(counts={{k: v for k, v in record["counts"].items() if isinstance(v, int)}},
                               spatial_index="")
"""
COMMAND_LINE = """
start, cpu = time.perf_counter(), cpu_seconds()
report = importer.import_file(db, {file!r}, importer.Options(source="bench", mapping={mapping!r}), chain)
"""


def run_import(db: Path, file: Path, mapping: str | None, *, browser: bool = False) -> dict:
    """Import in a child process; return its timing, peak memory and counts. With ``browser``,
    as a staff member does it: a first process (the web's side, not measured) signs in,
    uploads the file through the staff area's form with its CSRF token, opens the preview and
    confirms; the measured process is the job worker (the app, and huey's consumer running the
    queued import in batches committed as it goes, each audited), timed from its start to the
    import's record saying done (the consumer's first poll included).

    Peak memory is the kernel's high-water mark of each process's own memory (VmHWM):
    ru_maxrss is not, as it keeps the parent's size at the moment it forked. The process
    reading a large file beside the import is sampled every 50 ms until it ends."""
    import_id = None
    if browser:
        web = subprocess.run([sys.executable, "-c", f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                              f"from pathlib import Path\nfrom mapapp import catalogue\n"
                              f"db = catalogue.connect({str(db)!r})\n"
                              + WEB.format(db=str(db), file=str(file), name=file.name)],
                             capture_output=True, text=True)
        if web.returncode:
            raise SystemExit(f"the upload of {file.name} failed:\n{web.stderr.strip()[-2000:]}")
        import_id = int(web.stdout.strip().splitlines()[-1])
    code = f"""
import json, resource, subprocess, sys, threading, time
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from mapapp import catalogue
from mapapp.importing import importer


def cpu_seconds(whose=None):
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if whose == "reading":
        return children.ru_utime + children.ru_stime
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def high_water(pid="self"):
    with open(f"/proc/{{pid}}/status") as f:
        return int(f.read().split("VmHWM:")[1].split()[0]) / 1024


readers, started = {{}}, subprocess.Popen


def watched(*args, **kwargs):
    process = started(*args, **kwargs)

    def watch():
        while process.poll() is None:
            try:
                readers[process.pid] = high_water(process.pid)
            except (OSError, IndexError):
                pass
            time.sleep(0.05)
    threading.Thread(target=watch, daemon=True).start()
    return process


subprocess.Popen = watched
from mapapp.mapdata.geocode import Chain
db = catalogue.connect({str(db)!r})
chain = Chain.from_config("provided,cache,gazetteer", db, user_agent="")
{(BROWSER if browser else COMMAND_LINE).format(file=str(file), db=str(db), mapping=mapping, import_id=import_id)}
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "cpu": cpu_seconds() - cpu, "cpu_reading": cpu_seconds("reading"), "peak_mib": high_water(), "reader_mib": max(readers.values(), default=0),
                  "counts": report.counts, "spatial_index": report.spatial_index}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the import of {file.name} failed:\n{out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(result: dict) -> str:
    """Peak memory of the import, and of the process that read the file beside it."""
    if not result["reader_mib"]:
        return f"peak memory {result['peak_mib']:.0f} MiB (read in the same process)"
    return (f"peak memory {result['peak_mib'] + result['reader_mib']:.0f} MiB in all "
            f"(import {result['peak_mib']:.0f} MiB, reading process {result['reader_mib']:.0f} MiB)")


def import_figures(folder: Path, *, xlsx_rows: int, csv_rows: int = 0, reimport_rows: int = 10_000) -> None:
    """Generate an XLSX of ``xlsx_rows`` (and a CSV of ``csv_rows``), import each into a new
    catalogue in ``folder``, then re-import ``reimport_rows`` unchanged rows; print the figures."""
    book = folder / f"bench-{xlsx_rows}.xlsx"
    started = time.perf_counter()
    write_xlsx(book, xlsx_rows)
    # Pure Python: how long it takes says how fast the host is today.
    print(f"generated {book.name} ({book.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s",
          flush=True)
    report_import(run_import(folder / "xlsx.db", book, None), f"{xlsx_rows:,} XLSX rows")
    if csv_rows:
        big = folder / f"bench-{csv_rows}.csv"
        write_csv(big, csv_rows)
        report_import(run_import(folder / "csv.db", big, None),
                      f"{csv_rows:,} CSV rows ({big.stat().st_size / 1e6:.0f} MB)")
    small = folder / f"bench-{reimport_rows}.csv"
    write_csv(small, reimport_rows)
    run_import(folder / "again.db", small, None)
    again = run_import(folder / "again.db", small, None)
    print(f"re-import of {reimport_rows:,} unchanged rows: {again['seconds']:.1f} s, "
          f"peak memory {again['peak_mib']:.0f} MiB; {again['counts']}\n  {hostref.line()}", flush=True)


def total_mib(result: dict) -> float:
    return result["peak_mib"] + result["reader_mib"]


def report_import(result: dict, what: str) -> dict:
    n = sum(result["counts"][k] for k in ("created", "updated", "unchanged", "skipped"))
    print(f"import of {what}: {result['seconds']:.1f} s ({n / result['seconds']:,.0f} rows/s; CPU time "
          f"{result['cpu']:.1f} s: {result['cpu'] - result['cpu_reading']:.1f} s importing, "
          f"{result['cpu_reading']:.1f} s in the process reading the file), "
          f"{memory(result)}; {result['counts']}"
          + (f"; spatial index {result['spatial_index']}" if result["spatial_index"] else "")
          + f"\n  {hostref.line()}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the generated XLSX")
    parser.add_argument("--reimport-rows", type=int, default=10_000, help="rows of the re-import test")
    parser.add_argument("--file", help="import this file instead of generated ones")
    parser.add_argument("--mapping", help="mapping file for --file")
    parser.add_argument("--csv-rows", type=int, default=0, help="also import a generated CSV of this many rows")
    parser.add_argument("--browser", action="store_true",
                        help="with --file or --browser-rows: also import it as the staff area does (the job worker), "
                             "--rounds times each way (command line, browser, browser, command line, …)")
    parser.add_argument("--rounds", type=int, choices=(1, 2, 3), default=3,
                        help="imports each way when comparing with the browser (default 3)")
    parser.add_argument("--browser-rows", type=int, default=0,
                        help="only compare a generated CSV of this many rows imported from the command line and "
                             "from the browser")
    args = parser.parse_args()
    print(hostref.line("host reference at start"), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.browser_rows:
            args.file = Path(tmp) / f"bench-{args.browser_rows}.csv"
            write_csv(args.file, args.browser_rows)
            args.browser = True
        if args.file:
            if not args.browser:
                report_import(run_import(Path(tmp) / "a.db", Path(args.file), args.mapping), f"{args.file} (command line)")
                return
            # Command line, browser, browser, command line, command line, browser: a host that
            # speeds up or slows down during the runs weighs on both sides alike (one pair's ratio
            # moved by 0.3 with it), and the best of each side is what a slow minute cannot add to.
            runs: dict[bool, list[dict]] = {False: [], True: []}
            for n, browser in enumerate((False, True, True, False, False, True)[:2 * args.rounds]):
                how = "from the browser: the job worker" if browser else "command line"
                runs[browser].append(report_import(
                    run_import(Path(tmp) / f"{n}.db", Path(args.file), args.mapping, browser=browser),
                    f"{args.file} ({how})"))
            line, web = ({k: sum(r[k] for r in runs[b]) for k in ("seconds", "cpu")} for b in (False, True))
            best = min(r["seconds"] for r in runs[True]) / min(r["seconds"] for r in runs[False])
            memory = max(map(total_mib, runs[True])) / max(map(total_mib, runs[False]))
            print(f"browser / command line, {args.rounds} of each: time {web['seconds']:.1f} s / {line['seconds']:.1f} s = "
                  f"{web['seconds'] / line['seconds']:.2f}x, the best of each {best:.2f}x (CPU time "
                  f"{web['cpu'] / line['cpu']:.2f}x), peak memory {memory:.2f}x (target: at most 1.3x each)")
            return
        import_figures(Path(tmp), xlsx_rows=args.rows, csv_rows=args.csv_rows, reimport_rows=args.reimport_rows)


if __name__ == "__main__":
    main()
