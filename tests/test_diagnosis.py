"""diagnose(): each rule on a run built to show it, with hard negatives that must stay quiet."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from metrics.diagnosis import DiagnosisConfig, diagnose_table, load_config
from metrics.errors import MetricsError, SettingsError
from metrics.schema import concat_tables, make_table


def noise(n: int, seed: int) -> np.ndarray:
    """Standard normal noise from a generator of its own: a test's data does not depend on
    which tests ran before it."""
    return np.random.default_rng(seed).standard_normal(n)


def series(metric: str, split: str, steps, values):
    steps = np.asarray(steps)
    return make_table(
        run="r",
        step=steps,
        split=[split] * len(steps),
        metric=[metric] * len(steps),
        value=np.asarray(values, float),
        wall_time=np.full(len(steps), np.nan),
    )


def run_table(miou, loss=None, lr=None, every=1000, per_eval=20, extra=()):
    """Train loss every every/per_eval steps, an eval each `every` steps."""
    n_eval = len(miou)
    eval_steps = np.arange(1, n_eval + 1) * every
    tsteps = np.arange(1, n_eval * per_eval + 1) * (every // per_eval)
    if loss is None:
        loss = 2.0 * np.exp(-tsteps / (every * n_eval / 4)) + 0.3
    if callable(loss):
        loss = loss(tsteps)
    parts = [series("miou", "val", eval_steps, miou), series("loss", "train", tsteps, loss)]
    if lr is not None:
        parts.append(series("lr", "train", tsteps, lr(tsteps) if callable(lr) else lr))
    parts.extend(extra)
    return concat_tables(parts)


def codes(d):
    return [f.code for f in d.findings]


def rising(n=12, top=0.7, sd=0.0, seed=0):
    x = np.arange(1, n + 1)
    return top * (1 - np.exp(-x / (n / 2))) + sd * noise(n, seed)


def test_healthy_run_is_ok_without_warnings() -> None:
    d = diagnose_table(run_table(rising()))
    assert d.status == "ok"
    assert not [f for f in d.findings if f.severity != "info"]


def test_plateau_is_stalled_with_evidence_and_checks() -> None:
    miou = np.concatenate([rising(6, 0.55), 0.55 + 0.004 * noise(6, 1)])
    d = diagnose_table(run_table(miou), {"planned_steps": 20000})  # still training
    assert d.status == "stalled"
    f = d.findings[0]
    assert f.code == "miou_plateau" and f.severity == "warning"
    ev = f.evidence
    assert ev["window_evals"] == 5 and ev["window_steps"] == [8000, 12000]
    assert abs(ev["gain"]) <= ev["threshold"]
    assert {
        "slope_per_1k_steps",
        "slope_ci_per_1k_steps",
        "mann_kendall_p",
        "evals_since_best",
    } <= set(ev)
    assert f.checks and f.steps == (8000, 12000)


def test_plateau_with_lr_at_floor_puts_learning_rate_first() -> None:
    miou = np.array([0.3, 0.4, 0.47, 0.52, 0.545, 0.546, 0.545, 0.547, 0.546, 0.545, 0.546, 0.546])
    lr = lambda s: np.where(s < 5000, 0.01, 1e-5)  # noqa: E731
    d = diagnose_table(run_table(miou, lr=lr))
    plateau = next(f for f in d.findings if f.code == "miou_plateau")
    assert plateau.checks[0] == "learning_rate"
    exhausted = next(f for f in d.findings if f.code == "lr_exhausted")
    assert exhausted.evidence["floor_step"] == 5000
    assert exhausted.evidence["decayed_early"] is True


def test_flat_loss_with_rising_miou_is_not_a_stall() -> None:
    n = 12
    loss = lambda s: np.where(s < 2000, 2.0 - s / 2000, 1.0) + 0.01 * noise(len(s), 2)  # noqa: E731
    d = diagnose_table(run_table(np.linspace(0.3, 0.62, n), loss=loss))
    assert d.status == "ok"
    assert "loss_flat_miou_rising" in codes(d)
    assert next(f for f in d.findings if f.code == "loss_flat_miou_rising").severity == "info"


def test_noisy_but_improving_run_is_not_flagged() -> None:
    x = np.arange(20)
    miou = 0.3 + 0.02 * x + 0.012 * noise(20, 3)
    d = diagnose_table(run_table(miou))
    assert d.status == "ok", [f.message for f in d.findings]


def test_nan_loss_is_diverging() -> None:
    loss = lambda s: np.where(s > 6000, np.nan, 1.0)  # noqa: E731
    d = diagnose_table(run_table(rising(), loss=loss))
    assert d.status == "diverging"
    f = d.findings[0]
    assert f.code == "loss_nonfinite" and f.severity == "critical"
    assert f.evidence["first_step"] == 6050 and f.checks[0] == "learning_rate"


def test_exploding_loss_is_diverging() -> None:
    loss = lambda s: np.where(s < 6000, 2.0 * np.exp(-s / 1500) + 0.2, 0.2 + (s - 6000) / 500)  # noqa: E731
    d = diagnose_table(run_table(rising(), loss=loss))
    assert d.status == "diverging" and "loss_explosion" in codes(d)


def test_overfitting_reports_the_checkpoint_to_keep() -> None:
    miou = [0.3, 0.42, 0.5, 0.55, 0.58, 0.6, 0.59, 0.56, 0.53, 0.5, 0.48, 0.46]
    d = diagnose_table(run_table(np.array(miou)))
    assert d.status == "overfitting"
    f = next(f for f in d.findings if f.code == "overfitting")
    assert f.evidence["best_step"] == 6000 and "step 6000" in f.message
    assert f.checks == ("augmentation", "regularization")
    assert "miou_plateau" not in codes(d)


def test_drop_without_falling_train_loss_is_not_overfitting() -> None:
    miou = [0.3, 0.42, 0.5, 0.55, 0.58, 0.6, 0.59, 0.56, 0.53, 0.5, 0.48, 0.46]
    d = diagnose_table(run_table(np.array(miou), loss=lambda s: np.full(len(s), 0.5)))
    assert "overfitting" not in codes(d)


def per_class(names_values, every=1000):
    return [series(f"iou/{n}", "val", np.arange(1, len(v) + 1) * every, v) for n, v in names_values]


def test_dead_class_is_named() -> None:
    n = 8
    extra = per_class([("road", np.linspace(0.5, 0.9, n)), ("bicycle", np.zeros(n))])
    d = diagnose_table(run_table(rising(n), extra=extra))
    f = next(f for f in d.findings if f.code == "dead_class")
    assert f.evidence["classes"] == ["bicycle"] and "'bicycle'" in f.message
    assert f.checks == ("labels", "class_balance")


def test_majority_class_at_the_end_is_a_warning_and_early_only_is_info() -> None:
    n = 8
    aacc = series("aacc", "val", np.arange(1, n + 1) * 1000, np.full(n, 0.98))
    stuck = diagnose_table(run_table(np.full(n, 0.49), extra=[aacc]), {"num_classes": 2})
    f = next(f for f in stuck.findings if f.code == "majority_class")
    assert f.severity == "warning"
    recovering = np.array([0.49, 0.6, 0.7, 0.75, 0.8, 0.82, 0.85, 0.87])
    early = diagnose_table(run_table(recovering, extra=[aacc]), {"num_classes": 2})
    f = next(f for f in early.findings if f.code == "majority_class")
    assert f.severity == "info" and f.evidence["recovered_step"] == 2000


def test_uniform_prediction_at_ln_c() -> None:
    c = 19
    loss = lambda s: math.log(c) + 0.01 * noise(len(s), 4)  # noqa: E731
    d = diagnose_table(run_table(np.full(8, 0.02), loss=loss), {"num_classes": c})
    assert "uniform_prediction" in codes(d) and d.status == "stalled"


def test_absent_classes_jump() -> None:
    n = 8
    a = np.linspace(0.5, 0.6, n)
    b = np.where(np.arange(n) < 4, np.nan, 0.9)
    extra = per_class([("a", a), ("b", b)])
    miou = np.nanmean(np.vstack([a, b]), axis=0)
    d = diagnose_table(run_table(miou, extra=extra))
    f = next(f for f in d.findings if f.code == "absent_classes")
    assert f.evidence["step"] == 5000 and f.evidence["classes_after"] == 2


def test_stuck_process_needs_a_planned_end_and_silence() -> None:
    t = run_table(rising())
    meta = {"planned_steps": 40000}
    quiet = diagnose_table(t, meta, updated=1000.0, now=1000.0 + 3600)
    assert "stuck_process" in codes(quiet)
    fresh = diagnose_table(t, meta, updated=1000.0, now=1000.0 + 60)
    assert "stuck_process" not in codes(fresh)
    done = diagnose_table(t, {"planned_steps": 12000}, updated=1000.0, now=1e9)
    assert "stuck_process" not in codes(done)


def test_no_validation_metric_is_no_eval_with_how_to_evaluate() -> None:
    t = series("loss", "train", np.arange(1, 100), np.linspace(2, 1, 99))
    d = diagnose_table(t, format="paddleseg")
    assert d.status == "no_eval" and codes(d) == ["no_eval"]
    assert (
        "only the training loss" in d.findings[0].message and "--do_eval" in d.findings[0].message
    )


def test_too_few_evals_give_no_verdict() -> None:
    d = diagnose_table(run_table(np.array([0.3, 0.3, 0.3])))
    assert d.status == "ok" and not [f for f in d.findings if f.severity != "info"]


def test_thresholds_from_a_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "segwatch.toml"
    cfg.write_text("[diagnosis]\nwindow = 8\nz = 3.0\n")
    loaded = load_config(cfg, min_evals=9)
    assert loaded == DiagnosisConfig(window=8, z=3.0, min_evals=9)
    cfg.write_text("[diagnosis]\nwindw = 8\n")
    with pytest.raises(MetricsError, match="unknown setting"):
        load_config(cfg)
    cfg.write_text("[diagnosis\n")
    with pytest.raises(MetricsError, match="not valid TOML"):
        load_config(cfg)


# ---- finished runs, lifecycle, root cause, broken evaluation --------------------------------


def stamped(table, start: float = 1.6e9, every: float = 60.0):
    """The table with wall times, one ``every`` seconds per row, from ``start``."""
    return table.assign(wall_time=start + every * np.arange(len(table), dtype=float))


def test_a_finished_flat_run_is_converged_not_stalled() -> None:
    miou = np.concatenate([rising(8, 0.55), 0.55 + 0.003 * noise(8, 5)])
    d = diagnose_table(run_table(miou), {"planned_steps": 16000})
    assert d.status == "converged"
    (f,) = [f for f in d.findings if f.code == "converged"]
    assert f.severity == "info" and f.evidence["finished_because"].startswith("reached")
    share = f.evidence["share_of_schedule_flat"]
    assert 0 < share < 1 and f"{share:.0%}" in f.message and "miou_plateau" not in codes(d)
    assert f.evidence["noise"] != f.evidence["threshold"] != f.evidence["gain"]


def test_a_finished_run_still_rising_gets_the_gain_of_a_longer_schedule() -> None:
    x = np.arange(1, 16)
    miou = 0.3 + 0.35 * (1 - np.exp(-x / 12)) + 0.002 * noise(15, 6)
    d = diagnose_table(run_table(miou), {"planned_steps": 15000})
    assert d.status == "ok"
    f = next(f for f in d.findings if f.code == "still_improving")
    assert "25% more iterations" in f.message
    assert f.evidence["forecast_low"] <= f.evidence["forecast"] <= f.evidence["forecast_high"]
    assert f.evidence["forecast"] > miou[-1] - 0.01


def test_a_log_copied_long_after_it_stopped_is_stopped_early_not_stuck() -> None:
    """Its file is new (a copy), its own time stamps are years old: judged by the stamps."""
    t = stamped(run_table(rising()))
    now = float(t["wall_time"].max()) + 3 * 365 * 86400
    d = diagnose_table(t, {"planned_steps": 13000}, updated=now - 700, now=now)
    assert d.status == "stopped" and codes(d)[0] == "stopped_early"
    f = d.findings[0]
    assert "Stopped at step 12000 of 13000 (92%)" in f.message
    assert "no new record" not in f.message


def test_a_run_silent_for_minutes_with_fresh_stamps_is_stuck() -> None:
    t = stamped(run_table(rising()), start=1.7e9)
    last = float(t["wall_time"].max())
    d = diagnose_table(t, {"planned_steps": 40000}, updated=last, now=last + 3600)
    assert d.status == "stopped" and "stuck_process" in codes(d)
    assert "No new record for 1 h 0 min" in d.findings[0].message


def test_a_run_without_a_plan_that_is_no_longer_written_is_finished() -> None:
    miou = np.concatenate([rising(8, 0.55), 0.55 + 0.003 * noise(8, 7)])
    t = stamped(run_table(miou))
    now = float(t["wall_time"].max()) + 5 * 86400
    assert diagnose_table(t, updated=now - 5 * 86400, now=now).status == "converged"
    assert diagnose_table(run_table(miou)).status == "stalled"  # nothing says it ended


def poly_lr(total: int, peak: float = 0.01, floor: float = 1e-4, power: float = 0.9):
    """MMSegmentation's PolyLR: from ``peak`` down to ``eta_min`` = ``floor`` at ``total``."""
    return lambda t: (peak - floor) * (1 - np.minimum(t, total) / total) ** power + floor


def test_a_poly_lr_that_ran_down_to_its_floor_ends_the_run() -> None:
    """No time stamps, no plan, a file changed just now (a fresh copy): the schedule's end says
    the run finished. The same run half-way through its schedule is still live."""
    miou = np.concatenate([rising(8, 0.55), 0.55 + 0.003 * noise(8, 5)])
    done = diagnose_table(run_table(miou, lr=poly_lr(16000)), updated=1e9, now=1e9 + 5)
    assert done.status == "converged"
    (f,) = [f for f in done.findings if f.code == "converged"]
    assert f.evidence["finished_because"] == "its learning rate ran down to the end of its schedule"
    half = diagnose_table(run_table(miou, lr=poly_lr(32000)), updated=1e9, now=1e9 + 5)
    assert half.status == "stalled"
    # with a plan of 32000 steps, the same lr reached its floor far too early: still training
    early = diagnose_table(
        run_table(miou, lr=poly_lr(16000)), {"planned_steps": 32000}, updated=1e9, now=1e9 + 5
    )
    assert early.status == "stalled" and not early.findings[0].evidence.get("finished_because")


@pytest.mark.parametrize(
    ("values", "ended"),
    [
        (poly_lr(40000)(np.arange(50, 40001, 50)), True),  # eta_min 1e-4: 1 % of the peak
        (poly_lr(40000, floor=0.0)(np.arange(50, 40001, 50)), True),
        # MMSeg's LinearLR warm-up from 1e-6 × the lr, then the poly decay to eta_min
        (np.r_[np.linspace(1e-8, 0.01, 30), poly_lr(40000)(np.arange(1550, 40001, 50))], True),
        (poly_lr(40000)(np.arange(50, 39001, 50)), False),  # 97.5 % of the way: 3.7 %
        (np.repeat([0.01, 0.001, 0.0001], [50, 30, 20]), False),  # steps: sits at its floor
        (np.full(100, 0.01), False),
        (np.array([0.01, 1e-5, 1e-6]), False),  # too short to say
    ],
)
def test_lr_ran_out_is_the_end_of_a_decay(values, ended) -> None:
    from metrics.diagnosis.rules_process import lr_ran_out

    assert lr_ran_out(np.asarray(values, float)) is ended


def test_an_exponential_blow_up_is_an_explosion_not_spikes() -> None:
    """Detectron2-like: 0.4 → 5e6 over the last 60 % of the run."""
    s = np.arange(20, 20001, 20)
    loss = np.where(s < 8000, 0.4 + 1.5 * np.exp(-s / 1500), 0.4 * np.exp((s - 8000) / 700))
    parts = [series("loss", "train", s, loss), series("miou", "val", [5000, 10000], [0.3, 0.1])]
    d = diagnose_table(concat_tables(parts))
    assert loss[-1] > 5e6
    assert d.status == "diverging" and codes(d)[0] == "loss_explosion"
    assert d.findings[0].severity == "critical" and "loss_spikes" not in codes(d)


def test_collapse_after_a_good_peak_is_diverging_and_folds_what_follows() -> None:
    miou = np.array([0.3, 0.45, 0.55, 0.6, 0.62, 0.63, 0.05, 0.04, 0.04, 0.04, 0.04, 0.04])
    extra = per_class([("road", np.r_[np.linspace(0.5, 0.9, 6), np.full(6, 0.1)]),
                       ("car", np.r_[np.linspace(0.3, 0.6, 6), np.zeros(6)])])  # fmt: skip
    d = diagnose_table(run_table(miou, extra=extra), {"planned_steps": 20000})
    assert d.status == "diverging" and codes(d)[0] == "miou_collapse"
    assert d.findings[0].evidence["collapse_step"] == 7000
    assert "dead_class" in d.findings[0].evidence["consequences"]
    assert not [f.code for f in d.findings[1:] if f.severity != "info"]  # no separate causes


def test_a_class_absent_at_every_eval_with_mIoU_100_is_a_broken_evaluation() -> None:
    n = 6
    extra = per_class([("background", np.full(n, 1.0)), ("digits", np.full(n, np.nan))])
    d = diagnose_table(run_table(np.full(n, 1.0), extra=extra), {"planned_steps": 6000})
    assert d.status == "broken_eval"
    f = d.findings[0]
    assert f.code == "broken_eval" and f.severity == "critical" and f.checks[0] == "labels"
    assert "'digits'" in f.message and "converged" not in codes(d)


def test_a_class_never_in_the_val_set_is_a_warning_and_the_ignore_class_is_not() -> None:
    n = 8
    extra = per_class(
        [
            ("unlabeled", np.full(n, np.nan)),
            ("road", np.linspace(0.5, 0.9, n)),
            ("car", np.linspace(0.2, 0.6, n)),
            ("tunnel", np.full(n, np.nan)),
        ]
    )
    d = diagnose_table(run_table(rising(n), extra=extra))
    f = next(f for f in d.findings if f.code == "class_never_evaluated")
    assert f.severity == "warning" and f.evidence["classes"] == ["tunnel"]
    assert d.status == "attention"  # a warning never sits under a green "ok"


def test_a_high_lr_at_a_plateau_puts_learning_rate_first() -> None:
    miou = np.array([0.3, 0.42, 0.5, 0.47, 0.51, 0.34, 0.49, 0.5, 0.33, 0.47, 0.5, 0.35])
    d = diagnose_table(run_table(miou, lr=lambda s: 0.01 * (1 - 0.12 * s / s.max())))
    f = next(f for f in d.findings if f.code in ("miou_plateau", "converged"))
    assert f.checks[0] == "learning_rate"


def test_every_status_is_explained_and_every_code_declared_once() -> None:
    from metrics.diagnosis import CODES, STATUS_MEANING, STATUS_ORDER

    assert set(STATUS_MEANING) == set(STATUS_ORDER)
    for code in CODES.values():
        assert code.status is None or code.status in STATUS_ORDER
        assert code.when


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('window = "5"', r"\[diagnosis\] window must be an integer, got '5' \(str\)"),
        ("z = true", r"\[diagnosis\] z must be a number, got True"),
        ("window = 2.5", r"window must be an integer, got 2.5"),
        ("lr_floor = 1.5", r"lr_floor must be between"),
        ("min_evals = -1", r"min_evals must be between"),
    ],
)
def test_bad_settings_are_named_with_what_was_expected(tmp_path: Path, line, message) -> None:
    cfg = tmp_path / "segwatch.toml"
    cfg.write_text(f"[diagnosis]\n{line}\n")
    with pytest.raises(SettingsError, match=message):
        load_config(cfg)


def test_a_float_setting_takes_an_integer() -> None:
    assert load_config(None, z=2).z == 2.0
    with pytest.raises(SettingsError, match="--window must be an integer"):
        load_config(None, window=5.5)


def test_an_empty_run_is_waiting_for_data() -> None:
    from metrics.schema import empty_table

    d = diagnose_table(empty_table())
    assert d.status == "no_eval" and codes(d) == ["waiting_for_data"]
