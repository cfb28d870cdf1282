"""metrics.alerts: what needs attention, when to alert, the message, and the saved state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.alerts import (
    ALERT_STATUSES,
    QUIET_STATUSES,
    AlertPolicy,
    AlertState,
    Condition,
    Delivery,
    RunRecord,
    compose,
    condition_of,
    decide,
    default_state_path,
    delivered,
    load_state,
    run_page_url,
    save_state,
    state_lock,
    status_alerts,
    target_key,
)
from metrics.diagnosis import Finding, RunDiagnosis
from metrics.errors import AlertStateError, MetricsError
from metrics.runs import RunSummary

PLATEAU = Finding(
    "miou_plateau",
    "warning",
    "mIoU has not improved beyond noise for 5 evaluations.",
    {},
    ("learning_rate", "iterations"),
    (600, 1000),
)
NAN = Finding(
    "loss_nonfinite", "critical", "The loss became NaN at step 1800.", {}, ("data_pipeline",)
)
STUCK = Finding("stuck_process", "warning", "No new record for 2 h.", {}, ("data_pipeline",))
DEAD = Finding("dead_class", "warning", "Class 'road' has IoU 0.", {}, ("labels",))


def diag(status: str, *findings: Finding) -> RunDiagnosis:
    return RunDiagnosis(status, findings)  # type: ignore[arg-type]


def cond(status: str, *findings: Finding) -> Condition:
    return condition_of(diag(status, *findings))


# -- which diagnoses are worth an alert --------------------------------------------------------


def test_alerting_statuses_and_quiet_ones() -> None:
    assert cond("stalled", PLATEAU).items == ("stalled",)
    assert cond("diverging", NAN).items == ("diverging",)
    assert cond("overfitting").items == ("overfitting",)
    assert cond("stopped", STUCK).items == ("stopped",)  # statuses the diagnosis is learning
    assert cond("broken_eval").items == ("broken_eval",)
    assert cond("ok").items == () and not cond("ok").alerting
    assert cond("no_eval").items == ()
    assert cond("converged").items == ()
    assert cond("attention", DEAD).items == ()  # a warning for the dashboard, not an alert
    assert not ALERT_STATUSES & QUIET_STATUSES


def test_a_finding_alerts_when_the_status_does_not() -> None:
    assert cond("ok", STUCK).items == ("stuck_process",)
    assert cond("stalled", PLATEAU, STUCK).items == ("stalled",)  # the status tells already
    assert cond("ok", DEAD).items == ()  # a dead class alone is shown, not alerted


def test_a_critical_finding_behind_a_quiet_status_alerts() -> None:
    broken = Finding("eval_on_train_set", "critical", "Validation mIoU equals train mIoU.")
    assert cond("ok", broken).items == ("eval_on_train_set",)
    assert cond("converged", broken, DEAD).items == ("eval_on_train_set",)
    assert cond("diverging", NAN).items == ("diverging",)  # told by the status already


def test_an_unknown_status_alerts_only_with_a_serious_finding() -> None:
    assert status_alerts("exploding", [NAN])
    assert not status_alerts("exploding", [])
    info = Finding("absent_classes", "info", "Two classes never appear.")
    assert not status_alerts("exploding", [info])
    assert cond("exploding", NAN).items == ("exploding",)


# -- transitions -------------------------------------------------------------------------------

POLICY = AlertPolicy(min_gap_s=600.0)


def test_a_run_already_stalled_alerts_once_then_not_while_it_stays() -> None:
    d = decide("r", Delivery(), cond("stalled", PLATEAU), 0.0, POLICY)
    assert d.alert is not None and d.alert.kind == "entered" and d.alert.items == ("stalled",)
    record = delivered(d.alert, 0.0)
    assert record == Delivery(("stalled",), 0.0)
    for t in (10.0, 5000.0):
        again = decide("r", record, cond("stalled", PLATEAU), t, POLICY)
        assert again.alert is None and again.held_until is None and again.record == record


def test_a_healthy_run_sends_nothing() -> None:
    d = decide("r", Delivery(), cond("ok"), 0.0, POLICY)
    assert d.alert is None and d.record == Delivery()


def test_moving_to_another_attention_status_alerts_with_the_new_item() -> None:
    record = Delivery(("stalled",), 0.0)
    d = decide("r", record, cond("diverging", NAN), 5000.0, POLICY)
    assert d.alert is not None and d.alert.items == ("diverging",)
    assert delivered(d.alert, 5000.0).notified == ("diverging",)


def test_recovery_is_sent_only_when_asked_for() -> None:
    record = Delivery(("stalled",), 0.0)
    quiet = decide("r", record, cond("ok"), 5000.0, POLICY)
    assert quiet.alert is None and quiet.record.notified == ()  # a relapse will alert again
    loud = decide("r", record, cond("ok"), 5000.0, AlertPolicy(600.0, recoveries=True))
    assert loud.alert is not None and loud.alert.kind == "recovered"
    assert loud.alert.items == ("stalled",)
    assert delivered(loud.alert, 5000.0) == Delivery((), 5000.0)


def test_a_flapping_run_sends_at_most_one_alert_per_gap_about_its_latest_state() -> None:
    policy = AlertPolicy(min_gap_s=600.0, recoveries=True)
    record, sent = Delivery(), []
    timeline = [(0, "stalled"), (60, "ok"), (120, "stalled"), (180, "ok"), (700, "ok")]
    for t, status in timeline:
        d = decide("r", record, cond(status, PLATEAU) if status != "ok" else cond("ok"), t, policy)
        record = d.record
        if d.alert is not None:
            sent.append((t, d.alert.kind))
            record = delivered(d.alert, t)
        elif status == "ok" and t < 600:
            assert d.held_until == 600.0  # the recovery waits for the gap
    assert sent == [(0, "entered"), (700, "recovered")]


def test_a_flap_back_to_what_was_told_sends_nothing() -> None:
    policy = AlertPolicy(min_gap_s=600.0, recoveries=True)
    record = Delivery(("stalled",), 0.0)
    assert decide("r", record, cond("ok"), 60.0, policy).held_until == 600.0
    back = decide("r", record, cond("stalled", PLATEAU), 700.0, policy)
    assert back.alert is None and back.held_until is None


def test_an_undelivered_alert_is_derived_again_at_the_next_pass() -> None:
    d = decide("r", Delivery(), cond("stalled", PLATEAU), 0.0, POLICY)
    assert d.alert is not None
    retry = decide("r", d.record, cond("stalled", PLATEAU), 60.0, POLICY)  # not delivered
    assert retry.alert is not None and retry.alert.items == ("stalled",)


def test_zero_gap_never_holds() -> None:
    record = Delivery(("stalled",), 100.0)
    d = decide("r", Delivery((), 100.0), cond("stalled", PLATEAU), 100.0, AlertPolicy(0.0))
    assert d.alert is not None
    assert decide("r", record, cond("ok"), 100.0, AlertPolicy(0.0, True)).alert is not None


# -- the message -------------------------------------------------------------------------------

SUMMARY = RunSummary("a b/c", "/logs/a b/c", "mmseg1-json", 100, 1000, 0.5213, 600, 0.52, 10)


def test_message_names_run_status_finding_first_check_best_miou_and_link() -> None:
    alert = decide("a b/c", Delivery(), cond("stalled", PLATEAU), 0.0, POLICY).alert
    assert alert is not None
    msg = compose(alert, SUMMARY, "http://gpu-box:8501/")
    assert "a b/c" in msg.title and "stalled" in msg.title
    lines = msg.body.splitlines()
    assert "a b/c" in lines[0] and "stalled" in lines[0]
    assert lines[1] == PLATEAU.message
    assert lines[2].startswith("First check — Learning rate")
    assert "0.5213 @ step 600" in msg.body
    assert lines[-1] == "Open: http://gpu-box:8501/run?run=a%20b%2Fc"


def test_message_shows_the_finding_behind_a_finding_item() -> None:
    alert = decide("r", Delivery(), cond("ok", DEAD, STUCK), 0.0, POLICY).alert
    assert alert is not None and alert.items == ("stuck_process",)
    msg = compose(alert)
    assert STUCK.message in msg.body and DEAD.message not in msg.body
    assert "stuck process" in msg.title
    assert "no validation mIoU" in msg.body and "Open:" not in msg.body


def test_recovery_message() -> None:
    policy = AlertPolicy(0.0, recoveries=True)
    alert = decide("r", Delivery(("diverging",), 0.0), cond("ok"), 1.0, policy).alert
    assert alert is not None
    msg = compose(alert, SUMMARY)
    assert "recovered" in msg.title and "diverging cleared" in msg.body


def test_run_page_url_quotes_the_name() -> None:
    assert run_page_url("http://h:8501", "x&y=1#z") == "http://h:8501/run?run=x%26y%3D1%23z"


# -- the state file ----------------------------------------------------------------------------


def test_state_round_trip_and_atomic_write(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    assert load_state(path).runs == {}  # no file yet: nothing sent
    state = AlertState(
        {
            "r": RunRecord("stalled", ("stalled",), None, {"k": Delivery(("stalled",), 12.5)}),
            "u": RunRecord(None, (), "file.log: not a log", {}),
        }
    )
    save_state(path, state)
    assert load_state(path) == state
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temp file left
    assert json.loads(path.read_text())["version"] == 1


def test_a_corrupt_state_raises_an_actionable_error(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    for text in ("{not json", '{"version": 1}', "[]", '{"version": 99, "runs": {}}'):
        path.write_text(text)
        with pytest.raises(AlertStateError, match="delete it") as info:
            load_state(path)
        assert isinstance(info.value, MetricsError)


def test_an_unwritable_state_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(AlertStateError, match="--state"):
        save_state(blocker / "state.json", AlertState())


def test_state_keys_hide_the_urls(tmp_path: Path) -> None:
    url = "slack://TokenA/TokenB/TokenC/#ml"
    key = target_key(url)
    assert key == target_key(url) and key != target_key(url + "x") and "Token" not in key


def test_default_state_path_is_per_logdir_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    a = default_state_path("runs/a")
    assert a.parent == tmp_path / "segwatch" and a.suffix == ".json"
    assert a != default_state_path("runs/b")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert ".cache" in default_state_path("runs/a").parts


def test_one_watcher_per_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    held = state_lock(path)
    held.__enter__()
    with pytest.raises(AlertStateError, match="in use by another"), state_lock(path):
        pass  # pragma: no cover - a second holder never gets here
    held.__exit__(None, None, None)
    with state_lock(path):  # released when the holder is done
        pass
