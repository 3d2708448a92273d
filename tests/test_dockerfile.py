"""The Dockerfile's structure (no Docker engine needed): base image, pinned requirements, sample
prepared at build time, non-root user, port, health check and entry point."""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def parse(text: str) -> list[tuple[str, str]]:
    """Dockerfile text -> [(INSTRUCTION, arguments)], continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def command_words(args: str) -> list[str]:
    """CMD/ENTRYPOINT arguments in exec form (JSON) or shell form -> words."""
    return json.loads(args) if args.startswith("[") else shlex.split(args)


@pytest.fixture(scope="module")
def steps() -> list[tuple[str, str]]:
    return parse((ROOT / "Dockerfile").read_text())


def _all(steps, name):
    return [args for word, args in steps if word == name]


def test_parse_joins_continuations_and_skips_comments():
    text = "# c\nFROM a:b\nRUN x \\\n  # inside\n  && y\n\nCMD [\"p\"]\n"
    assert parse(text) == [("FROM", "a:b"), ("RUN", "x && y"), ("CMD", '["p"]')]


def test_base_image_is_python_311_slim(steps):
    assert steps[0][0] == "FROM"
    assert re.fullmatch(r"python:3\.11-slim(-[a-z]+)?", _all(steps, "FROM")[-1].split()[0])


def test_pinned_requirements_are_installed(steps):
    copies = [a for a in _all(steps, "COPY") if "requirements.txt" in a.split()]
    assert copies, "requirements.txt is never copied into the image"
    runs = _all(steps, "RUN")
    assert any(re.search(r"pip install .*-r requirements\.txt", r) for r in runs)
    pins = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    assert pins and all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", p.strip()) for p in pins), pins


def test_sample_prepared_at_build_time_after_the_code_is_copied(steps):
    words = [w for w, _ in steps]
    synth = [i for i, (w, a) in enumerate(steps) if w == "RUN" and "-m churn synth" in a]
    assert synth, "no RUN step generates the sample (python -m churn synth)"
    code_copied = [i for i, (w, a) in enumerate(steps) if w == "COPY" and a.split()[-2:] == [".", "."]]
    assert code_copied and code_copied[0] < synth[0]
    assert "CMD" in words[synth[0]:]


def test_runs_as_a_non_root_user(steps):
    users = _all(steps, "USER")
    assert users, "no USER instruction: the app would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (w, _) in enumerate(steps) if w == "USER")
    assert last_user < max(i for i, (w, _) in enumerate(steps) if w == "CMD")


def test_exposes_8501_and_checks_health(steps):
    assert "8501" in " ".join(_all(steps, "EXPOSE")).replace("/tcp", "").split()
    checks = _all(steps, "HEALTHCHECK")
    assert len(checks) == 1
    assert re.match(r"(--\S+ )*CMD ", checks[0])
    assert "/_stcore/health" in checks[0] and "8501" in checks[0]


def test_entry_point_runs_the_app_on_all_interfaces(steps):
    cmd = command_words(_all(steps, "CMD")[-1])
    joined = " ".join(cmd)
    assert re.search(r"(^|\s)(python -m )?streamlit run app\.py(\s|$)", joined), joined
    assert "--server.address=0.0.0.0" in cmd or ("--server.address" in cmd and
                                                 cmd[cmd.index("--server.address") + 1] == "0.0.0.0")
    assert not _all(steps, "ENTRYPOINT")


def test_dockerignore_keeps_local_state_out():
    ignored = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")}
    assert {".git", ".venv", "data/models", "data/sample", "tests/artifacts"} <= ignored
