"""Rules on the training process: is the run still written, finished, stuck or stopped early,
and was it evaluated at all.

A run is *finished* when it reached its planned steps, when its log says training ended, when
its learning rate ran down to the end of a decaying schedule, or when it is no longer written.
"No longer written" is judged by the file's modification time and, where the log has them, by
its own time stamps: a copy of an old log is not live just because the copy is new. Time stamps
without a time zone can be hours off, so the log's own clock only counts when it is more than a
day old. A log with no time stamps (MMSeg 1.x ``scalars.json``) copied a minute ago looks live
by its mtime alone; its schedule's end (planned steps from its config or its name, or an lr that
ran down to its floor) still says it finished.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from metrics.diagnosis.config import DiagnosisConfig
from metrics.diagnosis.findings import Finding, FindingCode
from metrics.diagnosis.inputs import EMPTY, Lifecycle, RunSeries
from metrics.diagnosis.registry import rule

STAMP_SLACK_S = 86400.0  # log time stamps carry no time zone: only a day's silence counts
# Poly, cosine and linear schedules end at 0 or at eta_min (MMSeg: 1e-4 of a 0.01 peak, 1 %):
# an lr still falling into ≤ 1 % of its peak at the last record is the schedule's last step.
LR_END_SHARE = 0.0101

STUCK = FindingCode(
    "stuck_process",
    "warning",
    "stopped",
    "no new record for max(`stuck_seconds`, `stuck_intervals` × the median logging interval) "
    "before the planned last step",
)
STOPPED_EARLY = FindingCode(
    "stopped_early",
    "warning",
    "stopped",
    "the log ended short of its planned steps long ago (judged by its own last time stamp)",
)
NO_EVAL = FindingCode(
    "no_eval",
    "info",
    "no_eval",
    "no validation mIoU in the logs: only the loss could be checked (says how to turn "
    "evaluation on for the run's framework)",
)

WAITING = FindingCode(
    "waiting_for_data",
    "info",
    "no_eval",
    "the run's logs hold no record yet (an events file before its writer's first flush)",
)

#: How to turn on evaluation during training, per framework (a run's format family).
EVAL_HOWTO = {
    "paddleseg": "PaddleSeg evaluates only with `--do_eval` (and `--save_interval N`) on "
    "tools/train.py",
    "mmseg": "MMSegmentation evaluates with a `val_dataloader`, `val_evaluator = "
    "dict(type='IoUMetric', iou_metrics=['mIoU'])` and `train_cfg.val_interval` (0.x: "
    "`evaluation = dict(interval=N, metric='mIoU')`)",
    "detectron2": "Detectron2 evaluates with `TEST.EVAL_PERIOD > 0` and a `SemSegEvaluator` "
    "for DATASETS.TEST",
    "hf": "the Trainer evaluates with `eval_strategy='steps'` (or 'epoch'), an `eval_dataset` "
    "and a `compute_metrics` that returns `mean_iou`",
    "lightning": "Lightning logs validation with a `validation_step` that calls "
    "`self.log('val_mIoU', ...)`",
}


@dataclass(frozen=True)
class Clock:
    """The few numbers a run's lifecycle is judged from, apart from the time of judging.

    The diagnosis depends on the clock only through ``lifecycle`` (a run silent too long is no
    longer live) and the silence ``stuck_process`` reports. Kept with a cached diagnosis, these
    let it be judged again at any later time without the run's table (``metrics.runs.cache``).
    """

    updated: float | None  # when the run's files last changed
    last_wall: float | None  # the log's own latest time stamp
    interval: float  # median logging interval (0 when unknown)
    planned: int | None
    last_step: int | None
    ended: bool
    lr_ran_out: bool = False  # the lr ended its decay at the last record

    @staticmethod
    def of(rs: RunSeries) -> Clock:
        walls = np.unique(rs.wall_times)
        interval = float(np.median(np.diff(walls))) if len(walls) > 2 else 0.0
        return Clock(
            rs.updated, rs.last_wall, interval, rs.planned_steps, rs.last_step, rs.ended,
            lr_ran_out(rs.lr.finite.values),
        )  # fmt: skip

    def judge(self, cfg: DiagnosisConfig, now: float | None = None) -> Lifecycle:
        """The lifecycle at ``now`` (see the module doc)."""
        now = time.time() if now is None else now
        limit = max(cfg.stuck_seconds, cfg.stuck_intervals * self.interval)
        silent = None if self.updated is None else max(0.0, now - self.updated)
        stamp_age = None if self.last_wall is None else max(0.0, now - self.last_wall)
        live = not _old_stamps(stamp_age, limit) and (silent is None or silent <= limit)
        planned, last = self.planned, self.last_step
        if planned is not None and last is not None and last >= planned:
            why = f"reached its {planned} planned steps"
        elif self.ended:
            why = "its log says training ended"
        elif self.lr_ran_out and planned is None:  # with a plan, it decayed too early
            why = "its learning rate ran down to the end of its schedule"
        elif not live:
            why = "it is no longer written"
        else:
            return Lifecycle(True, False, "", silent, stamp_age, limit)
        return Lifecycle(live, True, why, silent, stamp_age, limit)

    def series(self, life: Lifecycle) -> RunSeries:
        """A run series with only what ``stuck_process`` reads (no curves)."""
        walls = np.array([self.last_wall]) if self.last_wall is not None else np.empty(0)
        return RunSeries(
            EMPTY, EMPTY, EMPTY, EMPTY, EMPTY, {}, self.planned, None, self.last_step,
            self.updated, walls, self.ended, life=life,
        )  # fmt: skip


def lr_ran_out(lr: np.ndarray) -> bool:
    """The lr fell to ≤ ``LR_END_SHARE`` of its peak at its last record, still falling there:
    the end of a poly/cosine/linear decay. A step schedule that sits at a low lr is not ended."""
    if len(lr) < 4:
        return False
    top = int(np.argmax(lr))  # a warm-up may start lower than the floor: only the decay counts
    peak, last, before = float(lr[top]), float(lr[-1]), float(lr[-2])
    return (
        peak > 0 and last <= LR_END_SHARE * peak and before > last and last <= float(lr[top:].min())
    )


def _old_stamps(stamp_age: float | None, limit: float) -> bool:
    return stamp_age is not None and stamp_age > limit + STAMP_SLACK_S


def life_state(life: Lifecycle) -> tuple[bool, bool, str, bool]:
    """What the findings depend on besides the silence itself: two lifecycles with the same
    state give the same findings, except the numbers ``stuck_process`` reports."""
    return life.live, life.finished, life.why, _old_stamps(life.stamp_age_s, life.limit_s)


def lifecycle(rs: RunSeries, cfg: DiagnosisConfig, now: float | None = None) -> Lifecycle:
    """Whether the run is still written and whether it is finished (see the module doc)."""
    return Clock.of(rs).judge(cfg, now)


@rule(140)
def stuck_process(rs: RunSeries, cfg: DiagnosisConfig) -> list[Finding]:
    """Silent for too long before its planned last step: stuck, recently, or stopped long ago."""
    life, planned, last = rs.life, rs.planned_steps, rs.last_step
    if life.live or planned is None or last is None or last >= planned or rs.ended:
        return []
    share = last / planned if planned else 0.0
    evidence = {
        "last_step": last,
        "planned_steps": planned,
        "share_done": share,
        "silent_seconds": life.silent_s,
        "limit_seconds": life.limit_s,
        "log_stamp_age_seconds": life.stamp_age_s,
    }
    steps = (last, planned)
    stamp_age = life.stamp_age_s
    if _old_stamps(stamp_age, life.limit_s):
        assert rs.last_wall is not None
        when = datetime.fromtimestamp(rs.last_wall, timezone.utc).strftime("%Y-%m-%d")
        return [
            STOPPED_EARLY(
                f"Stopped at step {last} of {planned} ({share:.0%}); its last record is from "
                f"{when}: the run was cut short (killed, crashed or out of time).",
                evidence,
                ("iterations", "data_pipeline"),
                steps,
            )
        ]
    silent = life.silent_s if life.silent_s is not None else 0.0
    return [
        STUCK(
            f"No new record for {duration(silent)} (limit {duration(life.limit_s)}) although "
            f"the run stopped at step {last} of {planned} planned ({share:.0%}).",
            evidence,
            ("data_pipeline",),
            steps,
        )
    ]


def no_eval(rs: RunSeries, cfg: DiagnosisConfig, family: str | None = None) -> list[Finding]:
    """No validation mIoU at all: say that only the loss was checked, and how to evaluate."""
    if len(rs.miou.finite):
        return []
    if rs.last_step is None:
        return [
            WAITING(
                "No record yet: the log is empty, as a writer leaves it until its first flush. "
                "The run is waiting for data.",
                {"records": 0},
            )
        ]
    howto = EVAL_HOWTO.get(family or "", "turn on evaluation of mIoU on a validation set")
    return [
        NO_EVAL(
            "No validation mIoU in the logs: only the training loss could be checked, and a "
            f"flat loss says little in segmentation. To evaluate during training: {howto}.",
            {"framework": family},
            ("iterations",),
        )
    ]


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 20 min', '2 d 5 h'."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
