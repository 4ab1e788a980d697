"""`python -m bench.markdown [bench/results/latest.json]`: a run's figures as a Markdown table,
the one in bench/README.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.figures import number_text

DEFAULT = Path(__file__).resolve().parent / "results" / "latest.json"


def markdown(report: dict) -> str:
    lines = ["| figure | value | floor | ratio | goal |", "| --- | --- | --- | --- | --- |"]
    for figure in report["figures"]:
        unit = figure["unit"]
        for index, (name, floor) in enumerate(figure["floors"].items()):
            first = index == 0
            goal = figure["goal"] if first else None
            cells = (
                figure["label"] if first else "",
                f"{number_text(figure['value'])} {unit}" if first else "",
                f"{name}: {number_text(floor['value'])} {unit}",
                f"{floor['ratio']:.2f}x",
                f"**{'met' if goal['met'] else 'missed'}**: {goal['text']}" if goal else "",
            )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    report = json.loads(path.read_text())
    machine = report["machine"]
    print(f"{report['date']}, {machine['nproc']} x {machine['cpu']}, code {machine['code']}\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
