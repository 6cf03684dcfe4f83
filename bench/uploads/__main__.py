"""Twenty one-page uploads through the embedded service, upload to summary.

    .venv/bin/python -m bench.uploads [--uploads 20]

Measured in the same run, on the same page files:

- plain: ``tesseract PAGE stdout`` with ``OMP_THREAD_LIMIT=1``, one process
  per core, all pages;
- service: ``tasks-api serve`` (embedded: SQLite, in-process worker, local
  summarizer); every page uploaded at once, the clock stopping when the
  last job has its summary.

Target: the service within 1.2x of plain Tesseract.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from e2e.client import ApiClient
from ocr.documents import draw_page, sentences
from servers import api_server

TARGET = 1.2


def make_pages(folder: Path, count: int) -> list[Path]:
    """One-page scans of running text, as PNG files."""
    paths = []
    for number in range(count):
        page, _ = draw_page(sentences(100 + number, 180))
        path = folder / f"page-{number:02}.png"
        page.save(path)
        paths.append(path)
    return paths


def plain_tesseract(pages: list[Path]) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def read(page: Path) -> None:
        subprocess.run(
            ["tesseract", str(page), "stdout"],
            env=env,
            capture_output=True,
            check=True,
        )

    started = time.perf_counter()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(read, pages))
    return time.perf_counter() - started


def through_the_service(pages: list[Path], data_dir: Path) -> tuple[float, int]:
    with api_server(data_dir, {"MAX_JOBS_IN_FLIGHT": str(len(pages) + 5)}) as server:
        user = ApiClient(server.url).sign_up()
        task_id = user.new_task()

        started = time.perf_counter()
        jobs = [
            user.upload(task_id, page.name, page.read_bytes())["job"]["id"]
            for page in pages
        ]
        pending = set(jobs)
        succeeded = 0
        while pending:
            for job_id in list(pending):
                job = user.job(job_id)
                if job["status"] in {"succeeded", "failed", "cancelled"}:
                    pending.discard(job_id)
                    succeeded += job["status"] == "succeeded" and bool(job["summary"])
            time.sleep(0.05)
        return time.perf_counter() - started, succeeded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        pages = make_pages(Path(folder), args.uploads)
        plain = plain_tesseract(pages)
        service, succeeded = through_the_service(pages, Path(folder) / "data")

    ratio = service / plain
    print(f"{'':24}{'seconds':>9}{'pages/s':>9}")
    print(f"{'plain tesseract':24}{plain:9.2f}{len(pages) / plain:9.2f}")
    print(f"{'service, to summary':24}{service:9.2f}{len(pages) / service:9.2f}")
    print(
        f"service / plain: {ratio:.2f}x (target <= {TARGET}x: "
        f"{'met' if ratio <= TARGET else 'MISSED'}); "
        f"{succeeded}/{len(pages)} jobs succeeded with a summary"
    )


if __name__ == "__main__":
    main()
