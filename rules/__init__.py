"""The rules package: every area's detections as reviewable files (see rules/README.md).

AREAS is the explicit list of areas, in the order the hunt runs them. Each area is a folder
rules/<name>/: its __init__.py defines AREA (and any Python rules), views.sql the views its
rules share, and every other .sql file one rule.
"""
import dataclasses
import importlib
import re
from pathlib import Path

import yaml

import detections
from detections import Detection

AREAS = ("console_logins", "iam", "security_groups", "defense_evasion", "recon", "exfiltration", "impact",
         "compute", "identity")

FOLDER = Path(__file__).resolve().parent

HEADER = re.compile(r"\A\s*/\*(.*?)\*/", re.DOTALL)
FIELDS = {"id", "title", "severity", "mitre", "status", "description", "false_positives", "triage",
          "references", "python"}
REQUIRED = FIELDS - {"python"}


class RuleError(ValueError):
    """A rule file that cannot be loaded: names the file and what is wrong."""


def load_area(name):
    """The Area of `name` with its detections and views loaded from rules/<name>/."""
    if name not in AREAS:
        raise RuleError(f"unknown area {name!r}; the areas are {', '.join(AREAS)}")
    folder = FOLDER / name
    module = importlib.import_module(f"rules.{name}")
    views = folder / "views.sql"
    setup_sql = views.read_text(encoding="utf-8") if views.is_file() else ""
    loaded = tuple(load_rule(path, module) for path in sorted(folder.glob("*.sql")) if path.name != "views.sql")
    return dataclasses.replace(module.AREA, setup_sql=setup_sql, detections=loaded)


def load_rule(path, module=None):
    """One rule file -> Detection; raises RuleError naming the file and every problem."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    header = HEADER.match(text)
    if not header:
        raise RuleError(f"{path}: no /* ... */ metadata header at the top")
    try:
        meta = yaml.safe_load(header[1])
    except yaml.YAMLError as error:
        raise RuleError(f"{path}: metadata is not valid YAML ({detections.common.first_line(error)})") from None
    if not isinstance(meta, dict):
        raise RuleError(f"{path}: metadata must be a YAML mapping")
    problems = [f"missing {key}" for key in sorted(REQUIRED - set(meta))]
    problems += [f"unknown field {key}" for key in sorted(set(meta) - FIELDS)]
    if problems:
        raise RuleError(f"{path}: {'; '.join(problems)}")
    function = None
    if meta.get("python"):
        function = getattr(module, meta["python"], None) if module else None
    sql = text[header.end():].strip()
    detection = Detection(
        id=str(meta["id"]), title=str(meta["title"]), severity=str(meta["severity"]),
        mitre=tuple(meta["mitre"] or ()), description=" ".join(str(meta["description"]).split()),
        false_positives=" ".join(str(meta["false_positives"] or "").split()),
        triage=tuple(" ".join(str(step).split()) for step in meta["triage"] or ()),
        sql=sql, references=tuple(meta["references"] or ()), status=str(meta["status"]),
        python=meta.get("python") or "", function=function, rule=True, path=str(path))
    problems = detections.check_detection(detection)
    if problems:
        raise RuleError(f"{path}: {'; '.join(problems)}")
    return detection
