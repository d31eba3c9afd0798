"""Runs the rule files of a rules/<area>/ folder on a case database, as RULES_SPEC.md says a
rule runs: views.sql first, settings as DuckDB variables, then each rule's select, joined with
`events` for the columns every finding shares. Returns {detection id: [findings]}."""
import re
from pathlib import Path

import casedb
import detections

RULES = Path(__file__).resolve().parent.parent / "rules"


def rule_files(area):
    return sorted((RULES / area).glob("*.sql"), key=lambda p: p.name)


def header(path):
    text = path.read_text()
    match = re.match(r"\s*/\*(.*?)\*/(.*)$", text, re.S)
    assert match, f"{path.name}: no YAML header comment"
    fields = dict(re.findall(r"^([a-z_]+):[ \t]*(.*)$", match.group(1), re.M))
    return fields, match.group(2)


def run_area(db_path, area, since=None, until=None):
    import importlib
    module = importlib.import_module(f"rules.{area}")
    con, _ = detections.open_scope(str(db_path), since, until)
    found = {}
    try:
        con.execute((RULES / area / "views.sql").read_text())
        detections.apply_settings(con, module.AREA.settings)
        for path in rule_files(area):
            if path.name == "views.sql":
                continue
            fields, sql = header(path)
            if fields.get("python"):
                continue        # Python rules need the engine (rules package); tested after it lands
            wrapped = f"""
                with r as ({sql})
                select r.*, e.event_time, e.event_name, e.actor, e.error_code
                from r join (select * from events qualify row_number() over (partition by event_id order by event_time) = 1) as e
                  using (event_id)
                order by e.event_time, r.event_id"""
            rows = [dict(zip([d[0] for d in con.description], row)) for row in con.execute(wrapped).fetchall()]
            for row in rows:
                row["event_ids"] = list(row.get("event_ids") or [row["event_id"]])
                row["severity"] = row.get("severity") or fields["severity"]
            found[fields["id"]] = rows
    finally:
        con.close()
    return found


def fired_ids(found, detection_id):
    return {event_id for finding in found[detection_id] for event_id in finding["event_ids"]}
