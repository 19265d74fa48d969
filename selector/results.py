"""A sweep as the paper's table, and one run's evaluations, from the store's views.

Accuracy is the average over the run's evaluation benchmarks (the paper's "average of the six";
the toy benchmark alone on the toy world), each benchmark's accuracy the mean over its samples
(avg@k). "base" is the evaluation before the first step, "final" the last evaluated step, "best"
the best evaluated step. Mean +- sample standard deviation over seeds. Every number comes from
the store's views (`sweep_summary`, `sweep_results`, `sweep_base`, `eval_scores`, `run_results`,
in selector/store/views.sql); this module only shapes them for display (`select results`, the
report). Before any sweep, `select results` shows every run (`run_rows`).
"""


def _pct(v) -> str:
    return "" if v is None else f"{100 * v:.1f}"


def _pm(mean, sd) -> str:
    return "" if mean is None else _pct(mean) + ("" if sd is None else f" ± {100 * sd:.1f}")


def _after(r: dict) -> str:
    if not r.get("saturated"):
        return "never saturated" if r.get("final") is not None else ""
    sd = r["after_saturation_sd"]
    runs = int(r["finished"].split("/")[1])
    return (f"{100 * r['after_saturation']:+.1f}" + ("" if sd is None else f" ± {100 * sd:.1f}")
            + f" ({r['saturated']}/{runs}, step {r['saturation_step']:.0f})")


def sweep_rows(store, name: str, by_run: bool = False, per_run: list[dict] | None = None) -> list[dict]:
    """`per_run`: the sweep's `sweep_results` rows when the caller already has them."""
    if by_run:
        return [{"run": r["label"], "group": r["grp"], "seed": r["seed"], "status": r["status"], "base": r["base"],
                 "final": r["final"], "final_step": r["final_step"], "best": r["best"], "best_step": r["best_step"],
                 "run_id": r["run_id"]} for r in (per_run if per_run is not None else store.sweep_results(name))]
    detail = {(r["label"], r["grp"]): r for r in store.rows("SELECT * FROM sweep_detail WHERE sweep = ?", [name])}
    rows = []
    for r in store.sweep_summary(name):
        d = detail.get((r["label"], r["grp"]), {})
        rows.append({"run": r["label"], "group": r["grp"], "finished": f"{r['finished']}/{r['runs']}", "base": r["base"],
                     "final": r["final"], "final_sd": r["final_sd"], "best": r["best"], "best_sd": r["best_sd"],
                     "final_formatted": d.get("final_formatted"), "final_formatted_sd": d.get("final_formatted_sd"),
                     "saturated": d.get("saturated"), "saturation_step": d.get("saturation_step"),
                     "after_saturation": d.get("after_saturation"), "after_saturation_sd": d.get("after_saturation_sd"),
                     "benchmarks": r["benchmarks"]})
    return rows


def sweep_table(store, name: str, by_run: bool = False, per_run: list[dict] | None = None) -> tuple[list[dict], list[str], str]:
    """The sweep as printed: (display rows, columns, caption). Shared by `select results` and
    the report, so both show the same table."""
    per_run = per_run if per_run is not None else store.sweep_results(name)
    rows = sweep_rows(store, name, by_run, per_run)
    summary = store.sweep_base(name)
    base = summary["base"] if summary else None
    if by_run:
        table = [{**r, "base": _pct(r["base"]), "final": _pct(r["final"]), "best": _pct(r["best"])} for r in rows]
        cols = ["run", "group", "seed", "status", "base", "final", "final_step", "best", "best_step", "run_id"]
    else:
        fb = store.rows("SELECT base_formatted FROM sweep_base_formatted WHERE sweep = ?", [name])
        base_fmt = fb[0]["base_formatted"] if fb else None
        table = [{"run": "base model", "group": "", "finished": "", "final (%)": _pct(base), "best (%)": "",
                  "vs base": "", "formatted (%)": _pct(base_fmt)}] if base is not None else []
        table += [{"run": r["run"], "group": r["group"], "finished": r["finished"], "final (%)": _pm(r["final"], r["final_sd"]),
                   "best (%)": _pm(r["best"], r["best_sd"]),
                   "vs base": "" if r["final"] is None or base is None else f"{100 * (r['final'] - base):+.1f}",
                   "formatted (%)": _pm(r["final_formatted"], r["final_formatted_sd"]),
                   "after saturation (pts)": _after(r)} for r in rows]
        cols = ["run", "group", "finished", "final (%)", "best (%)", "vs base", "formatted (%)", "after saturation (pts)"]
    benches = summary["benchmarks"] if summary else None
    caption = (f"accuracy = mean over {benches}; final = last evaluated step, best = best evaluated step; "
               "mean ± sd over seeds; formatted = final accuracy among answers in the right format (boxed); "
               "after saturation = test accuracy at the last evaluation minus at the first one after training "
               "accuracy saturated (5-step mean >= 90%), mean over the runs that saturated (k/n)"
               if benches else "no evaluations recorded yet")
    return table, cols, caption


def run_rows(store) -> list[dict]:
    """Every run in the store, oldest first, with its status and evaluation summary (view run_results)."""
    return store.rows("SELECT * EXCLUDE (created_at) FROM run_results ORDER BY created_at, run_id")


def run_table(rows: list[dict]) -> tuple[list[dict], list[str], str]:
    """All runs as printed: (display rows, columns, caption)."""
    def examples(r):
        return r["examples"] or ("" if r["kind"] in ("imported", "eval") else "(whole pool)")

    table = [{**r, "seed": "" if r["seed"] is None else r["seed"], "examples": examples(r), "base (%)": _pct(r["base"]),
              "final (%)": _pct(r["final"]), "best (%)": _pct(r["best"])} for r in rows]
    cols = ["run_id", "kind", "pool", "status", "seed", "examples", "base (%)", "final (%)", "final_step", "best (%)",
            "best_step"]
    benches = sorted({r["benchmarks"] for r in rows if r["benchmarks"]})
    caption = (f"accuracy = mean over {'; '.join(benches)}; base = before training, final = last evaluated step, best = "
               "best evaluated step" if benches else "no run has evaluations yet")
    return table, cols, caption


def run_summary(store, run_id: str) -> dict:
    """What a finished (or stopped) run reached, for the lines `select train` ends with: its status,
    steps recorded, training accuracy over its last (up to 10) steps, and each benchmark's
    accuracy at its last evaluated step (views run_status, train_behaviour, eval_scores)."""
    run = store.run(run_id) or {}
    steps = store.rows("SELECT step, accuracy FROM train_behaviour WHERE run_id = ? ORDER BY step DESC LIMIT 10", [run_id])
    evals = store.rows("SELECT benchmark, step, accuracy, problems, samples FROM eval_scores WHERE run_id = ? AND "
                       "step = (SELECT max(step) FROM eval_scores WHERE run_id = ?) ORDER BY benchmark", [run_id, run_id])
    return {"run_id": run_id, "kind": run.get("kind"), "status": run.get("status"),
            "last_step": steps[0]["step"] if steps else None, "train_steps": len(steps),
            "train_accuracy": sum(s["accuracy"] for s in steps) / len(steps) if steps else None, "evals": evals}
