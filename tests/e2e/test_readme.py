"""The README as a user reads it: every command block runs, as written, in a fresh folder.

The `sh` blocks (and the POS vendors' Python example) run in one shell, in the README's order,
in an empty folder that holds only what a user would have there: the project's `.venv` beside
it and, for the MOF block, an E0501 file "downloaded" into `downloads/`. The servers the README
starts with `&` are stopped at the end by their PIDs. `scripts/demo` is run as well; the other of
the README's two commands, `scripts/test`, is the one running this test.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from allocator import TAIPEI, Period
from tests.mof_sync.mof_support import e0501

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block that is meant to run."""
    return [(lang, code) for lang, code in FENCE.findall(markdown) if lang in ("sh", "python")]


def script_of(markdown: str) -> str:
    parts = ["set -euo pipefail"]
    for lang, code in blocks(markdown):
        if lang == "sh":
            parts.append(code)
        else:
            parts.append(f".venv/bin/python - <<'PYTHON'\n{code}PYTHON")
    parts.append("echo README-DONE")
    return "\n".join(parts)


def test_the_readme_runs_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    kinds = [lang for lang, _ in blocks(readme)]
    assert kinds.count("sh") >= 4 and "python" in kinds
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    current = Period.containing(datetime.now(TAIPEI)).to_year_month()
    (downloads / f"E0501_{current}.xml").write_bytes(
        e0501(YearMonth=current, InvoiceTrack="CD", InvoiceBeginNo="00000000",
              InvoiceEndNo="00000999", InvoiceBooklet="20")
    )  # fmt: skip
    runner = tmp_path / "readme.sh"
    runner.write_text(script_of(readme))
    # The wrapper stops what the README started in the background, by PID, whatever happened.
    wrapper = f"trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\nsource {runner}\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EINV_")}
    done = subprocess.run(
        ["bash", "-c", wrapper], cwd=tmp_path, capture_output=True, text=True, timeout=240, env=env
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "README-DONE" in done.stdout, output[-4000:]
    assert re.search(r"AB\d{8}", done.stdout), output[-2000:]  # einv-pos next gave a number
    assert "admin:alice (admin)" in done.stdout  # the audit log names the certificate's user
    assert "reconciliation: OK" in done.stdout
    assert "exit 7: no such branch" in done.stdout  # NOT_FOUND's exit code
    assert "complete -o bashdefault" in (tmp_path / "einv-admin.bash").read_text()
    assert (tmp_path / "store-data" / "tls" / "branch.key").stat().st_mode & 0o077 == 0
    assert list((tmp_path / "turnkey").rglob("*.xml")), "no E0401 handed to Turnkey"
    exported = (tmp_path / "grants.csv").read_text(encoding="utf-8").splitlines()
    assert exported[0].startswith("ban,branch_name,") and "04595257" in exported[1], exported
    assert '"ban": "04595257"' in done.stdout  # the usage export, as JSON


def test_the_demo_command_runs() -> None:
    done = subprocess.run(["scripts/demo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "OK:" in done.stdout and "none twice" in done.stdout
