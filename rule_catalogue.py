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
        views = getattr(area, "views_sql", None)
        if views is None:
            path = REPO / "rules" / name / "views.sql"
            views = path.read_text(encoding="utf-8") if path.exists() else ""
        found = AreaRules(area.name, views, setting_values(getattr(area, "settings", ())), area=area)
        for detection in area.detections:
            python = getattr(detection, "python", None) or getattr(detection, "find", None)
            sql = detections.rule_query(detection) if getattr(detection, "sql", "") else None
            if python is not None and not callable(python):
                python = getattr(area.module, python, None) if hasattr(area, "module") else None
            rule = Rule(detection, sql=sql, python=python)
            if python is not None and _needs_connection(python):
                rule.sql, rule.local_reason = None, "its Python function needs the DuckDB connection (fn(con, rows))"
            elif sql is None:
                rule.local_reason = "no SQL part"
            found.rules.append(rule)
        yield found


def _needs_connection(function):
    import inspect
    try:
        return len(inspect.signature(function).parameters) >= 2
    except (TypeError, ValueError):
        return False
