"""How commands print and save result rows: a rich table by default, JSON or CSV for scripts,
and `--out FILE` (csv, parquet, json) to keep them."""

import csv
import io
import json
import math
import os
import sys
from pathlib import Path

from selector.errors import UserError


def _plain(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return str(v)


def emit(rows: list[dict], columns: list[str] | None = None, *, json_out: bool = False, csv_out: bool = False,
         out: str | None = None, title: str | None = None, caption: str | None = None, widths: dict | None = None,
         file=None) -> None:
    """Print `rows` (a list of dicts) as a table, JSON or CSV; optionally also save them to `out`.
    `file`: where a table goes (default stdout)."""
    columns = columns or (list(rows[0]) if rows else [])
    if out:
        save(rows, columns, out)
    if json_out:
        json.dump([{k: _plain(r.get(k)) for k in r} for r in rows], sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    elif csv_out:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[_plain(r.get(c)) for c in columns] for r in rows])
    else:
        from rich.console import Console
        from rich.table import Table

        # Piped output (a file, `less`, CI logs) gets whole rows rather than rich's 80 columns.
        file = file or sys.stdout
        console = Console(file=file, width=None if file.isatty() else int(os.environ.get("COLUMNS", 160)))
        cells = [[_cell(r.get(c)) for c in columns] for r in rows]
        natural = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(columns)]
        # Ids, numbers and names are always shown whole; free-text columns (`widths`) share what
        # is left of the console (3 characters of border per column) and are cut with an ellipsis.
        free = [j for j, c in enumerate(columns) if c in (widths or {})]
        fixed = sum(n for j, n in enumerate(natural) if j not in free)
        left = console.width - fixed - 3 * len(columns) - 1
        give = {}
        for k, j in enumerate(sorted(free, key=lambda j: natural[j])):  # narrowest first, rest to the others
            give[j] = max(8, min(natural[j], widths[columns[j]], left // (len(free) - k)))
            left -= give[j]
        table = Table(title=title, caption=caption)
        for j, c in enumerate(columns):
            if j in free:
                table.add_column(c, width=give[j], overflow="ellipsis", no_wrap=True)
            else:
                table.add_column(c, width=natural[j], no_wrap=True)
        for row in cells:
            table.add_row(*row)
        console.print(table)


def save(rows: list[dict], columns: list[str], out: str) -> None:
    path = Path(out).expanduser()
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(columns)
            writer.writerows([[_plain(r.get(c)) for c in columns] for r in rows])
            path.write_text(buf.getvalue())
        elif suffix == ".json":
            path.write_text(json.dumps([{c: _plain(r.get(c)) for c in columns} for r in rows], indent=1, ensure_ascii=False))
        elif suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]), path)
        else:
            raise UserError(f"--out {out}: unknown file type {suffix!r}; use .csv, .parquet or .json")
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror or e}") from None
    print(f"wrote {len(rows)} rows to {path}", file=sys.stderr)
