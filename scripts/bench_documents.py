#!/usr/bin/env python3
"""Benchmark of the official PDF documents (`make bench`); writes docs/benchmarks.md.

Measured, in one run on a throwaway database (PostgreSQL when DATABASE_URL is set, else a SQLite file)
and a temporary private storage folder:
1. Per document kind, after a warm-up: the HTML→PDF time (median and p95, wall clock and CPU), the PDF
   size and pages; the same form made Latin-only and set in the default font (DejaVu Sans) as the
   baseline, measured interleaved with it, and the ratio; and the whole render_official_document (the
   database queries, the template and the PDF).
2. Worker memory: a fresh process set up as a Celery worker process is (tasks.prepare_renderer) runs
   the document task on 200 fresh documents; its RSS before and after, and its peak.
3. Throughput: two such processes, started together, each run the task on their half of fresh
   documents (database row lock, rendering, storage, SHA-256, database update): forms per second.

The Latin baseline is the same HTML with every non-ASCII character replaced by a Latin letter (and a
word space after every fifth, as in running text), every font family forced to DejaVu Sans, and the
page number in Latin: same layout work, no CJK font.

Usage: .venv/bin/python scripts/bench_documents.py [--output docs/benchmarks.md] [--repeat 30]
"""

import argparse
import datetime
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "transfer_portal.settings")

TARGET_RATIO = 1.5
TARGET_SIZE_KB = 120
TARGET_RSS_MIB = 150
TARGET_FORMS_PER_SECOND = 8.0

LATIN_CSS = """
html, body, * { font-family: "DejaVu Sans" !important; }
@page { @bottom-right {
  content: "Page " counter(page) " of " counter(pages) !important; font-family: "DejaVu Sans" !important;
} }
"""


def setup_django(database_name=None):
    import django
    from django.conf import settings

    if database_name:
        settings.DATABASES["default"]["NAME"] = database_name
    django.setup()


def latin_only(html: str) -> str:
    counter = 0

    def letter(match):
        nonlocal counter
        counter += 1
        return chr(ord("a") + ord(match.group(0)) % 26) + (" " if counter % 5 == 0 else "")

    head, _, body = html.partition("<body")
    return head + "<body" + re.sub(r"[^\x00-\x7f]", letter, body)


def memory_mib():
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _unit = line.split()
                values[key[:-1]] = int(amount) / 1024
    return values["VmRSS"], values["VmHWM"]


def percentile(samples, fraction):
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


# ---------------------------------------------------------------------------------------------------
# Worker processes (started with "spawn": fresh interpreters, like Celery's worker processes).


def worker_prepare(database_name):
    setup_django(database_name)
    from applications.documents.tasks import prepare_renderer

    prepare_renderer()


def memory_worker(database_name, document_ids, warmup_ids, results):
    worker_prepare(database_name)
    from django.db import connection

    from applications.documents.tasks import render_document

    rss_start, _ = memory_mib()
    for pk in warmup_ids:
        render_document.run(pk)
    rss_warm, _ = memory_mib()
    checkpoints = {}
    started = time.perf_counter()
    for count, pk in enumerate(document_ids, 1):
        assert render_document.run(pk) == "ready"
        if count in (50, 100, 150, 200) or count == len(document_ids):
            checkpoints[count] = memory_mib()[0]
    elapsed = time.perf_counter() - started
    rss_end, peak = memory_mib()
    connection.close()
    results.put(
        {
            "rss_start": rss_start,
            "rss_warm": rss_warm,
            "checkpoints": checkpoints,
            "rss_end": rss_end,
            "peak": peak,
            "renders": len(document_ids),
            "elapsed": elapsed,
        }
    )


def throughput_worker(database_name, document_ids, warmup_ids, barrier, results):
    worker_prepare(database_name)
    from django.db import connection

    from applications.documents.tasks import render_document

    for pk in warmup_ids:
        render_document.run(pk)
    barrier.wait(timeout=600)  # both processes start the timed part together
    started = time.time()
    for pk in document_ids:
        assert render_document.run(pk) == "ready"
    finished = time.time()
    connection.close()
    results.put({"started": started, "finished": finished, "count": len(document_ids)})


# ---------------------------------------------------------------------------------------------------


def run_workers(workers, results, limit=1800):
    """Start the processes and collect one result from each; fail (not hang) when one dies."""
    import queue

    for worker in workers:
        worker.start()
    outcomes = []
    deadline = time.monotonic() + limit
    try:
        while len(outcomes) < len(workers):
            try:
                outcomes.append(results.get(timeout=1))
            except queue.Empty:
                dead = [w for w in workers if w.exitcode not in (None, 0)]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"a benchmark worker failed (exit codes {[w.exitcode for w in workers]}); see above"
                    ) from None
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
    return outcomes


def fresh_documents(count, start_seed):
    """`count` new pending documents, every kind in turn (two sample cases per six documents)."""
    from tests.samples import sample_documents

    documents = []
    seed = start_seed
    while len(documents) < count:
        documents.extend(document.pk for document in sample_documents(seed=seed).values())
        seed += 1
    return documents[:count], seed


def per_kind(repeat, warmup):
    from weasyprint import CSS

    from applications.documents import render_official_document, template_for
    from applications.documents.context import document_context
    from applications.documents.renderer import html_to_pdf, render_html
    from applications.models import DocumentKind
    from tests.samples import sample_case, sample_document, sample_documents

    latin_css = [CSS(string=LATIN_CSS)]
    documents = sample_documents(seed=1)
    rare = sample_document(sample_case(name="吴喆", seed=2), DocumentKind.APPLICATION_FORM)
    rows = []
    for label, document in [*documents.items(), ("application_form, name 吴喆 (fallback font)", rare)]:
        html = render_html(template_for(document.kind), document_context(document))
        latin = latin_only(html)
        for _ in range(warmup):
            html_to_pdf(html)
            html_to_pdf(latin, latin_css)
            render_official_document(document)
        cjk_wall, cjk_cpu, latin_wall, latin_cpu, full_wall = [], [], [], [], []
        for _ in range(repeat):
            pdf, wall, cpu = timed(html_to_pdf, html)
            cjk_wall.append(wall)
            cjk_cpu.append(cpu)
            latin_pdf, wall, cpu = timed(html_to_pdf, latin, latin_css)
            latin_wall.append(wall)
            latin_cpu.append(cpu)
            _, wall, _ = timed(render_official_document, document)
            full_wall.append(wall)
        rows.append(
            {
                "kind": label,
                "pages": page_count(pdf),
                "size": len(pdf),
                "latin_size": len(latin_pdf),
                "latin_fonts": font_names(latin_pdf),
                "cjk_median": statistics.median(cjk_wall),
                "cjk_p95": percentile(cjk_wall, 0.95),
                "cjk_cpu": statistics.median(cjk_cpu),
                "latin_median": statistics.median(latin_wall),
                "latin_p95": percentile(latin_wall, 0.95),
                "latin_cpu": statistics.median(latin_cpu),
                "full_median": statistics.median(full_wall),
                "full_p95": percentile(full_wall, 0.95),
            }
        )
        print(
            f"  {label}: {rows[-1]['cjk_median'] * 1000:.0f} ms, latin {rows[-1]['latin_median'] * 1000:.0f} ms"
        )
    return rows


def page_count(pdf):
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def font_names(pdf):
    from io import BytesIO

    from pypdf import PdfReader

    names = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return sorted(names)


def machine():
    from django.db import connection
    from weasyprint import __version__ as weasyprint_version
    from weasyprint.text.ffi import pango

    model = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pango_version = pango.pango_version()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "weasyprint": weasyprint_version,
        "pango": f"{pango_version // 10000}.{pango_version // 100 % 100}.{pango_version % 100}",
        "database": (
            f"SQLite {connection.Database.sqlite_version}"
            if connection.vendor == "sqlite"
            else f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
        ),
        "system": f"{platform.system()} {platform.release()}",
    }


def run(args):
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from applications.documents.renderer import require_harfbuzz_subset

    require_harfbuzz_subset()
    load_before = os.getloadavg()
    started_at = datetime.datetime.now().astimezone()
    database = connection.settings_dict
    database.setdefault("TEST", {})
    if connection.vendor == "sqlite":
        database["TEST"]["NAME"] = str(Path(args.workdir) / "bench.sqlite3")
    else:
        database["TEST"]["NAME"] = f"bench_transfer_portal_{os.getpid()}"
    print("Creating the benchmark database…")
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        database_name = connection.settings_dict["NAME"]
        print(f"1. Per kind ({args.repeat} renders each, after {args.warmup} warm-up renders)")
        kinds = per_kind(args.repeat, args.warmup)

        memory_ids, seed = fresh_documents(args.memory_renders, 100)
        memory_warmup, seed = fresh_documents(6, seed)
        per_process = args.throughput_forms // 2
        throughput_ids, seed = fresh_documents(per_process * 2, seed)
        throughput_warmup, seed = fresh_documents(12, seed)
        connection.close()

        spawn = multiprocessing.get_context("spawn")
        print(f"2. Worker memory ({args.memory_renders} renders in one process)")
        results = spawn.Queue()
        worker = spawn.Process(target=memory_worker, args=(database_name, memory_ids, memory_warmup, results))
        (memory,) = run_workers([worker], results)

        if connection.vendor == "sqlite":
            # SQLite lets one writer at a time: a second worker process fails with "database is locked"
            # (the embedded mode runs tasks in-process for that reason). Production runs PostgreSQL.
            print("3. Throughput: skipped, it needs PostgreSQL (set DATABASE_URL)")
            throughput = None
        else:
            print(f"3. Throughput (two processes, {per_process} forms each)")
            barrier = spawn.Barrier(2)
            results = spawn.Queue()
            workers = [
                spawn.Process(
                    target=throughput_worker,
                    args=(
                        database_name,
                        throughput_ids[index::2],
                        throughput_warmup[index::2],
                        barrier,
                        results,
                    ),
                )
                for index in range(2)
            ]
            outcomes = run_workers(workers, results)
            spread = max(o["finished"] for o in outcomes) - min(o["started"] for o in outcomes)
            throughput = {
                "forms": sum(o["count"] for o in outcomes),
                "seconds": spread,
                "per_second": sum(o["count"] for o in outcomes) / spread,
            }
        facts = machine()
    finally:
        teardown_databases(old_config, verbosity=0)
    load_after = os.getloadavg()
    return {
        "started_at": started_at,
        "load_before": load_before,
        "load_after": load_after,
        "kinds": kinds,
        "memory": memory,
        "throughput": throughput,
        "machine": facts,
        "args": args,
    }


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def report(results, command) -> str:
    kinds, memory, throughput, facts = (
        results["kinds"],
        results["memory"],
        results["throughput"],
        results["machine"],
    )
    args = results["args"]
    ms = 1000
    lines = [
        "# Benchmarks",
        "",
        "## Official PDF documents",
        "",
        f"- Date: {results['started_at']:%Y-%m-%d %H:%M %Z}",
        f"- Command: `{command}` (`make bench`)",
        f"- Machine: {facts['nproc']} CPUs (nproc), {facts['cpu']}; {facts['system']}",
        f"- Python {facts['python']}, WeasyPrint {facts['weasyprint']}, Pango {facts['pango']}, "
        f"HarfBuzz-Subset loaded; database {facts['database']}",
        f"- Load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in results['load_before'])}; "
        f"after: {', '.join(f'{x:.2f}' for x in results['load_after'])}. The machine is shared: a load "
        "above 0 means other processes competed for the two cores, which shows in the wall-clock times "
        "(the CPU times are less affected).",
        "",
        f"### 1. Render time and size per kind ({args.repeat} renders each after {args.warmup} warm-up renders)",
        "",
        "HTML→PDF for the Chinese form (bundled GB2312 subset font, fallback Noto Sans CJK SC) and for its "
        "Latin-only baseline (same HTML, letters instead of Chinese characters, DejaVu Sans), measured "
        "interleaved; *full* is `render_official_document` (database queries, template, PDF).",
        "",
        "| kind | pages | PDF size | median | p95 | CPU median | Latin median | Latin p95 | Latin CPU | "
        "ratio (wall) | ratio (CPU) | Latin size | full median | full p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in kinds:
        lines.append(
            f"| {row['kind']} | {row['pages']} | {row['size'] / 1024:.1f} KB | {row['cjk_median'] * ms:.0f} ms | "
            f"{row['cjk_p95'] * ms:.0f} ms | {row['cjk_cpu'] * ms:.0f} ms | {row['latin_median'] * ms:.0f} ms | "
            f"{row['latin_p95'] * ms:.0f} ms | {row['latin_cpu'] * ms:.0f} ms | "
            f"{row['cjk_median'] / row['latin_median']:.2f}× | {row['cjk_cpu'] / row['latin_cpu']:.2f}× | "
            f"{row['latin_size'] / 1024:.1f} KB | {row['full_median'] * ms:.0f} ms | {row['full_p95'] * ms:.0f} ms |"
        )
    latin_fonts = sorted({name for row in kinds for name in row["latin_fonts"]})
    lines += [
        "",
        f"Fonts in the Latin baselines: {', '.join(latin_fonts)}.",
        "",
        f"### 2. Worker memory ({memory['renders']} renders of the document task in one process)",
        "",
        "| after | RSS |",
        "|---|---|",
        f"| start (Django, prepare_renderer: WeasyPrint imported, FontConfiguration made) | {memory['rss_start']:.0f} MiB |",
        f"| 6 warm-up renders | {memory['rss_warm']:.0f} MiB |",
    ]
    for count, rss in sorted(memory["checkpoints"].items()):
        lines.append(f"| {count} renders | {rss:.0f} MiB |")
    lines += [
        f"| peak (VmHWM) | {memory['peak']:.0f} MiB |",
        "",
        f"One process rendered {memory['renders'] / memory['elapsed']:.1f} forms/s "
        "(each: row lock, render, file saved to private storage, SHA-256, row saved).",
        "",
        "RSS keeps growing slowly after the warm-up (about 1 MiB per 100 renders, in native memory: the "
        "Python heap stays flat under tracemalloc); a worker process is best recycled after some hundreds "
        "of tasks (Celery `worker_max_tasks_per_child`).",
        "",
        "### 3. Throughput with two worker processes",
        "",
        (
            f"{throughput['forms']} fresh documents (the six kinds in turn), split between two processes "
            f"started together after their warm-up: {throughput['seconds']:.1f} s, "
            f"**{throughput['per_second']:.1f} forms/s**."
            if throughput
            else "Not measured: two worker processes need PostgreSQL (run with DATABASE_URL set)."
        ),
        "",
        "### Targets",
        "",
    ]
    one_page = [row for row in kinds if row["pages"] == 1]
    common = [row for row in one_page if "fallback" not in row["kind"]]
    worst_ratio = max(kinds, key=lambda row: row["cjk_median"] / row["latin_median"])
    worst_cpu_ratio = max(kinds, key=lambda row: row["cjk_cpu"] / row["latin_cpu"])
    largest = max(common, key=lambda row: row["size"])
    largest_any = max(one_page, key=lambda row: row["size"])
    ratio = worst_ratio["cjk_median"] / worst_ratio["latin_median"]
    cpu_ratio = worst_cpu_ratio["cjk_cpu"] / worst_cpu_ratio["latin_cpu"]
    lines += [
        "| target | result | |",
        "|---|---|---|",
        f"| Chinese form ≤ {TARGET_RATIO}× its Latin baseline | worst wall-clock ratio {ratio:.2f}× "
        f"({worst_ratio['kind']}); worst CPU ratio {cpu_ratio:.2f}× ({worst_cpu_ratio['kind']}) | "
        f"{verdict(ratio <= TARGET_RATIO)} (wall), {verdict(cpu_ratio <= TARGET_RATIO)} (CPU) |",
        f"| ≤ {TARGET_SIZE_KB} KB for a one-page form | largest {largest['size'] / 1024:.1f} KB "
        f"({largest['kind']}); with a rare name character {largest_any['size'] / 1024:.1f} KB | "
        f"{verdict(largest['size'] <= TARGET_SIZE_KB * 1024)}"
        + (
            ""
            if largest_any["size"] <= TARGET_SIZE_KB * 1024
            else " (not met when the fallback font is embedded)"
        )
        + " |",
        f"| ≤ {TARGET_RSS_MIB} MiB RSS after 200 renders | {memory['rss_end']:.0f} MiB "
        f"(peak {memory['peak']:.0f} MiB) | {verdict(memory['rss_end'] <= TARGET_RSS_MIB)} |",
        (
            f"| ≥ {TARGET_FORMS_PER_SECOND:.0f} forms/s on 2 cores | {throughput['per_second']:.1f} forms/s | "
            f"{verdict(throughput['per_second'] >= TARGET_FORMS_PER_SECOND)} |"
            if throughput
            else f"| ≥ {TARGET_FORMS_PER_SECOND:.0f} forms/s on 2 cores | not measured (SQLite) | — |"
        ),
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str):
    """Replace this benchmark's section of docs/benchmarks.md, keeping any other sections."""
    marker_start = "<!-- documents benchmark: start -->"
    marker_end = "<!-- documents benchmark: end -->"
    body = section.split("\n", 2)[2]  # without the "# Benchmarks" title
    block = f"{marker_start}\n{body.strip()}\n{marker_end}\n"
    if path.exists():
        text = path.read_text()
        if marker_start in text and marker_end in text:
            before, rest = text.split(marker_start, 1)
            _, after = rest.split(marker_end, 1)
            path.write_text(before + block + after.lstrip("\n"))
            return
        path.write_text(text.rstrip("\n") + "\n\n" + block)
        return
    path.write_text(
        "# Benchmarks\n\nFigures measured on this project's machines; each section says how.\n\n" + block
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write the figures into this Markdown file")
    parser.add_argument("--repeat", type=int, default=30, help="timed renders per kind")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up renders per kind")
    parser.add_argument("--memory-renders", type=int, default=200)
    parser.add_argument("--throughput-forms", type=int, default=120)
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="bench-documents-")
    args.workdir = workdir
    # The rendered files go to a throwaway private storage, never the portal's own.
    os.environ["PRIVATE_STORAGE_DIR"] = str(Path(workdir) / "private")
    try:
        setup_django()
        import logging

        logging.getLogger("weasyprint").setLevel(logging.ERROR)
        results = run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    command = ".venv/bin/python scripts/bench_documents.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if os.environ.get("DATABASE_URL"):
        # The password, if any, stays out of the report.
        url = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", os.environ["DATABASE_URL"])
        command = f"DATABASE_URL={url} {command}"
    section = report(results, command.strip())
    print()
    print(section)
    if args.output:
        write_section(args.output, section)
        print(f"\nWritten to {args.output}")


if __name__ == "__main__":
    main()
