"""`interloop irr`: JSON shape, per-dimension output, readable table and one-line errors (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from interloop_scorecard.cli import register
from typer.testing import CliRunner

SF = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def _noop() -> None:  # a second command keeps typer from collapsing the app into `irr` itself
        pass

    return app


def _write(tmp_path: Path, text: str, name: str = "r.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _sf_csv(tmp_path: Path, dimension: str | None = None) -> Path:
    lines = ["subject,rater,score" + (",dimension" if dimension else "")]
    for i, row in enumerate(SF):
        for j, v in enumerate(row):
            lines.append(f"t{i},j{j},{v}" + (f",{dimension}" if dimension else ""))
    return _write(tmp_path, "\n".join(lines) + "\n")


def test_json_report(app, tmp_path):
    res = CliRunner().invoke(app, ["irr", str(_sf_csv(tmp_path)), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert (out["n_subjects"], out["n_raters"], out["n_ratings"]) == (6, 4, 24)
    assert set(out["icc"]) == {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"}
    icc3 = out["icc"]["ICC3"]
    assert icc3["value"] == pytest.approx(0.714841, abs=1e-6)
    assert set(icc3) == {"value", "ci95", "F", "df1", "df2", "p"} and len(icc3["ci95"]) == 2
    assert set(out["krippendorff_alpha"]) == {"nominal", "ordinal", "interval", "ratio"}
    assert out["fleiss_kappa"] is not None
    raters = {r["rater"]: r for r in out["raters"]}
    assert set(raters) == {"j0", "j1", "j2", "j3"}
    x = np.array(SF, dtype=float)
    assert raters["j0"]["leniency"] == pytest.approx((x[:, 0] - x.mean(axis=1)).mean())
    assert {"n", "leniency", "erratic", "agreement"} <= set(raters["j0"])


def test_incomplete_design_gives_null_icc_with_note(app, tmp_path):
    p = _write(tmp_path, "subject,rater,score\na,x,1\na,y,2\nb,x,3\nb,y,3\nc,x,2\nc,z,4\n")
    out = json.loads(CliRunner().invoke(app, ["irr", str(p), "--json"]).stdout)
    assert out["icc"] is None and "incomplete" in out["icc_note"]
    assert out["fleiss_kappa"] is not None  # every subject has 2 ratings
    p2 = _write(tmp_path, "subject,rater,score\na,x,1\na,y,2\na,z,2\nb,x,3\nb,y,3\n", "r2.csv")
    assert json.loads(CliRunner().invoke(app, ["irr", str(p2), "--json"]).stdout)["fleiss_kappa"] is None


def test_dimensions(app, tmp_path):
    text = _sf_csv(tmp_path, "coding").read_text()
    more = "\n".join(line.replace(",coding", ",comms") for line in text.splitlines()[1:])
    p = _write(tmp_path, text + more + "\n", "dims.csv")
    out = json.loads(CliRunner().invoke(app, ["irr", str(p), "--json"]).stdout)
    assert set(out["dimensions"]) == {"coding", "comms"}
    assert out["dimensions"]["comms"]["icc"]["ICC1"]["value"] == pytest.approx(0.165742, abs=1e-6)


def test_readable_table(app, tmp_path):
    res = CliRunner().invoke(app, ["irr", str(_sf_csv(tmp_path))])
    assert res.exit_code == 0
    assert "ICC3" in res.stdout and "Krippendorff" in res.stdout and "j0" in res.stdout


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "no such file"),
        ("subject,score\na,1\n", "missing column 'rater'"),
        ("subject,rater,score\na,x,high\na,y,2\n", "not a number"),
        ("subject,rater,score\na,x,1\nb,x,2\n", "at least 2 raters"),
        ("", "missing column"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(app, tmp_path, content, needle):
    path = tmp_path / "missing.csv" if content is None else _write(tmp_path, content)
    res = CliRunner().invoke(app, ["irr", str(path), "--json"])
    assert res.exit_code == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
