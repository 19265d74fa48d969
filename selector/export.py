"""Exporting chosen examples as a training file for another trainer: verl, TRL / datasets, jsonl.

A pi set (`pi1`, `pi1,pi13`, example ids) or the top of a ranking, each example copied so that
the file holds `copies` rows in all (the paper's batch: the authors' pi1_r128.parquet is pi1 128
times; merge_pi1_pi13_r128.parquet is pi1 64 times, then pi13 64 times). Formats:

- `verl`: the authors' layout (One-Shot-RLVR, a fork of verl): parquet with columns
  `data_source`, `prompt` (chat messages, list<struct<content, role>>), `ability`,
  `reward_model` (struct<ground_truth, style>) and `extra_info` (struct<index, split>). From a
  pool read from such a parquet file (DSR-sub) the rows are the file's own rows, every column
  and type as they are, so `--examples pi1 --copies 128` over the authors' history and DSR-sub is
  their pi1_r128.parquet. Other pools get the same columns from the example: `data_source` the
  pool's name unless given (verl chooses its reward function by it), ability "math", style "rule",
  split "train", index the id (an integer where every id is one).
- `jsonl` and `hf` (a `datasets.Dataset` saved to disk, or pushed to the hub): TRL's
  conversational layout, `prompt` (chat messages) plus `answer` and `id` columns (TRL hands extra
  columns to reward functions as keyword arguments), and `pi` (the example's rank name, if any).

A verl or jsonl file loads back as a pool (`--pool file:PATH`; the copies of one example load as
one example); an hf directory with `datasets.load_from_disk`.
"""

import json
from pathlib import Path

from selector.errors import UserError

FORMATS = ("verl", "jsonl", "hf")
SUFFIX = {"verl": ".parquet", "jsonl": ".jsonl", "hf": ""}


def choose(store, pool, examples: str | None, top: int | None, score: str) -> tuple[list[str], list[str | None]]:
    """(example ids, their pi names or None) in file order: `examples` (pi names and ids, as
    `select train --examples`) or pi1..pi<top> of the pool's latest `score` ranking."""
    from selector.ranking import resolve_examples, resolve_name

    if bool(examples) == bool(top):
        raise UserError("give --examples LIST (pi names or ids, e.g. pi1,pi13) or --top N (pi1..piN), one of them")
    if top is not None and top < 1:
        raise UserError("--top must be >= 1")
    if top:
        _, ranking = resolve_name(store, pool.name, score, f"pi{top}")  # one line without a ranking, or past its end
        ids = [r["example_id"] for r in ranking[:top]]
    else:
        ids = resolve_examples(store, pool, examples, score)
    ranking_id = store.latest_ranking_id(pool.name, score) if store else None
    rank_of = {r["example_id"]: r["rank"] for r in store.ranking(ranking_id)} if ranking_id else {}
    bad = [f"{i} ({pool.bad_golds[i]})" for i in ids if i in pool.bad_golds]
    if bad:
        raise UserError(f"example {', '.join(bad)}: its gold answer cannot be graded, so no trainer can reward it; "
                        "pick another")
    return ids, [f"pi{rank_of[i]}" if i in rank_of else None for i in ids]


def copies_of(ids: list[str], copies: int | None) -> list[int]:
    """How many rows each example gets: `copies` rows in all, split evenly (default: one each)."""
    if copies is None:
        return [1] * len(ids)
    if copies < 1 or copies % len(ids):
        raise UserError(f"--copies {copies}: the rows of the file, split evenly over {len(ids)} example(s); give a "
                        f"positive multiple of {len(ids)} (the paper: 128)")
    return [copies // len(ids)] * len(ids)


def default_name(ids: list[str], names: list[str | None], copies: int | None, fmt: str, top: int | None) -> str:
    """The authors' file names: pi1_r128, merge_pi1_pi13_r128; pi1-16_r16 for a top; ids for unranked ones."""
    rows = copies or len(ids)
    labels = [n or f"id{i}" for i, n in zip(ids, names)]
    if top:
        stem = f"pi1-{top}"
    elif len(labels) == 1:
        stem = labels[0]
    else:
        stem = "merge_" + "_".join(labels) if len(labels) <= 8 else f"{labels[0]}_and_{len(labels) - 1}_more"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)
    return f"{safe}_r{rows}{SUFFIX[fmt]}"


def verl_table(pool, ids: list[str], counts: list[int], data_source: str | None = None):
    """The rows in verl's layout as a pyarrow Table: the pool file's own rows when it is a verl
    parquet file (and `data_source` is not given), else the same columns built from the examples."""
    import pyarrow as pa

    take = _verl_source_rows(pool, ids) if data_source is None else None
    if take is not None:
        table, row_of = take
        indices = [row_of[i] for i, n in zip(ids, counts) for _ in range(n)]
        # The file's own pandas index metadata would describe the whole pool, not these rows.
        return table.take(pa.array(indices, pa.int64())).replace_schema_metadata(None)
    numeric = all(x.isdigit() and str(int(x)) == x for x in pool.by_id)  # "007" stays a string: it would load back as "7"
    schema = pa.schema([
        ("data_source", pa.string()),
        ("prompt", pa.list_(pa.struct([("content", pa.string()), ("role", pa.string())]))),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("ground_truth", pa.string()), ("style", pa.string())])),
        ("extra_info", pa.struct([("index", pa.int64() if numeric else pa.string()), ("split", pa.string())])),
    ])
    rows = []
    for ex_id, n in zip(ids, counts):
        ex = pool.get(ex_id)
        row = {"data_source": data_source or pool.name,
               "prompt": [{"content": m["content"], "role": m["role"]} for m in ex.prompt], "ability": "math",
               "reward_model": {"ground_truth": ex.answer, "style": "rule"},
               "extra_info": {"index": int(ex.id) if numeric else ex.id, "split": "train"}}
        rows += [row] * n
    return pa.Table.from_pylist(rows, schema=schema)


def _verl_source_rows(pool, ids: list[str]):
    """(the pool's parquet file as a Table, id -> its first row) when the pool was read from a
    verl-layout parquet file holding every id; else None."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = Path(pool.source)
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return None
    table = pq.read_table(path)
    if not {"data_source", "prompt", "ability", "reward_model", "extra_info"} <= set(table.column_names):
        return None
    try:
        index = pc.struct_field(table.column("extra_info"), "index").to_pylist()
    except (KeyError, ValueError, TypeError):
        return None
    row_of = {}
    for k, v in enumerate(index):
        row_of.setdefault(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v), k)
    return (table, row_of) if all(i in row_of for i in ids) else None


def plain_rows(pool, ids: list[str], counts: list[int], names: list[str | None]) -> list[dict]:
    """TRL's conversational layout: prompt (chat messages), answer, id, pi."""
    rows = []
    for ex_id, n, name in zip(ids, counts, names):
        ex = pool.get(ex_id)
        row = {"prompt": [dict(m) for m in ex.prompt], "answer": ex.answer, "id": ex.id, "pi": name}
        rows += [row] * n
    return rows


def write(fmt: str, pool, ids: list[str], counts: list[int], names: list[str | None], out: Path,
          data_source: str | None = None, push_to_hub: str | None = None) -> int:
    """Write the file (or dataset directory) at `out`, atomically for files; returns its rows."""
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; valid formats: {', '.join(FORMATS)}")
    if data_source is not None and fmt != "verl":
        raise UserError("--data-source is a column of the verl layout only; drop it or use --format verl")
    if SUFFIX[fmt] and out.suffix.lower() != SUFFIX[fmt]:  # else it would not load back (nor in verl)
        raise UserError(f"--out {out}: a {fmt} file ends in {SUFFIX[fmt]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "verl":
        import pyarrow.parquet as pq

        table = verl_table(pool, ids, counts, data_source)
        tmp = out.with_name(f".{out.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(out)
        return table.num_rows
    rows = plain_rows(pool, ids, counts, names)
    if fmt == "jsonl":
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(out)
        return len(rows)
    return _write_hf(rows, out, push_to_hub)


def _write_hf(rows: list[dict], out: Path, push_to_hub: str | None) -> int:
    from datasets import Dataset

    dataset = Dataset.from_list(rows)
    dataset.save_to_disk(str(out))
    if push_to_hub:
        try:
            dataset.push_to_hub(push_to_hub)
        except Exception as e:  # noqa: BLE001 - the hub client raises many types (offline, auth, name); one line
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise UserError(f"saved {out}, but pushing to the hub as {push_to_hub!r} failed ({first}); "
                            "check the network and `huggingface-cli login`, or push later with datasets") from None
    return len(rows)
