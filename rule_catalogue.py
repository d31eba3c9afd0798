"""Every detection with what another engine needs to run it: the area's views, its settings'
values, and for each rule the complete SQL the DuckDB engine runs (or why it cannot run
elsewhere). Used by analyze_spark.py, the portability lint and the parity tests, so all three
see the rules exactly as the detectors do.

Reads the rules package (rules/<area>/*.sql, detections.rule_query) when it is there, and the
detector scripts' DETECTIONS and AREA otherwise.
"""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent

# The detections that run on DuckDB only, each with the reason (README, Scaling out, names them
# all). Every other rule must compile to Spark SQL and give the same findings there; the
# portability lint and the parity tests skip exactly these. The goal is none.
LOCAL_ONLY = {
    "admin_policy_attached":
        "its Python function find_admin_policy_attached(con, rows) reads the case's admin evidence "
        "(admin_evidence(con): customer policies and groups seen granting full access) from the DuckDB connection",
    "user_added_to_privileged_group":
        "its Python function find_privileged_group_additions(con, rows) reads the case's admin evidence "
        "(admin_evidence(con)) from the DuckDB connection",
    "iam_user_created_with_admin_or_keys":
        "its Python function find_create_admin_chain(con, rows) runs a second query (the creator's next "
        "steps, CHAIN_SQL) and admin_evidence(con) on the DuckDB connection",
    "bucket_replicated_to_other_account":
        "its Python function find_external_replication(con, rows) looks up destination bucket owners "
        "(bucket_owners(con, ...)) on the DuckDB connection",
}
# The identity area's rules read identity_lineage, identity_networks and identity_agents, which
# lineage.py builds on DuckDB (temporary tables and a recursive walk over the keys); analyze_spark.py
# does not build them yet, and without them these rules would find nothing, silently.
# Their SQL is portable (the lint checks it); they are local-only until the lineage is built on Spark.
NEEDS_LINEAGE = {rule_id: "reads the identity lineage tables, which lineage.py builds on DuckDB only (not yet on Spark)"
                 for rule_id in ("service_credentials_used_outside_service", "session_credentials_used_from_two_networks",
                                 "role_assumed_after_denied_storm", "data_read_by_escalated_session")}
LOCAL_ONLY |= NEEDS_LINEAGE
# Portable SQL (linted, compiles) that Spark cannot run in reasonable memory (yet).
TOO_LARGE_FOR_SPARK = {
    "cloudtrail_trail_updated_to_log_less":
        "Spark local[2] ran out of its 4 GB driver heap after about 6 minutes on this rule over 58 files "
        "(its list of changed settings is one large expression that the rule reads several times)",
}
LOCAL_ONLY |= TOO_LARGE_FOR_SPARK


@dataclass
class Rule:
    detection: object             # detections.Detection (id, title, severity, mitre, ...)
    sql: str = None               # the full SELECT the engine runs; None when it cannot run elsewhere
    python: Callable = None       # fn(rows) applied to the SQL's rows (the rule's Python part)
    local_reason: str = ""        # why the rule runs on DuckDB only


@dataclass
class AreaRules:
    name: str
    setup_sql: str
    variables: dict
    rules: list = field(default_factory=list)
    area: object = None


def setting_values(settings):
    """{variable: default value} as the engine sets them when no environment variable is set."""
    import os

    import common
    values = {}
    for setting in settings:
        if isinstance(setting.default, tuple):
            raw = os.environ.get(setting.env, "")
            values[setting.variable] = ([item.strip() for item in raw.split(",") if item.strip()]
                                        if raw.strip() else list(setting.default))
        else:
            values[setting.variable] = common.env_number(setting.env, setting.default, type(setting.default))
    return values


def areas():
    """[AreaRules] for every area, in the order the hunt runs them."""
    try:
        import rules  # noqa: F401 - the rules package, when this checkout has it
    except ImportError:
        return list(_script_areas())
    return list(_package_areas())


def _script_areas():
    import detections
    for _, module, problem in detections.find_detectors(REPO):
        if module is None:
            continue
        area = module.AREA
        found = AreaRules(area.name, area.setup_sql or "", setting_values(area.settings), area=area)
        for detection in module.DETECTIONS:
            if detection.sql:
                found.rules.append(Rule(detection, sql=detection.sql))
            else:
                found.rules.append(Rule(detection, local_reason="a Python function over the DuckDB connection "
                                                                "(find(con)); runs elsewhere once it is a rule with "
                                                                "`python:` that receives its SQL's rows"))
        yield found


def _package_areas():
    import detections
    import rules
    for name in rules.AREAS:
        area = rules.load_area(name)
        found = AreaRules(area.name, area.setup_sql or "", setting_values(area.settings), area=area)
        for detection in area.detections:
            if getattr(detection, "rule", False) and getattr(detection, "function", None) is not None:
                if _needs_connection(detection.function):
                    # Named in LOCAL_ONLY with its reason; an unlisted one fails the lint and parity tests.
                    found.rules.append(Rule(detection, local_reason=LOCAL_ONLY.get(
                        detection.id, f"its Python function {detection.python}(con, rows) queries the DuckDB "
                                      "connection itself (not listed in rule_catalogue.LOCAL_ONLY)")))
                else:
                    # The SQL gives the candidate rows; the function the findings; the engine's
                    # join (rule_query over python_rule_rows) adds the shared columns.
                    found.rules.append(Rule(detection, sql=detection.sql, python=detection.function))
            elif getattr(detection, "rule", False):
                found.rules.append(Rule(detection, sql=detections.rule_query(detection),
                                        local_reason=(NEEDS_LINEAGE | TOO_LARGE_FOR_SPARK).get(detection.id, "")))
            elif detection.sql:
                found.rules.append(Rule(detection, sql=detection.sql))
            else:
                found.rules.append(Rule(detection, local_reason="a Python function over the DuckDB connection "
                                                                "(find(con)) in a detector script not yet moved to "
                                                                "the rules package"))
        yield found


def python_rule_query(detection):
    """The engine's join for a Python rule's produced rows (a view python_rule_rows with
    event_id, event_ids, summary, python_row), as detections._python_rule_rows runs it."""
    import detections
    shell = detections.Detection(detection.id, detection.title, detection.severity, detection.mitre,
                                 detection.description, detection.false_positives, detection.triage,
                                 sql="select * from python_rule_rows", rule=True)
    return detections.rule_query(shell, ("event_id", "event_ids", "summary", "python_row"), keep=("python_row",))


def _needs_connection(function):
    import inspect
    try:
        return len(inspect.signature(function).parameters) >= 2
    except (TypeError, ValueError):
        return False
