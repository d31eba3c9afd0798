"""Rewrites the generated parts of README.md from the code, so the documentation cannot drift:
the events columns (casedb.EVENT_COLUMNS), every detector's detections, and the agreement
with Panther's labelled records. Each part sits between <!-- NAME:start --> and <!-- NAME:end -->.

usage: scripts/update_readme.py [--check]

  --check  change nothing; exit 1 if README.md is not current (the test suite runs this)
"""
import os
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import casedb  # noqa: E402
import detections  # noqa: E402
from reports import attack_link  # noqa: E402


def detector_areas():
    """Every area of rules.AREAS with its detections, in the order of their script names."""
    import rules
    return sorted((rules.load_area(name) for name in rules.AREAS), key=lambda area: area.tool)


def columns_section():
    lines = ["| column | CloudTrail field | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{name}` | `{source}` | {meaning} |" if source not in ("derived", "the whole record", "input file")
              else f"| `{name}` | {source} | {meaning} |" for name, source, meaning in casedb.EVENT_COLUMNS]
    return "\n".join(lines)


def detections_section():
    parts = []
    for area in detector_areas():
        parts.append(f"#### `{area.tool}` ({len(area.detections)} detections)\n")
        parts.append("| id | title | severity | MITRE ATT&CK |")
        parts.append("| --- | --- | --- | --- |")
        for d in area.detections:
            parts.append(f"| `{d.id}` | {d.title} | {d.severity} | {', '.join(attack_link(m) for m in d.mitre)} |")
        if area.settings:
            parts.append("")
            parts.append("Thresholds: " + "; ".join(f"`{s.env}` ({s.meaning.lower()}, default {detections.setting_text(s.default)})"
                                                    for s in area.settings) + ".")
        parts.append("")
    return "\n".join(parts).rstrip()


def panther_section():
    import panther_agreement
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CLOUDTRAIL_OUTPUT_DIR"] = folder
        return panther_agreement.table()


SECTIONS = {"columns": columns_section, "detections": detections_section, "panther": panther_section}


def render(text):
    for name, build in SECTIONS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"update_readme.py: README.md has no <!-- {name}:start --> ... <!-- {name}:end --> block")
        text = pattern.sub(lambda m: m.group(1) + build() + "\n" + m.group(2), text)
    return text


def main(argv):
    if argv[1:] not in ([], ["--check"]):
        print(__doc__, file=sys.stderr)
        return 2
    readme = REPO / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = render(current)
    if argv[1:] == ["--check"]:
        if wanted != current:
            print("update_readme.py: README.md is out of date - run scripts/update_readme.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
