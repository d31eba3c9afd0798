"""The whole job on the generated sample tree: generate, ingest, hunt. Every event of every
planted attack must end up behind a finding, and a rerun must add nothing."""
import sys

from conftest import REPO, ingest, stored

sys.path.insert(0, str(REPO / "samples"))
import generate_sample_logs  # noqa: E402

import analyze_hunt  # noqa: E402

# The log-quality incident shows deduplication (a record delivered twice, one without
# eventID); it is benign and no detection is meant to fire on it.
NOT_ATTACKS = {"log-quality"}


def test_hunt_finds_every_planted_attack_event(tmp_path, capsys):
    logs = tmp_path / "logs"
    assert generate_sample_logs.main(["generate_sample_logs.py", str(logs), "3000"]) == 0
    db = tmp_path / "case.db"
    assert ingest(db, logs) == 0
    assert analyze_hunt.main(["analyze_hunt.py", str(db)]) == 0
    assert "crashed" not in capsys.readouterr().err
    covered = {event_id for (ids,) in stored(db, "select event_ids from findings") for event_id in ids}
    planted = generate_sample_logs.planted_incidents(1)
    # The attacker's ordinary calls (unflagged) are not behind a finding but inside the attack's
    # incident; the owner's routine that sets the scene is behind no identity finding.
    missed = {incident.key: sorted(set(incident.event_ids) - covered - set(incident.unflagged) - set(incident.routine))
              for incident in planted if incident.key not in NOT_ATTACKS}
    assert {key: ids for key, ids in missed.items() if ids} == {}
    in_incidents = {event_id for (event_id,) in stored(db, "select event_id from incident_events")}
    assert {i for incident in planted for i in incident.unflagged} - in_incidents == set()
    identity_flagged = {event_id for (ids,) in stored(db, "select event_ids from findings where detector = 'identity'")
                        for event_id in ids}
    assert {i for incident in planted for i in incident.routine} & identity_flagged == set()
    # The first incident is a planted attack, not the owners' routine.
    [(top,)] = stored(db, "select event_ids from incidents where rank = 1")
    attacks = {i for incident in planted if incident.key not in NOT_ATTACKS for i in incident.event_ids}
    assert set(top) & attacks
    assert list((tmp_path / "reports").glob("hunt_report-*.md"))
    # The same tree again: every file recognised, nothing new stored.
    before = stored(db, "select count(*) from events")
    assert ingest(db, logs) == 0
    assert stored(db, "select count(*) from events") == before
