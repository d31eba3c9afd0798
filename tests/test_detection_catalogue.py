"""Every detection of every area: well-formed metadata, unique ids, rule files that load and run
as they are in DuckDB after their area's views on an empty case, and a README that lists them."""
import duckdb
import pytest

import casedb
import detections
import rules
from conftest import REPO

AREAS = [rules.load_area(name) for name in rules.AREAS]
ALL = [(area, detection) for area in AREAS for detection in area.detections]
RULE_FILES = sorted(path for name in rules.AREAS for path in (REPO / "rules" / name).glob("*.sql")
                    if path.name != "views.sql")


def test_every_area_loads_and_there_are_rule_areas():
    assert [area.name for area in AREAS] == list(rules.AREAS)
    assert {"console_logins", "recon"} <= {path.parent.name for path in RULE_FILES}


@pytest.mark.parametrize("area, detection", ALL, ids=[d.id for _, d in ALL])
def test_metadata_is_complete(area, detection):
    assert detections.check_detection(detection) == []


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file_header(path):
    detection = rules.load_rule(path, __import__(f"rules.{path.parent.name}", fromlist=["AREA"]))
    assert detection.id == path.stem
    assert detection.rule and detection.references and detection.status in detections.STATUSES
    # The engine reads the rule's columns from its last select; they must be what DuckDB returns.
    assert set(detections.rule_columns(detection.sql)) >= set(detections.RULE_REQUIRED)


def test_ids_are_unique_across_areas():
    ids = [d.id for _, d in ALL]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("broken, problem", [
    ("id: Root_Login\n", "id must be lowercase"),
    ("severity: urgent\n", "severity 'urgent'"),
    ("mitre: [T10]\n", "MITRE ids"),
    ("description: Finds things\n", "must start with 'Detects '"),
    ("triage: [only one]\n", "two to four triage"),
    ("status: maybe\n", "status 'maybe'"),
    ("python: no_such_function\n", "python: no_such_function"),
    ("colour: blue\n", "unknown field colour"),
])
def test_a_bad_header_is_refused_with_the_reason(tmp_path, broken, problem):
    source = (REPO / "rules" / "console_logins" / "console_mfa_failed.sql").read_text()
    header = _drop_block(source.split("*/")[0], broken.split(":")[0]) + broken
    path = tmp_path / "console_mfa_failed.sql"
    path.write_text(header + "*/" + source.split("*/", 1)[1])
    if broken.startswith("id:"):
        path = path.rename(tmp_path / "Root_Login.sql")
    import rules.console_logins as module
    with pytest.raises(rules.RuleError, match=problem.replace("(", r"\(").replace("[", r"\[")):
        rules.load_rule(path, module)


def _drop_block(header, key):
    """The header without `key` and its indented continuation lines."""
    kept, skipping = [], False
    for line in header.splitlines():
        if line.startswith(f"{key}:"):
            skipping = True
            continue
        if skipping and line.startswith("  "):
            continue
        skipping = False
        kept.append(line)
    return "\n".join(kept) + "\n"


def test_the_file_name_must_be_the_id(tmp_path):
    source = (REPO / "rules" / "console_logins" / "console_mfa_failed.sql").read_text()
    path = tmp_path / "console_mfa_failed_copy.sql"
    path.write_text(source)
    with pytest.raises(rules.RuleError, match="differs from the file name"):
        rules.load_rule(path)


@pytest.mark.parametrize("area", AREAS, ids=[a.name for a in AREAS])
def test_every_detection_runs_on_an_empty_database(area, tmp_path):
    con = casedb.connect(str(tmp_path / "empty.db"), create=True)
    try:
        casedb.ensure_schema(con)
        if area.setup_sql:
            con.execute(area.setup_sql)
        detections.apply_settings(con, area.settings)
        outcomes = detections.run_detections(con, area.detections)
        assert {o.detection.id: o.error for o in outcomes if o.error} == {}
        assert all(o.findings == [] for o in outcomes)
        for detection in area.detections:
            if detection.rule:
                relation = con.sql(detection.sql)
                assert set(relation.columns) == set(detections.rule_columns(detection.sql))
                result = con.execute(detections.rule_query(detection))
            elif detection.sql:
                result = con.execute(detection.sql)
            else:
                continue
            assert tuple(c[0] for c in result.description) == detections.FINDING_COLUMNS
            result.fetchall()
        assert casedb.frame(con, area.activity_sql).empty
    finally:
        con.close()


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_rule_file_runs_as_it_is_after_its_views(path, tmp_path):
    """What an analyst does in the duckdb shell: `.read rules/<area>/views.sql`, set the
    thresholds, then the file itself, comment header and all."""
    db = tmp_path / "empty.db"
    con = casedb.connect(str(db), create=True)
    casedb.ensure_schema(con)
    con.close()
    con = duckdb.connect(str(db))
    try:
        area = rules.load_area(path.parent.name)
        con.execute((path.parent / "views.sql").read_text())
        for setting in area.settings:
            if isinstance(setting.default, tuple):
                con.execute(f"set variable {setting.variable} = ?::varchar[]", [list(setting.default)])
            else:
                con.execute(f"set variable {setting.variable} = ?", [setting.default])
        assert con.execute(path.read_text()).fetchall() == []
    finally:
        con.close()


def test_readme_lists_every_detection():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [d.id for _, d in ALL if f"`{d.id}`" not in readme]
    assert missing == []
