"""`select sql`: read-only SQL over every shard of the store.

    selector sql "SELECT example_id, epoch, acc FROM epoch_accuracy WHERE example_id = '124' ORDER BY epoch"
    selector sql "SELECT * FROM scores WHERE rank <= 16 ORDER BY score, rank" --csv

Tables (facts, append-only): runs, run_events, rollouts, eval_samples, history_import, rankings.
Views (derived, defined once in selector/store/views.sql): run_status, epoch_accuracy, example_order, scores
(the latest ranking of each run and score), rollouts_all / eval_samples_all (every resume attempt).
The same views work in the duckdb CLI: `cd rlvr-store && duckdb -init views.sql`.
"""

from dataclasses import dataclass

from selector.cli.arguments import OutputOptions, add_command
from selector.config import option
from selector.errors import UserError

HELP = "run read-only SQL over the store (tables: runs, rollouts, eval_samples, epoch_accuracy, scores, ...)"

# Statement types a read-only query may contain.
_READ_ONLY = {"SELECT", "EXPLAIN"}


@dataclass
class SqlConfig(OutputOptions):
    query: str = option(None, "the SQL query (SELECT ...)", positional=True, metavar="QUERY")
    store: str | None = option(None, "store directory; default $RLVR_STORE, else ./rlvr-store", metavar="DIR")
    max_rows: int = option(100, "table output shows at most N rows (JSON, CSV and --out get all)", metavar="N")


def make_parser(subparsers):
    return add_command(subparsers, "sql", HELP, __doc__, SqlConfig)


def run_query(store, query: str) -> tuple[list[str], list[tuple]]:
    import duckdb

    con = store.connect()
    try:
        try:
            statements = con.extract_statements(query)
        except duckdb.Error as e:
            raise UserError(f"SQL error: {_first_line(e)}") from None
        if not statements:
            raise UserError("empty query")
        for st in statements:
            kind = st.type.name
            if kind not in _READ_ONLY:
                raise UserError(f"`select sql` is read-only: {kind} statements are not allowed (the store is append-only facts)")
        try:
            cur = None
            for st in statements:
                cur = con.execute(st)
            return [d[0] for d in cur.description], cur.fetchall()
        except duckdb.Error as e:
            raise UserError(f"SQL error: {_first_line(e)}") from None
    finally:
        con.close()


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return " ".join(text.splitlines()[:2]) if text else type(e).__name__


def main(cfg: SqlConfig) -> list[dict]:
    from selector.cli.output import emit, save
    from selector.paths import store_dir
    from selector.store import Store

    if not cfg.query or not cfg.query.strip():
        raise UserError('give a query, e.g. selector sql "SELECT * FROM run_status"')
    store = Store.open(store_dir(cfg.store))
    columns, tuples = run_query(store, cfg.query)
    rows = [dict(zip(columns, t)) for t in tuples]
    shown = rows if (cfg.json or cfg.csv or len(rows) <= cfg.max_rows) else rows[: cfg.max_rows]
    caption = f"{len(rows)} rows" + (f" (first {cfg.max_rows} shown; --csv or --out for all)" if len(shown) < len(rows) else "")
    if cfg.out:
        save(rows, columns, cfg.out)
    emit(shown, columns, json_out=cfg.json, csv_out=cfg.csv, caption=caption)
    return rows
