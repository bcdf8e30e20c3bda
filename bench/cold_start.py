"""What a cold start costs: import time of the Lambda entry points, and the package size.

Each import is timed in a fresh interpreter (as Lambda starts one), several times, and reported
as the median next to `import boto3` measured the same way in the same run, so the ratio holds
from one machine to another. The package is built with `chalice package`, as deployment does.

Run: python -m bench.cold_start [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.5
# The stripe SDK is about 2.8 MB of it; boto3 (provided by Lambda) is never bundled.
TARGET_ZIP_BYTES = 8 * 1024 * 1024
# The modules Lambda imports for each function (their handler strings' modules).
ENTRY_POINTS = {"api (app)": "app", "worker": "chalicelib.handlers.worker"}


def import_seconds(module: str, runs: int) -> float:
    """Median seconds to import `module` in a fresh interpreter."""
    probe = (
        "import time; started = time.perf_counter(); "
        f"import {module}; print(time.perf_counter() - started)"
    )
    samples = [
        float(
            subprocess.run(  # noqa: S603 - fixed interpreter and code
                [sys.executable, "-c", probe],
                cwd=PROJECT_DIR,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples)


def package_bytes() -> int:
    """Size of the deployment zip `chalice package` builds for the prod stage."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(  # noqa: S603 - fixed command
            [str(Path(sys.executable).with_name("chalice")), "package", "--stage", "prod", out],
            cwd=PROJECT_DIR,
            env={
                **os.environ,
                "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            },
            capture_output=True,
            check=True,
        )
        return (Path(out) / "deployment.zip").stat().st_size


def main(argv: Sequence[str] | None = None) -> int:
    """Print import times, their ratio to boto3's, and the package size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    baseline = import_seconds("boto3", args.runs)
    print(f"{'import boto3 (baseline)':<26}{baseline * 1000:>8.1f} ms")
    worst = 0.0
    for label, module in ENTRY_POINTS.items():
        seconds = import_seconds(module, args.runs)
        worst = max(worst, seconds / baseline)
        print(f"{'import ' + label:<26}{seconds * 1000:>8.1f} ms   ratio {seconds / baseline:.2f}")
    size = package_bytes()
    print(f"{'chalice package zip':<26}{size / 1024 / 1024:>8.2f} MB")
    met = worst <= TARGET_RATIO and size <= TARGET_ZIP_BYTES
    print(f"targets: ratio <= {TARGET_RATIO}, zip <= 8 MB: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
