"""Where outputs go: reports/<database stem>/ beside the database, or CLOUDTRAIL_OUTPUT_DIR as given."""
from pathlib import Path

import analyze_console_logins as console
import common
from conftest import analyst_logs, build_case, event, reports_dir


def sign_ins(user, count):
    return [event("ConsoleLogin", "signin.amazonaws.com", identity={"type": "IAMUser", "userName": user},
                  time=f"2026-11-02T10:{minute:02d}:00Z", sourceIPAddress="203.0.113.90",
                  responseElements={"ConsoleLogin": "Failure"}, errorMessage="Failed authentication",
                  additionalEventData={"MFAUsed": "No"})
            for minute in range(count)]


def test_default_is_reports_stem_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUDTRAIL_OUTPUT_DIR")
    assert common.output_dir(tmp_path / "demo" / "case.db") == (tmp_path / "demo" / "reports" / "case").resolve()
    assert reports_dir(tmp_path / "cases.db").name == "cases"


def test_configured_folder_is_used_as_given(tmp_path, monkeypatch):
    monkeypatch.setenv("CLOUDTRAIL_OUTPUT_DIR", str(tmp_path / "chosen"))
    assert common.output_dir(tmp_path / "case.db") == tmp_path / "chosen"


def test_two_databases_in_one_folder_never_mix_outputs(tmp_path, monkeypatch):
    monkeypatch.delenv("CLOUDTRAIL_OUTPUT_DIR")
    first = build_case(tmp_path, sign_ins("alice", 12), name="first.db")
    second = build_case(tmp_path, sign_ins("bob", 12), name="second.db")
    for db in (first, second):
        assert console.main(["analyze_console_logins.py", str(db)]) == 0
    folders = {db.stem: tmp_path / "reports" / db.stem for db in (first, second)}
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["first", "second"]
    for own, other in (("first", "second"), ("second", "first")):
        folder = folders[own]
        assert len(list(folder.glob("console_logins_report-*.md"))) == 1
        log = analyst_logs(folder)
        assert f"{own}.db" in log and f"{other}.db" not in log
        texts = [path.read_text() for path in folder.glob("*.md")]
        assert all(f"{other}.db" not in text for text in texts)
        assert all(f"{own}.db" in text for text in texts)
