"""analyze_actor.py follows the identity lineage: from a user to the sessions it minted, from a
session key to who is behind it."""
import analyze_actor
from conftest import build_case
from identity_fixtures import escalation_records


def report_text(tmp_path):
    return sorted((tmp_path / "reports").glob("actor_report-*.md"))[-1].read_text()


def test_user_shows_the_sessions_that_came_from_it(tmp_path):
    db = build_case(tmp_path, escalation_records())
    assert analyze_actor.main(["analyze_actor.py", str(db), "arn:aws:iam::111122223333:user/mallory"]) == 0
    text = report_text(tmp_path)
    lineage = text[text.index("## Identity lineage"):text.index("## Summary")]
    assert "ASIAESCALATED0000001" in lineage and "AdminRole" in lineage


def test_session_key_shows_who_is_behind_it(tmp_path):
    db = build_case(tmp_path, escalation_records())
    assert analyze_actor.main(["analyze_actor.py", str(db), "ASIAESCALATED0000001"]) == 0
    text = report_text(tmp_path)
    lineage = text[text.index("## Identity lineage"):text.index("## Summary")]
    row = next(line for line in lineage.splitlines() if line.startswith("| `ASIAESCALATED0000001`"))
    assert "AssumeRole at" in row and row.index("user/mallory") < row.index("role/AdminRole")


def test_placeholder_is_not_an_actor(tmp_path, capsys):
    db = build_case(tmp_path, escalation_records())
    assert analyze_actor.main(["analyze_actor.py", str(db), "HIDDEN_DUE_TO_SECURITY_REASONS"]) == 2
    assert "not a principal" in capsys.readouterr().err
