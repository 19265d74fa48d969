-- The store's views: every derived number, defined once. DuckDB SQL over the Parquet shards.
--
-- `{root}` stands for the store directory: the package's readers put its absolute path there
-- (selector/store/store.py), and the copy written into each store as views.sql has `.`, so that
-- `cd STORE && duckdb -init views.sql` opens the same views in the duckdb CLI.
--
-- Public API (documented in README, stable across versions; query them with `selector sql`):
--   tables (facts, append-only): runs, run_events, history_import, rankings, sweeps
--   rollouts, eval_samples, metrics          latest attempt of each (run, step)
--   rollouts_all, eval_samples_all, metrics_all   every attempt
--   run_status (with `stale`), run_leases, epoch_accuracy, example_order, step_accuracy, scores
--   eval_problems, eval_scores, eval_average, run_eval_summary, pass_at_k(n, c, k)
--   sweep_results, sweep_summary, sweep_base, run_results
--   train_behaviour, eval_behaviour, run_saturation, reflection_words(text)
--   eval_format, run_format_summary, run_post_saturation, sweep_detail, sweep_base_formatted
--   validations, validation_gain, validation_latest
-- Anything else is internal.

-- The rows of a table: every part file of every shard, less the parts a compacted file replaces.
-- `select compact` (selector/store/compact.py) merges a shard's parts P1..Pn into one file named
-- `<the largest part name>~compacted.parquet`, renames it into place, then deletes P1..Pn. Until
-- they are gone, the parts it replaces are listed in the variable `rlvr_hidden_parts` (full
-- paths), which our readers set on every connection (Store.connect); a filter on the file name
-- alone prunes whole files, so it costs nothing per row. Unset (the duckdb CLI), no part is hidden:
-- the CLI sees a killed compaction's replaced parts until the next `select compact` removes them.
CREATE OR REPLACE MACRO facts(pattern) AS TABLE
SELECT * EXCLUDE (filename) FROM read_parquet(pattern, union_by_name = true, filename = true)
WHERE NOT coalesce(list_contains(getvariable('rlvr_hidden_parts'), filename), false);

CREATE OR REPLACE VIEW runs AS FROM facts('{root}/runs/*/*.parquet');
CREATE OR REPLACE VIEW run_events AS FROM facts('{root}/run_events/*/*.parquet');
CREATE OR REPLACE VIEW history_import AS FROM facts('{root}/history_import/*/*.parquet');
CREATE OR REPLACE VIEW metrics_all AS FROM facts('{root}/metrics/*/*.parquet');
CREATE OR REPLACE VIEW rankings AS FROM facts('{root}/rankings/*/*.parquet');
CREATE OR REPLACE VIEW rollouts_all AS FROM facts('{root}/rollouts/*/*.parquet');
CREATE OR REPLACE VIEW eval_samples_all AS FROM facts('{root}/eval_samples/*/*.parquet')
UNION ALL BY NAME SELECT NULL::BOOLEAN AS correct_paper, NULL::VARCHAR AS extracted_paper WHERE false;

-- A resumed run may record a step again: keep the latest attempt's rows for each (run, step).
CREATE OR REPLACE MACRO latest_attempt(name) AS TABLE
SELECT * EXCLUDE (last_attempt) FROM (
    SELECT *, max(attempt) OVER (PARTITION BY run_id, step) AS last_attempt FROM query_table(name)
) WHERE attempt = last_attempt;
CREATE OR REPLACE VIEW rollouts AS FROM latest_attempt('rollouts_all');
CREATE OR REPLACE VIEW eval_samples AS FROM latest_attempt('eval_samples_all');
CREATE OR REPLACE VIEW metrics AS FROM latest_attempt('metrics_all');

-- A running run's lease, <store>/leases/<run_id>.json (written by the run while it runs): the
-- latest heartbeat (unix seconds) and how often it beats. read_text, not read_json: no lease
-- file (or no leases folder) is no row, not an error; a file that is not JSON is left out.
CREATE OR REPLACE VIEW run_leases AS
SELECT json_extract_string(content, '$.run_id') AS run_id,
       max(TRY_CAST(json_extract(content, '$.heartbeat_unix') AS DOUBLE)) AS heartbeat_unix,
       max(TRY_CAST(json_extract(content, '$.interval') AS DOUBLE)) AS "interval"
FROM read_text('{root}/leases/*.json') WHERE json_valid(content) GROUP BY ALL;

-- Each run with its latest status (events are appended; ties broken by status text). A run whose
-- latest event is `running` is `stale` when its process is gone (killed without a word) or hung:
-- its lease has not beaten for 4 intervals (selector/store/lease.py takes such a lease over), or
-- it has no lease and started more than 120 s ago (4 x lease.DEFAULT_INTERVAL: a run holds its
-- lease before its `running` event until after its last one; a run from before leases has none).
CREATE OR REPLACE VIEW run_status AS
SELECT r.*, CASE WHEN e.status = 'running' AND (l.heartbeat_unix < epoch(now()) - 4 * l."interval"
                                               OR l.run_id IS NULL AND epoch(e.event_time) < epoch(now()) - 120)
                 THEN 'stale' ELSE e.status END AS status,
       e.event_time AS updated_at, e.detail
FROM runs r LEFT JOIN (
    SELECT * FROM run_events QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY event_time DESC, status DESC) = 1
) e USING (run_id) LEFT JOIN run_leases l USING (run_id);

-- Training accuracy of each example at each epoch, from recorded rollouts and imported histories.
-- For an imported history an "epoch" is an appearance (the authors' loader drops the last
-- partial batch every epoch, so an example can sit an epoch out).
CREATE OR REPLACE VIEW epoch_accuracy AS
SELECT run_id, example_id, epoch, count_if(correct) AS n_correct, count(*) AS n, avg(correct::DOUBLE) AS acc
FROM rollouts GROUP BY run_id, example_id, epoch
UNION ALL BY NAME
SELECT run_id, example_id, epoch, CAST(round(acc * n) AS BIGINT) AS n_correct, CAST(n AS BIGINT) AS n, acc
FROM history_import;

-- The order in which each run first met each example: the tie-break of every ranking.
CREATE OR REPLACE VIEW example_order AS
SELECT run_id, example_id, CAST(min(first_seen) AS BIGINT) AS first_seen FROM history_import GROUP BY run_id, example_id
UNION ALL BY NAME
SELECT run_id, example_id,
       row_number() OVER (PARTITION BY run_id ORDER BY min(step), arg_min(batch_index, step), example_id) - 1 AS first_seen
FROM rollouts GROUP BY run_id, example_id;

-- Columns added to a table after a store was made are NULL in its older parts (BY NAME adds them).
CREATE OR REPLACE VIEW sweeps AS FROM facts('{root}/sweeps/*/*.parquet')
UNION ALL BY NAME SELECT NULL::BOOLEAN AS dry_run WHERE false;

-- Unbiased pass@k from n samples of which c are correct (Chen et al. 2021, "Evaluating Large
-- Language Models Trained on Code"): 1 - C(n-c, k) / C(n, k), computed as their numerically
-- stable product 1 - prod(1 - k/i) over i = n-c+1 .. n. NULL when k > n.
CREATE OR REPLACE MACRO pass_at_k(n, c, k) AS
    CASE WHEN k > n THEN NULL WHEN n - c < k THEN 1.0
         ELSE 1.0 - coalesce(list_product(list_transform(range(CAST(n - c + 1 AS BIGINT), CAST(n + 1 AS BIGINT)), lambda i: 1.0 - k / i)), 1.0) END;

-- Which verdict every evaluation number below reads: `strict` (the grader, as the training reward;
-- the default) or `paper` (the authors' evaluation, to set beside the paper's tables). A session
-- switches all of them at once: SET VARIABLE rlvr_grading_mode = 'paper' (`select results --mode
-- paper` does). In paper mode a sample the paper's rules do not grade (the toy benchmark) counts
-- nowhere: such a benchmark has no paper score.
CREATE OR REPLACE MACRO verdict(strict, paper) AS
    CASE coalesce(getvariable('rlvr_grading_mode'), 'strict') WHEN 'paper' THEN paper ELSE strict END;

-- Each evaluated problem at each step: n samples (graded in the chosen mode), c correct.
CREATE OR REPLACE VIEW eval_problems AS
SELECT run_id, step, benchmark, problem_id, count(verdict(correct, correct_paper)) AS n,
       count_if(verdict(correct, correct_paper)) AS c, min(grader_version) AS grader_version
FROM eval_samples GROUP BY run_id, step, benchmark, problem_id HAVING count(verdict(correct, correct_paper)) > 0;

-- Each benchmark's score at each step: accuracy = the mean over problems of c/n (avg@n, which is
-- pass@1; the paper's "avg@8"), and pass@n with n the samples per problem. Other k:
-- SELECT avg(pass_at_k(n, c, 4)) FROM eval_problems WHERE ...
CREATE OR REPLACE VIEW eval_scores AS
SELECT run_id, step, benchmark, count(*) AS problems, min(n) AS samples, avg(c / n) AS accuracy,
       avg(pass_at_k(n, c, n)) AS pass_at_n, min(grader_version) AS grader_version
FROM eval_problems GROUP BY run_id, step, benchmark;

-- The average over benchmarks at each step (the paper's "average of the six").
CREATE OR REPLACE VIEW eval_average AS
SELECT run_id, step, count(*) AS n_benchmarks, string_agg(benchmark, ',' ORDER BY benchmark) AS benchmarks, avg(accuracy) AS accuracy
FROM eval_scores GROUP BY run_id, step;

-- Each run's evaluation in brief: before training (step 0), at its last evaluated step, and at
-- its best step (the earliest of equals).
CREATE OR REPLACE VIEW run_eval_summary AS
WITH a AS (SELECT *, max(accuracy) FILTER (WHERE step > 0) OVER (PARTITION BY run_id) AS top FROM eval_average)
SELECT run_id, any_value(benchmarks) AS benchmarks,
       max(accuracy) FILTER (WHERE step = 0) AS base,
       arg_max(accuracy, step) FILTER (WHERE step > 0) AS final, max(step) FILTER (WHERE step > 0) AS final_step,
       any_value(top) AS best, min(step) FILTER (WHERE step > 0 AND accuracy = top) AS best_step
FROM a GROUP BY run_id;

-- Every planned run of every sweep with its status and evaluation summary.
CREATE OR REPLACE VIEW sweep_results AS
SELECT s.sweep, s.position, s.label, s.grp, s.seed, s.run_id, coalesce(r.status, 'planned') AS status,
       e.benchmarks, e.base, e.final, e.final_step, e.best, e.best_step
FROM sweeps s LEFT JOIN run_status r USING (run_id) LEFT JOIN run_eval_summary e USING (run_id);

-- Every run with its status and evaluation summary (`select results` before any sweep).
CREATE OR REPLACE VIEW run_results AS
SELECT r.run_id, r.kind, r.pool, r.status, r.created_at, TRY_CAST(json_extract_string(r.config, '$.seed') AS BIGINT) AS seed,
       array_to_string(TRY_CAST(json_extract(r.config, '$.examples') AS VARCHAR[]), ',') AS examples,
       e.benchmarks, e.base, e.final, e.final_step, e.best, e.best_step
FROM run_status r LEFT JOIN run_eval_summary e USING (run_id);

-- A sweep in the paper's table form: each planned item (pi1, the set pi1+pi13, random, bottom, full
-- pool, ...) over its seeds; mean and sample standard deviation over the seeds that have evals.
CREATE OR REPLACE VIEW sweep_summary AS
SELECT sweep, min(position) AS position, label, grp, count(*) AS runs, count_if(status = 'finished') AS finished,
       any_value(benchmarks) AS benchmarks, avg(base) AS base, avg(final) AS final, stddev_samp(final) AS final_sd,
       avg(best) AS best, stddev_samp(best) AS best_sd
FROM sweep_results GROUP BY sweep, label, grp;

-- The base model of a sweep: the mean of its runs' evaluations before training (step 0).
CREATE OR REPLACE VIEW sweep_base AS
SELECT sweep, avg(base) AS base, count(*) AS runs, any_value(benchmarks) AS benchmarks
FROM sweep_results WHERE base IS NOT NULL GROUP BY sweep;

-- Training accuracy of each example at each step: a 1-shot run's curve on its own example.
CREATE OR REPLACE VIEW step_accuracy AS
SELECT run_id, step, example_id, count_if(correct) AS n_correct, count(*) AS n, avg(correct::DOUBLE) AS acc
FROM rollouts GROUP BY run_id, step, example_id;

-- Self-reflection words in a completion (the paper's Fig. 4 counts "rethink", "recheck" and
-- "recalculate"; re-evaluate, re-examine and double-check are the same behaviour in other words).
-- Counted case-insensitively, each occurrence once, with or without a hyphen ("re-check").
CREATE OR REPLACE MACRO reflection_words(text) AS
    len(regexp_extract_all(lower(text), '\b(re-?think|re-?check|re-?calculat|re-?evaluat|re-?examin|double[- ]?check)'));

-- Each run's training behaviour per step: from its rollouts (accuracy over the batch, completion
-- length, self-reflection) and from the trainer's logged metrics (policy entropy, KL, loss).
CREATE OR REPLACE VIEW train_behaviour AS
WITH r AS (
    SELECT run_id, step, count(*) AS rollouts, avg(correct::DOUBLE) AS accuracy, avg(completion_tokens) AS completion_tokens,
           avg(reflection_words(completion)) AS reflection_words, avg((reflection_words(completion) > 0)::DOUBLE) AS reflection_rate
    FROM rollouts GROUP BY run_id, step
), m AS (
    SELECT run_id, step, any_value(value) FILTER (WHERE name = 'entropy') AS entropy, any_value(value) FILTER (WHERE name = 'kl') AS kl,
           any_value(value) FILTER (WHERE name = 'loss') AS loss
    FROM metrics GROUP BY run_id, step
)
SELECT * FROM r LEFT JOIN m USING (run_id, step);

-- Each run's test completions per evaluated step and benchmark: length and self-reflection.
CREATE OR REPLACE VIEW eval_behaviour AS
SELECT run_id, step, benchmark, count(*) AS completions, avg(completion_tokens) AS completion_tokens,
       avg(reflection_words(completion)) AS reflection_words, avg((reflection_words(completion) > 0)::DOUBLE) AS reflection_rate
FROM eval_samples GROUP BY run_id, step, benchmark;

-- The step at which a run's training accuracy saturates: the first step whose accuracy over its
-- batch, averaged over that step and the 4 before it, reaches 90%. NULL if it never does.
CREATE OR REPLACE VIEW run_saturation AS
SELECT run_id, min(step) FILTER (WHERE smoothed >= 0.9) AS saturation_step FROM (
    SELECT run_id, step, avg(accuracy) OVER (PARTITION BY run_id ORDER BY step ROWS BETWEEN 4 PRECEDING AND CURRENT ROW) AS smoothed
    FROM train_behaviour
) GROUP BY run_id;

-- The latest ranking of each (run, score); `select rank` appends rankings, never edits them.
CREATE OR REPLACE VIEW scores AS
SELECT * FROM rankings WHERE ranking_id IN (
    SELECT ranking_id FROM (SELECT DISTINCT run_id, score, ranking_id, created_at FROM rankings)
    QUALIFY row_number() OVER (PARTITION BY run_id, score ORDER BY created_at DESC, ranking_id DESC) = 1
);

-- Each benchmark at each step: the share of answers in the right format (a boxed answer the
-- grader could extract) and the accuracy among them. The paper's point that the 1-shot gain is
-- beyond format: accuracy among formatted answers rises too, not only the share formatted.
CREATE OR REPLACE VIEW eval_format AS
SELECT run_id, step, benchmark, count(*) AS samples, avg(formatted::DOUBLE) AS formatted_rate,
       avg(correct::DOUBLE) FILTER (WHERE formatted) AS accuracy_formatted
FROM eval_samples GROUP BY run_id, step, benchmark;

-- Each run's accuracy among formatted answers (averaged over benchmarks) before training and at
-- its last evaluated step, and the share formatted then.
CREATE OR REPLACE VIEW run_format_summary AS
WITH a AS (SELECT run_id, step, avg(accuracy_formatted) AS accuracy_formatted, avg(formatted_rate) AS formatted_rate
           FROM eval_format GROUP BY run_id, step)
SELECT run_id, max(accuracy_formatted) FILTER (WHERE step = 0) AS base_formatted,
       arg_max(accuracy_formatted, step) FILTER (WHERE step > 0) AS final_formatted,
       max(formatted_rate) FILTER (WHERE step = 0) AS base_formatted_rate,
       arg_max(formatted_rate, step) FILTER (WHERE step > 0) AS final_formatted_rate
FROM a GROUP BY run_id;

-- Post-saturation generalization (the paper's Fig. 2): the test accuracy at the first evaluated
-- step at or after the run's training accuracy saturated (run_saturation), at its last evaluated
-- step, and the difference (NULL where the run never saturated).
CREATE OR REPLACE VIEW run_post_saturation AS
SELECT s.run_id, s.saturation_step, min(a.step) FILTER (WHERE a.step >= s.saturation_step) AS at_step,
       arg_min(a.accuracy, a.step) FILTER (WHERE a.step >= s.saturation_step) AS at_saturation,
       arg_max(a.accuracy, a.step) AS final,
       arg_max(a.accuracy, a.step) - arg_min(a.accuracy, a.step) FILTER (WHERE a.step >= s.saturation_step) AS after_saturation
FROM run_saturation s JOIN eval_average a USING (run_id)
WHERE s.saturation_step IS NOT NULL GROUP BY s.run_id, s.saturation_step;

-- Every planned 1-shot run of every sweep with its gain: final test accuracy minus the base model's
-- (the mean of the sweep's evaluations before training, sweep_base), the same for the best
-- evaluated step, and the final gain among formatted answers. `select validate` averages them per
-- example over seeds.
CREATE OR REPLACE VIEW validation_gain AS
WITH fb AS (SELECT s.sweep, avg(f.base_formatted) AS base_formatted FROM sweeps s JOIN run_format_summary f USING (run_id)
            GROUP BY s.sweep)
SELECT r.sweep, r.position, r.label, r.grp, r.seed, r.run_id, r.status, json_extract_string(s.examples, '$[0]') AS example_id,
       r.final, r.best, b.base, r.final - b.base AS gain, r.best - b.base AS gain_best, f.final_formatted, fb.base_formatted,
       f.final_formatted - fb.base_formatted AS gain_formatted
FROM sweep_results r JOIN sweeps s USING (sweep, run_id) LEFT JOIN sweep_base b USING (sweep)
LEFT JOIN run_format_summary f USING (run_id) LEFT JOIN fb USING (sweep)
WHERE json_array_length(s.examples) = 1;

CREATE OR REPLACE VIEW validations AS SELECT * FROM read_parquet('{root}/validations/*/*.parquet', union_by_name = true);

-- The latest computation of each validation's correlations.
CREATE OR REPLACE VIEW validation_latest AS
SELECT * FROM validations QUALIFY rank() OVER (PARTITION BY validation ORDER BY created_at DESC) = 1;

-- A sweep's planned items over seeds, beyond final accuracy: accuracy among formatted answers at
-- the last evaluated step (mean, sd), and post-saturation generalization: over the runs whose
-- training accuracy saturated, the mean saturation step and the mean change in test accuracy from
-- the first evaluation at or after it to the last one.
CREATE OR REPLACE VIEW sweep_detail AS
SELECT r.sweep, r.label, r.grp, avg(f.final_formatted) AS final_formatted, stddev_samp(f.final_formatted) AS final_formatted_sd,
       avg(f.final_formatted_rate) AS final_formatted_rate, count(p.run_id) AS saturated,
       avg(p.saturation_step) AS saturation_step, avg(p.after_saturation) AS after_saturation,
       stddev_samp(p.after_saturation) AS after_saturation_sd
FROM sweep_results r LEFT JOIN run_format_summary f USING (run_id) LEFT JOIN run_post_saturation p USING (run_id)
GROUP BY r.sweep, r.label, r.grp;

-- The base model of a sweep among formatted answers (mean of its runs' step-0 evaluations).
CREATE OR REPLACE VIEW sweep_base_formatted AS
SELECT s.sweep, avg(f.base_formatted) AS base_formatted, avg(f.base_formatted_rate) AS base_formatted_rate
FROM sweeps s JOIN run_format_summary f USING (run_id) WHERE f.base_formatted IS NOT NULL GROUP BY s.sweep;
