"""Offline subcommands of the `interloop` CLI contributed by this service."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from interloop_scorecard.domain.stats.ratings import long_ratings
from interloop_scorecard.domain.stats.report import irr_report

REQUIRED = ("subject", "rater", "score")


class _BadInput(Exception):
    """One-line, user-facing reason the input file cannot be analysed."""


def _read(path: Path) -> dict[str | None, tuple[list[str], list[str], list[float]]]:
    """Rows grouped by dimension (None when the file has no dimension column)."""
    if not path.is_file():
        raise _BadInput(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise _BadInput(
                    f"{path}: missing column {missing[0]!r}; header must be subject,rater,score[,dimension]"
                )
            i_s, i_r, i_x = (header.index(c) for c in REQUIRED)
            i_d = header.index("dimension") if "dimension" in header else None
            groups: dict[str | None, tuple[list[str], list[str], list[float]]] = {}
            for line, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) < len(header):
                    raise _BadInput(f"{path} line {line}: expected {len(header)} columns, got {len(row)}")
                raw = row[i_x].strip()
                try:
                    score = float(raw)
                except ValueError:
                    raise _BadInput(f"{path} line {line}: score {raw!r} is not a number") from None
                if not math.isfinite(score):
                    raise _BadInput(f"{path} line {line}: score {raw!r} is not a finite number")
                key = row[i_d].strip() if i_d is not None else None
                s, r, x = groups.setdefault(key, ([], [], []))
                s.append(row[i_s].strip())
                r.append(row[i_r].strip())
                x.append(score)
    except UnicodeDecodeError:
        raise _BadInput(f"{path}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise _BadInput(f"{path}: malformed CSV ({exc})") from None
    if not groups:
        raise _BadInput(f"{path}: no ratings after the header")
    for key, (_, raters, _) in groups.items():
        n = len(set(raters))
        if n < 2:
            where = f" in dimension {key!r}" if key is not None else ""
            raise _BadInput(f"{path}: need at least 2 raters{where}, found {n}")
    return groups


def _fmt(x: Any, nd: int = 3) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _table(report: dict[str, Any]) -> Iterable[str]:
    yield (f"subjects {report['n_subjects']}   raters {report['n_raters']}   ratings {report['n_ratings']}")
    if report["icc"] is None:
        yield f"ICC: not computed ({report.get('icc_note', 'incomplete design')})"
    else:
        yield f"{'form':<6} {'ICC':>7} {'95% CI':>17} {'F':>9} {'df1':>5} {'df2':>5} {'p':>9}"
        for name, f in report["icc"].items():
            ci = f"[{f['ci95'][0]:.3f}, {f['ci95'][1]:.3f}]"
            yield (
                f"{name:<6} {f['value']:>7.3f} {ci:>17} {f['F']:>9.3f} {f['df1']:>5} {f['df2']:>5} "
                f"{f['p']:>9.2g}"
            )
    alpha = report["krippendorff_alpha"]
    yield "Krippendorff's alpha: " + "  ".join(f"{k} {_fmt(v)}" for k, v in alpha.items())
    yield f"Fleiss' kappa: {_fmt(report['fleiss_kappa'])}"
    yield f"{'rater':<20} {'n':>5} {'leniency':>9} {'erratic':>8} {'agreement':>9}  flags"
    for r in report["raters"]:
        yield (
            f"{str(r['rater'])[:20]:<20} {r['n']:>5} {_fmt(r['leniency']):>9} {_fmt(r['erratic']):>8} "
            f"{_fmt(r['agreement']):>9}  {','.join(r['flags'])}"
        )


def irr(
    file: Annotated[Path, typer.Argument(help="CSV with header subject,rater,score[,dimension]")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    min_n: Annotated[int, typer.Option(help="Shared ratings a rater needs before being flagged")] = 10,
) -> None:
    """Inter-rater reliability of scorecard ratings: ICC, Krippendorff's alpha, Fleiss' kappa, calibration."""
    try:
        groups = _read(file)
    except _BadInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    reports = {key: irr_report(long_ratings(*cols), min_n=min_n) for key, cols in groups.items()}
    if None in reports:
        out: dict[str, Any] = reports[None]
    else:
        out = {
            "n_subjects": len({s for s, _, _ in groups.values() for s in s}),
            "n_raters": len({r for _, r, _ in groups.values() for r in r}),
            "n_ratings": sum(len(x) for _, _, x in groups.values()),
            "dimensions": reports,
        }
    if as_json:
        typer.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    if "dimensions" in out:
        for name, rep in out["dimensions"].items():
            typer.echo(f"== dimension {name}")
            for line in _table(rep):
                typer.echo(line)
            typer.echo("")
    else:
        for line in _table(out):
            typer.echo(line)


def register(app: typer.Typer) -> None:
    """Attach this service's subcommands to the top-level `interloop` app."""
    app.command("irr")(irr)
