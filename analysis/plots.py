"""The report's figures: one function each, taking what analysis/data.py returns and returning a
matplotlib Figure (not pyplot's global state, so the report can draw many in one process and a
notebook shows the returned figure as it is).

    fig = plots.history_heatmap(data.history(store, run_id)); fig.savefig("heatmap.png")

Each title says what is shown; axes carry their unit. Numbers are only drawn, never computed here.
"""

# One colour per sweep group, fixed so that the same group has the same colour in every report.
GROUP_COLORS = {"1-shot": "#1f77b4", "few-shot": "#9467bd", "random": "#7f7f7f", "bottom": "#d62728",
                "full-pool": "#2ca02c", "format-reward": "#ff7f0e"}
PI_COLOR = "#d62728"
DPI = 110


def _figure(width: float, height: float, cols: int = 1, **grid):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, cols, **grid) if cols > 1 else fig.subplots()
    return fig, axes


def _pct_axis(axis) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _pi(name: str) -> str:
    """'pi13' -> 'π13' for display (the store and the CLI spell it pi13)."""
    return "π" + name[2:] if name.startswith("pi") and name[2:].isdigit() else name


def _short(x: str, n: int = 14) -> str:
    return x if len(x) <= n else x[: n - 1] + "…"


def history_heatmap(h: dict, top: int = 16):
    """Training accuracy of every example at every epoch, examples sorted by score (pi1 on top),
    with the top `top` enlarged on the right."""
    import numpy as np
    from matplotlib import colormaps

    cmap = colormaps["viridis"].with_extremes(bad="#dddddd")  # grey: epochs an example sat out
    n, n_epochs = h["acc"].shape
    top = min(top, n)
    fig, (whole, zoom) = _figure(12, 6.2, cols=2, width_ratios=[3, 2])
    im = whole.imshow(np.ma.masked_invalid(h["acc"]), aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                      extent=(0.5, n_epochs + 0.5, n + 0.5, 0.5))
    whole.set_xlabel("epoch" if h["kind"] != "imported" else "appearance in training (epoch)")
    whole.set_ylabel(f"example rank by {h['score']} score (π1 at the top)")
    whole.set_title(f"All {n:,} examples of {h['pool']}: training accuracy per epoch")
    from matplotlib.patches import Rectangle

    whole.add_patch(Rectangle((0.5, 0.5), n_epochs, top, fill=False, edgecolor=PI_COLOR, linewidth=2))
    whole.annotate(f"π1..π{top} (enlarged on the right)", xy=(n_epochs / 2 + 0.5, top + 0.5), xytext=(n_epochs / 2 + 0.5, 0.12 * n),
                   ha="center", fontsize=9, color=PI_COLOR, arrowprops={"arrowstyle": "->", "color": PI_COLOR},
                   bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": PI_COLOR})
    zoom.imshow(np.ma.masked_invalid(h["acc"][:top]), aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest",
                extent=(0.5, n_epochs + 0.5, top + 0.5, 0.5))
    zoom.set_yticks(range(1, top + 1), [f"π{h['ranks'][k]}  id {_short(str(h['ids'][k]))}" for k in range(top)], fontsize=8)
    zoom.set_xlabel(whole.get_xlabel())
    zoom.set_title(f"π1..π{top} ({h['score']} score in brackets)")
    if n_epochs <= 12:  # few epochs: the values fit in the cells
        for k in range(top):
            for e in range(n_epochs):
                v = h["acc"][k, e]
                if not np.isnan(v):
                    zoom.text(e + 1, k + 1, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.6 else "black")
    right = zoom.secondary_yaxis("right")
    right.set_yticks(range(1, top + 1), [f"({h['values'][k]:.3f})" for k in range(top)], fontsize=8)
    for ax in (whole, zoom):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.colorbar(im, ax=[whole, zoom], label="training accuracy (share of rollouts correct)", shrink=0.8, pad=0.02)
    fig.suptitle(f"History heatmap: run {h['run_id']}", fontsize=12)
    return fig


def score_distribution(h: dict, top: int = 16):
    """The score of every example with the top `top` marked, and the 90% bootstrap rank interval
    of pi1..pi<top>."""
    import numpy as np

    top = min(top, len(h["ids"]))
    fig, (dist, ci) = _figure(12, 5, cols=2)
    values = h["values"][np.isfinite(h["values"])]
    dist.hist(values, bins=40, color="#8fa9c8", edgecolor="white")
    dist.set_yscale("log")
    dist.set_xlabel(f"{h['score']} score")
    dist.set_ylabel("examples (log scale)")
    threshold = h["values"][top - 1]
    dist.axvline(threshold, color=PI_COLOR, linestyle="--", linewidth=1)
    dist.plot(h["values"][:top], np.full(top, 0.8), "|", color=PI_COLOR, markersize=14, markeredgewidth=1.5,
              transform=dist.get_xaxis_transform(), label=f"π1..π{top}")
    dist.legend(loc="upper right", frameon=False)
    dist.set_title(f"Score distribution over {len(values):,} examples (dashed: π{top}'s score)")

    ranks = np.arange(1, top + 1)
    has_ci = all(x is not None for x in h["ci_low"][:top])
    if has_ci:
        lo = np.array(h["ci_low"][:top], dtype=float)
        hi = np.array(h["ci_high"][:top], dtype=float)
        ci.hlines(ranks, lo, hi, color="#555555", linewidth=2)
    ci.plot(h["ranks"][:top], ranks, "o", color=PI_COLOR)
    ci.set_xscale("log")
    ci.set_xlim(0.8, max(len(h["ids"]) * 1.2, 20))
    ci.set_yticks(ranks, [f"π{r}" for r in h["ranks"][:top]], fontsize=8)
    ci.invert_yaxis()
    ci.set_xlabel("rank (log scale)")
    ci.set_title("Rank with its 90% bootstrap interval over epochs" if has_ci else "Rank (no bootstrap interval stored)")
    ci.grid(axis="x", alpha=0.3)
    fig.suptitle(f"Scores of run {h['run_id']}", fontsize=12)
    return fig


def score_comparison(c: dict, top: int = 16):
    """Each pair of scores as a scatter of ranks, with Spearman's rho and the shared top-16."""
    pairs = list(c["spearman"])
    fig, axes = _figure(4.2 * len(pairs), 4.4, cols=len(pairs))
    axes = [axes] if len(pairs) == 1 else list(axes)
    first = c["ranks"][pairs[0][0]] if pairs else None
    n = len(c["ids"])
    for ax, (a, b) in zip(axes, pairs):
        ra, rb = c["ranks"][a], c["ranks"][b]
        picked = first <= top
        ax.scatter(ra[~picked], rb[~picked], s=4, alpha=0.35, color="#4c72b0", linewidths=0)
        ax.scatter(ra[picked], rb[picked], s=14, color=PI_COLOR, label=f"{pairs[0][0]} top {top}")
        ax.set_xlabel(f"rank by {a}")
        ax.set_ylabel(f"rank by {b}")
        ax.set_xlim(0, n + 1)
        ax.set_ylim(0, n + 1)
        ax.set_aspect("equal")
        ax.set_title(f"{a} vs {b}: Spearman ρ = {c['spearman'][(a, b)]:+.2f}\nshared top {top}: "
                     f"{c['top_overlap'][(a, b)]}/{top}", fontsize=10)
    axes[0].legend(loc="lower right", fontsize=8, frameon=True)
    fig.suptitle(f"Score comparison: ranks of the same {n:,} examples (1 = best), run {c['run_id']}", fontsize=12)
    return fig


def post_saturation(t: dict):
    """A run's training accuracy on its own example(s) and its test accuracy over steps on one
    plot (the paper's Fig. 2 shape: test accuracy keeps rising after training saturates)."""
    fig, ax = _figure(9, 5)
    if t["examples"]:
        for e in t["examples"]:
            name = f"{_pi(e['pi'])} (id {e['example_id']})" if e["pi"] else f"id {e['example_id']}"
            ax.plot(e["steps"], e["acc"], linewidth=1, alpha=0.8, label=f"training accuracy on {name}")
    else:
        ax.plot(t["train_steps"], t["train_acc"], linewidth=1, label="training accuracy over the batch")
    if len(t["eval_steps"]):
        ax.plot(t["eval_steps"], t["eval_average"], "o-", color="black", linewidth=2,
                label=f"test accuracy ({t['benchmarks']}, avg@{t['samples']})")
    if t["saturation_step"] is not None:
        ax.axvline(t["saturation_step"], color="#888888", linestyle="--", linewidth=1)
        ax.annotate(f"training saturates\n(step {t['saturation_step']}: 5-step mean ≥ 90%)", xy=(t["saturation_step"], 0.03),
                    xytext=(6, 0), textcoords="offset points", fontsize=8, color="#555555",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
    ax.set_ylim(0, 1.02)
    _pct_axis(ax.yaxis)
    ax.set_xlabel("training step")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    # Below the axes: inside, any corner can hide the saturation label or a curve.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
    ax.set_title(f"Post-saturation generalization: {t['kind'].replace('_', '-')} run {t['run_id']}", fontsize=11)
    return fig


def sweep_bars(s: dict):
    """Final test accuracy of every planned item of a sweep, mean and sd over seeds, against the
    base model."""
    import numpy as np
    from matplotlib.patches import Patch

    rows = [r for r in s["rows"] if r["final"] is not None]
    fig, ax = _figure(9, max(2.5, 0.38 * len(rows) + 1.6))
    if not rows:
        ax.text(0.5, 0.5, "no run of this sweep has been evaluated yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    y = np.arange(len(rows))
    finals = np.array([r["final"] for r in rows])
    sds = np.array([r["final_sd"] if r["final_sd"] is not None else 0.0 for r in rows])
    colors = [GROUP_COLORS.get(r["grp"], "#17becf") for r in rows]
    ax.barh(y, finals, xerr=sds, color=colors, capsize=3, height=0.7)
    for k, r in enumerate(rows):
        ax.text(finals[k] + sds[k] + 0.005, k, f"{100 * finals[k]:.1f}%  (n={r['finished']})", va="center", fontsize=8)
    ax.set_yticks(y, [_pi(r["label"]) for r in rows], fontsize=9)
    ax.invert_yaxis()
    handles = [Patch(color=GROUP_COLORS.get(g, "#17becf"), label=g) for g in dict.fromkeys(r["grp"] for r in rows)]
    if s["base"] is not None:
        handles.append(ax.axvline(s["base"], color="black", linestyle="--", linewidth=1, label=f"base model {100 * s['base']:.1f}%"))
    ax.set_xlim(0, min(1.0, max(finals + sds) + 0.15))
    _pct_axis(ax.xaxis)
    ax.set_xlabel(f"final test accuracy ({s['benchmarks']}); bars: mean over seeds, whiskers: sd")
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.set_title(f"Sweep {s['sweep']}: 1-shot vs few-shot vs baselines", fontsize=11)
    return fig


def behaviour(b: dict):
    """Completion length, policy entropy and self-reflection over training (the paper's Fig. 4)."""
    import numpy as np

    fig, (length, entropy, reflect) = _figure(13, 4.2, cols=3)
    if len(b["train_steps"]):
        length.plot(b["train_steps"], b["train_tokens"], linewidth=1, label="training rollouts")
    if len(b["eval_steps"]):
        length.plot(b["eval_steps"], b["eval_tokens"], "o-", color="black", label="test completions")
    length.set_xlabel("training step")
    length.set_ylabel("mean completion length (tokens)")
    length.set_title("Completion length")
    length.legend(fontsize=8)
    if len(b["train_steps"]) and np.isfinite(b["entropy"]).any():
        entropy.plot(b["train_steps"], b["entropy"], linewidth=1, color="#2ca02c")
    else:
        entropy.text(0.5, 0.5, "no entropy logged", ha="center", va="center", transform=entropy.transAxes)
    entropy.set_xlabel("training step")
    entropy.set_ylabel("mean token entropy (nats)")
    entropy.set_title("Policy entropy on training rollouts")
    if len(b["eval_steps"]):
        reflect.plot(b["eval_steps"], b["eval_reflection_rate"], "o-", color="#9467bd", label="test completions")
    if len(b["train_steps"]):
        reflect.plot(b["train_steps"], b["train_reflection_rate"], linewidth=1, color="#c5b0d5", label="training rollouts")
    rates = np.concatenate([b["eval_reflection_rate"], b["train_reflection_rate"]])
    if not np.nansum(rates):
        reflect.text(0.5, 0.5, "no self-reflection word in any completion", ha="center", va="center",
                     transform=reflect.transAxes, fontsize=9)
    top = np.nanmax(rates) if len(rates) and np.isfinite(rates).any() else 0
    reflect.set_ylim(0, max(0.05, 1.2 * top))
    _pct_axis(reflect.yaxis)
    reflect.set_xlabel("training step")
    reflect.set_ylabel("completions with a self-reflection word")
    reflect.set_title('"rethink", "recheck", "recalculate", ...')
    reflect.legend(fontsize=8, loc="upper left")
    for ax in (length, entropy, reflect):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Behaviour over training: run {b['run_id']}", fontsize=12)
    return fig


def save(fig, path) -> None:
    """Write a figure as PNG and free it (a report draws many)."""
    fig.savefig(path, dpi=DPI)
    fig.clear()


STRATUM_COLORS = {"top": "#1f77b4", "middle": "#7f7f7f", "bottom": "#d62728", "planted": "#ff7f0e"}


def validation_scatter(v: dict):
    """Each sampled example's 1-shot gain (mean and sd over seeds) against its rank in the ranking
    the sample was drawn from; the correlations of every score with the gain beside it."""
    import numpy as np

    fig, (ax, bars) = _figure(12, max(4.6, 0.3 * len(v["correlations"]) + 1.5), cols=2, width_ratios=[3, 2])
    ex = [e for e in v["examples"] if e["gain"] is not None and e["rank"] is not None]
    for stratum, color in STRATUM_COLORS.items():
        pts = [e for e in ex if e["stratum"] == stratum]
        if pts:
            ax.errorbar([e["rank"] for e in pts], [e["gain"] for e in pts],
                        yerr=[e["gain_sd"] or 0.0 for e in pts], fmt="o", color=color, capsize=3, label=stratum)
    for e in ex:
        ax.annotate(_pi(e["label"]), (e["rank"], e["gain"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"rank by {v['score']} (1 = π1; {v['ranked']} ranked)")
    ax.set_ylabel("1-shot gain in test accuracy")
    _pct_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("1-shot gain per sampled example (mean ± sd over seeds)", fontsize=10)
    corr = v["correlations"]
    y = np.arange(len(corr))
    rho = np.array([np.nan if c["spearman"] is None else c["spearman"] for c in corr])
    lo = np.array([np.nan if c["ci_low"] is None else c["ci_low"] for c in corr])
    hi = np.array([np.nan if c["ci_high"] is None else c["ci_high"] for c in corr])
    ok = ~np.isnan(rho)
    bars.errorbar(rho[ok], y[ok], xerr=[np.where(np.isnan(lo), 0, rho - lo)[ok], np.where(np.isnan(hi), 0, hi - rho)[ok]],
                  fmt="s", color="black", capsize=3)
    for k in np.flatnonzero(~ok):
        bars.text(0, y[k], "no data", ha="center", va="center", fontsize=8, color="#777777")
    bars.set_yticks(y, [f"{c['score']} ({c['gain']})" for c in corr], fontsize=9)
    bars.axvline(0, color="black", linewidth=0.8)
    bars.set_xlim(-1.05, 1.05)
    bars.set_xlabel("Spearman's ρ with the gain (90% bootstrap CI)")
    bars.grid(alpha=0.3)
    bars.set_title("Does the score predict the gain?", fontsize=10)
    fig.suptitle(f"Validation {v['validation']}", fontsize=12)
    return fig
