"""The report: PNG figures and one index.html that shows them with their tables, openable offline.

    from analysis.report import build
    sections = build(store, "report/")

Six sections, each from the store alone (analysis/data.py reads it, analysis/plots.py draws):
1. history heatmap, 2. score distribution and rank intervals, 3. score comparison (from the
history run of a ranking), 4. post-saturation generalization, 6. behaviour over training (from
one trained run), 5. the sweep table. A section without data in the store says so and names the
command that records it; the rest of the report is still written.
"""

import html
from dataclasses import dataclass, field
from pathlib import Path

from analysis import data, plots
from selector.errors import UserError


@dataclass
class Section:
    key: str
    title: str
    about: str  # what the figure shows, one or two sentences
    image: str | None = None  # file name inside the report directory
    table: tuple[list[dict], list[str]] | None = None  # (rows, columns)
    caption: str = ""
    missing: str | None = None  # why there is no data, and how to get it
    notes: list[str] = field(default_factory=list)


@dataclass
class Choice:
    """Which runs and sweep a report shows (resolved by `choose`)."""

    history_run: str | None
    training_run: str | None
    sweep: str | None
    pool: str | None  # the pool of the runs shown, for the commands a missing section suggests


def choose(store, run: str | None = None, sweep: str | None = None, history_run: str | None = None) -> Choice:
    """Resolve the report's runs: `run` is shown in the training sections (and, if it holds a
    per-example history, in the ranking sections too); the rest default to the latest ranking,
    the latest sweep that is not a validation and that sweep's first 1-shot run."""
    if sweep is not None and not store.sweep_plan(sweep):
        known = ", ".join(r["sweep"] for r in store.rows("SELECT DISTINCT sweep FROM sweeps ORDER BY sweep")) or "none"
        raise UserError(f"no sweep {sweep!r} in store {store.root} (sweeps: {known})")
    sweep = sweep or data.latest_sweep(store)
    training_run, pool = None, None
    if run is not None:
        info = data.run_info(store, run)
        pool = info["pool"]
        if info["kind"] in data.HISTORY_KINDS and history_run is None:
            history_run = run
        if info["kind"] != "imported":
            training_run = run
    if history_run is not None:
        data.run_info(store, history_run)
    else:
        history_run = data.default_history_run(store, pool)
    if run is None:
        training_run = data.default_training_run(store, sweep)
    shown = training_run or history_run
    return Choice(history_run, training_run, sweep, pool or (data.run_info(store, shown)["pool"] if shown else None))


def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def ranking_sections(store, run_id: str | None, top: int, out: Path) -> list[Section]:
    heat = Section("history", "1. History heatmap",
                   "Training accuracy of every example at every epoch of the history run, examples sorted by the "
                   "historical variance score (π1 on top); the top ones are enlarged on the right.")
    dist = Section("scores", f"2. Score distribution and rank confidence of π1..π{top}",
                   "The variance score of every example, with the top ones marked, and each top rank's 90% interval "
                   "from a bootstrap over epochs (wide intervals: the ranking is uncertain there).")
    comp = Section("comparison", "3. Score comparison",
                   "The same examples ranked by the paper's variance score, LIMR's learning impact (LIM) and "
                   "learnability; Spearman's rho and how many of the top 16 two scores share.")
    sections = [heat, dist, comp]
    h = data.history(store, run_id) if run_id else None
    if h is None:
        why = ("no per-example accuracy history in this store yet: run `selector rank --pool POOL` "
               "(a GRPO history run) or import one with `selector rank --pool POOL --history FILE`")
        for s in sections:
            s.missing = why
        return sections
    heat.image = "01_history_heatmap.png"
    plots.save(plots.history_heatmap(h, top), out / heat.image)
    heat.notes.append(f"run {run_id} ({h['kind']}, pool {h['pool']}): {len(h['ids']):,} examples, {len(h['epochs'])} epochs")
    dist.image = "02_score_distribution.png"
    plots.save(plots.score_distribution(h, top), out / dist.image)
    n = min(top, len(h["ids"]))
    dist.table = ([{"π": f"π{h['ranks'][k]}", "example id": h["ids"][k], "variance score": _fmt(float(h["values"][k])),
                    "rank 90% CI": "" if h["ci_low"][k] is None else f"{h['ci_low'][k]}-{h['ci_high'][k]}",
                    "accuracy by epoch": " ".join("·" if v != v else f"{v:.2f}" for v in h["acc"][k])} for k in range(n)],
                  ["π", "example id", "variance score", "rank 90% CI", "accuracy by epoch"])
    dist.caption = "· = the example did not appear in that epoch"
    c = data.score_comparison(store, run_id)
    comp.image = "03_score_comparison.png"
    plots.save(plots.score_comparison(c, top), out / comp.image)
    comp.table = ([{"scores": f"{a} vs {b}", "Spearman rho": f"{rho:+.3f}", f"shared top {top}": f"{c['top_overlap'][(a, b)]}/{top}"}
                   for (a, b), rho in c["spearman"].items()], ["scores", "Spearman rho", f"shared top {top}"])
    return sections


def training_sections(store, run_id: str | None, out: Path, pool: str | None = None) -> list[Section]:
    post = Section("post_saturation", "4. Post-saturation generalization",
                   "A 1-shot run's training accuracy on its own example and its test accuracy over steps on one plot: "
                   "in the paper, test accuracy keeps rising long after training accuracy saturates.")
    beh = Section("behaviour", "6. Behaviour over training",
                  "Mean completion length, policy entropy, and the share of completions with a self-reflection word "
                  "(rethink, recheck, recalculate, re-evaluate, re-examine, double-check) per step.")
    if run_id is None:
        why = (f"no trained 1-/few-shot run in this store yet: run `selector train --pool {pool or 'POOL'} --examples pi1` "
               f"or `selector sweep --pool {pool or 'POOL'}`")
        post.missing = beh.missing = why
        return [post, beh]
    t = data.training_curves(store, run_id)
    if t is None:
        post.missing = f"run {run_id} recorded no rollouts yet"
    else:
        post.image = "04_post_saturation.png"
        plots.save(plots.post_saturation(t), out / post.image)
        sat = t["saturation_step"]
        post.notes.append(f"run {run_id}: training accuracy saturates at step {sat}" if sat is not None
                          else f"run {run_id}: training accuracy never reached 90% (5-step mean)")
        if not len(t["eval_steps"]):
            post.notes.append("no evaluations recorded for this run (trained with --eval-steps 0?), so no test curve")
        else:
            post.table = ([{"step": int(s), "test accuracy (%)": f"{100 * a:.1f}"} for s, a in zip(t["eval_steps"], t["eval_average"])],
                          ["step", "test accuracy (%)"])
    b = data.behaviour(store, run_id)
    if b is None:
        beh.missing = f"run {run_id} recorded no rollouts and no evaluations yet"
    else:
        beh.image = "06_behaviour.png"
        plots.save(plots.behaviour(b), out / beh.image)
        if len(b["eval_steps"]):
            beh.table = ([{"step": int(s), "test completions": n, "mean length (tokens)": f"{tok:.1f}",
                           "with a self-reflection word (%)": f"{100 * r:.2f}", "self-reflection words per completion": f"{w:.3f}"}
                          for s, n, tok, r, w in zip(b["eval_steps"], b["eval_completions"], b["eval_tokens"],
                                                     b["eval_reflection_rate"], b["eval_reflection_words"])],
                         ["step", "test completions", "mean length (tokens)", "with a self-reflection word (%)",
                          "self-reflection words per completion"])
    return [post, beh]


def sweep_section(store, sweep: str | None, out: Path, pool: str | None = None) -> Section:
    from selector.results import sweep_table

    sec = Section("sweep", "5. Sweep: 1-shot vs few-shot vs baselines",
                  "Final test accuracy of each planned item (π_k alone, sets of them, random and bottom-ranked examples, "
                  "the full pool, the format reward), mean and standard deviation over seeds, against the base model.")
    s = data.sweep_data(store, sweep) if sweep else None
    if s is None:
        sec.missing = f"no sweep in this store yet: run `selector sweep --pool {pool or 'POOL'} --top 16`"
        return sec
    sec.image = "05_sweep.png"
    plots.save(plots.sweep_bars(s), out / sec.image)
    rows, cols, sec.caption = sweep_table(store, sweep)
    sec.table = (rows, cols)
    return sec


def history_stats_section(store, run_id: str | None, top: int, pool: str | None = None) -> Section:
    sec = Section("history_stats", "7. History statistics",
                  "The shape of the history run (appearances per example, pool-mean accuracy early and late, spread of "
                  "per-example std, learning curves among the top by variance), beside the authors' own history over "
                  "DSR-sub when the data directory has it (selector/history_stats.py).")
    s = data.history_stats(store, run_id, top) if run_id else None
    if s is None:
        sec.missing = f"no history in this store yet: run `selector rank --pool {pool or 'POOL'}`"
        return sec
    sec.table = (s["rows"], ["statistic"] + s["labels"])
    return sec


def validation_section(store, out: Path, pool: str | None = None) -> Section:
    sec = Section("validation", "8. Validation: does a score predict the 1-shot gain?",
                  "1-shot runs on a stratified sample of the ranking (top, evenly spaced ranks, bottom, planted "
                  "pathologies) over seeds; each example's gain in test accuracy against its rank, and Spearman's rho "
                  "between every score and the gain with a 90% bootstrap interval (`selector validate`).")
    v = data.validation(store)
    if v is None:
        sec.missing = f"no validation in this store yet: run `selector validate --pool {pool or 'POOL'}`"
        return sec
    sec.image = "08_validation.png"
    plots.save(plots.validation_scatter(v), out / sec.image)
    sec.table = ([{"score": c["score"], "gain": c["gain"], "examples": c["examples"],
                   "Spearman rho": "" if c["spearman"] is None else f"{c['spearman']:+.3f}",
                   "90% CI": "" if c["ci_low"] is None else f"{c['ci_low']:+.2f} to {c['ci_high']:+.2f}",
                   "from run": c["run_id"] or ""} for c in v["correlations"]],
                 ["score", "gain", "examples", "Spearman rho", "90% CI", "from run"])
    sec.caption = (f"validation {v['validation']}; gain = test accuracy at the final (best) evaluated step minus the "
                   "base model's")
    return sec


def runs_section(store) -> Section:
    sec = Section("runs", "Runs in this store", "Every run recorded in the store, oldest first.")
    rows = store.runs()
    sec.table = ([{"run": r["run_id"], "kind": r["kind"], "pool": r["pool"] or "", "status": r["status"] or "",
                   "created (UTC)": r["created_at"].strftime("%Y-%m-%d %H:%M") if r["created_at"] else ""} for r in rows],
                 ["run", "kind", "pool", "status", "created (UTC)"])
    return sec


def build(store, out: str | Path, run: str | None = None, sweep: str | None = None, history_run: str | None = None,
          top: int = 16, progress=None) -> list[Section]:
    """Write the report's PNGs and index.html into `out`; returns its sections. `progress`, if
    given, is called with each section's title as it is done."""
    if top < 1:
        raise UserError("--top must be >= 1")
    choice = choose(store, run, sweep, history_run)
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create report directory {out}: {e.strerror or e}; pass --out DIR") from None
    ranked = ranking_sections(store, choice.history_run, top, out)
    post, beh = training_sections(store, choice.training_run, out, choice.pool)
    sections = ranked + [post, sweep_section(store, choice.sweep, out, choice.pool), beh,
                         history_stats_section(store, choice.history_run, top, choice.pool),
                         validation_section(store, out, choice.pool), runs_section(store)]
    if progress:
        for s in sections:
            progress(s)
    if not any(s.image for s in sections):
        raise UserError(f"store {store.root} has nothing to report yet: no history, no sweep, no trained run; "
                        "run `selector rank --pool toy` first")
    _write_html(out / "index.html", store, choice, sections)
    return sections


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
img { max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; }
.missing { background: #fff4e5; border-left: 4px solid #f0a030; padding: 0.6em 1em; }
.note, .caption { color: #555; font-size: 0.9em; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


def _table_html(rows: list[dict], cols: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _write_html(path: Path, store, choice: Choice, sections: list[Section]) -> None:
    from selector import __version__
    from selector.store import now

    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>rlvr-select report</title><style>{_CSS}</style></head><body>",
             "<h1>rlvr-select report</h1>",
             f"<p class='note'>store <code>{e(str(store.root.resolve()))}</code>, written {now():%Y-%m-%d %H:%M} UTC by rlvr-select "
             f"{e(__version__)}. History run: <code>{e(choice.history_run or 'none')}</code>; trained run: "
             f"<code>{e(choice.training_run or 'none')}</code>; sweep: <code>{e(choice.sweep or 'none')}</code> "
             "(choose others with <code>selector report --run ID --sweep NAME --history-run ID</code>).</p>"]
    missing = [s for s in sections if s.missing]
    if missing:
        parts.append("<p class='missing'>No data yet for: " + e(", ".join(s.title for s in missing)) + ".</p>")
    for s in sections:
        parts.append(f"<h2 id='{e(s.key)}'>{e(s.title)}</h2><p>{e(s.about)}</p>")
        if s.missing:
            parts.append(f"<p class='missing'>{e(s.missing)}</p>")
            continue
        parts += [f"<p class='note'>{e(n)}</p>" for n in s.notes]
        if s.image:
            parts.append(f"<img src='{e(s.image)}' alt='{e(s.title)}'>")
        if s.table:
            parts.append(_table_html(*s.table))
        if s.caption:
            parts.append(f"<p class='caption'>{e(s.caption)}</p>")
    parts.append("</body></html>\n")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
