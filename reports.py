"""The markdown report every detector writes: the same sections in the same order, every
value from the logs escaped (log fields are attacker-controlled text), no table cell longer
than a line of text (lists in a cell are summarised by summarise_list)."""
import re
from collections import Counter

import common
from detections import SEVERITIES, severity_rank
from common import Markdown, format_time, md_code, md_table, md_text

EVIDENCE_ROWS_SHOWN = 100
LIST_CHARS = 110                   # room for the items of a summarised list, after its count

_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_ESCAPE = re.compile(r"\\(.)")


def visible_length(markdown):
    """How many characters a cell of markdown shows once rendered: link targets, code fences,
    escapes and entities do not count. `visible_length("[T1078](https://...) \\_x")` is 8."""
    text = _LINK.sub(r"\1", markdown)
    text = re.sub(r"(?<!\\)`+", "", text)
    return len(_ESCAPE.sub(r"\1", text).replace("&amp;", "&"))


def summarise_list(items, noun, render=md_code, room=LIST_CHARS, total=None):
    """A list for one table cell: the whole list when it fits in `room` characters, else its
    count and the first few items, e.g. "24 detections: `a`, `b`, `c`, ...". render turns an
    item into markdown (md_code by default, md_text for prose, str for items already written
    as markdown); noun is the plural ("detections"); total, when the items are only the first
    of a longer list, is how many there are in all. "-" for no items.

    >>> summarise_list(["a", "b"], "detections")
    '`a`, `b`'
    >>> summarise_list(["ListUsers", "ListRoles"], "actions", md_text, total=17)
    '17 actions: ListUsers, ListRoles, ...'
    """
    shown = [render(item) for item in items]
    if not shown:
        return "-"
    count = max(total or 0, len(shown))
    whole = ", ".join(shown)
    if count == len(shown) and (count == 1 or visible_length(whole) <= room):
        return whole
    prefix = f"{count:,} {noun}: "
    kept = shown[:1]
    for item in shown[1:]:
        if visible_length(prefix + ", ".join(kept + [item]) + ", ...") > room:
            break
        kept.append(item)
    return prefix + ", ".join(kept) + ", ..."


def attack_link(technique):
    path = technique.replace(".", "/")
    return f"[{technique}](https://attack.mitre.org/techniques/{path}/)"


def result_text(error_code):
    return "succeeded" if not error_code else f"failed: {error_code}"


def write_report(path, title, tool, context, outcomes, charts, notes=(), triage=None):
    """Writes the report; returns its path. charts: [(caption, png_path)], png_path None for a
    chart that was not worth drawing; triage: what triage.triage_summary() returned for this
    detector (verdicts and allowlist matches)."""
    fired = [o for o in outcomes if o.findings and not o.error]
    quiet = [o for o in outcomes if not o.findings and not o.error]
    failed = [o for o in outcomes if o.error]
    fired.sort(key=lambda o: (min(severity_rank(f["severity"]) for f in o.findings), o.detection.id))
    lines = [f"# {md_text(title)}", "",
             f"Written {format_time(common.now_utc())} by `{tool}` (run `{context.run_id}`). "
             "All times are UTC.", ""]
    lines += _scope_section(context, outcomes)
    marks = (triage or {}).get("marks", {})
    lines += _summary_section(fired, failed, marks)
    lines += triage_section(triage)
    if charts:
        lines += ["## Charts", ""]
        for caption, png in charts:
            if png:
                lines += [f"![{md_text(caption)}]({png.name})", "", f"*{md_text(caption)}*", ""]
        undrawn = [caption for caption, png in charts if not png]
        if undrawn:
            lines += ["Not drawn, because they would show nothing the findings do not (no events in the window, a "
                      f"single bar, or bars all the same length): {md_text('; '.join(undrawn))}.", ""]
    lines += ["## Findings", ""]
    if not fired:
        lines += ["No detection fired in this window.", ""]
    for outcome in fired:
        lines += _detection_section(outcome, marks)
    # After the findings: how the detections read the logs and the thresholds in force are for
    # the second reading, not the first screen.
    if notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in notes] + [""]
    lines += ["## Detections that ran and found nothing", ""]
    if quiet:
        lines += md_table(["id", "title", "severity", "MITRE ATT&CK"],
                          [(Markdown(md_code(o.detection.id)), o.detection.title, o.detection.severity,
                            Markdown(", ".join(attack_link(m) for m in o.detection.mitre))) for o in quiet])
    else:
        lines.append("Every detection found something.")
    lines.append("")
    lines += ["## Detections that failed", ""]
    if failed:
        lines.append("These detections raised an error; their earlier findings, if any, were kept. "
                     "Set CLOUDTRAIL_DEBUG=1 for a traceback.")
        lines.append("")
        lines += md_table(["id", "title", "error"],
                          [(Markdown(md_code(o.detection.id)), o.detection.title, o.error) for o in failed])
    else:
        lines.append("None.")
    lines += ["", "## Query these findings", "", "```sql",
              f"select severity, title, first_time, actor, source_ip, resource, summary",
              f"from findings where run_id = '{context.run_id}'",
              "order by first_time;", "```", ""]
    return common.write_markdown(path, lines)


def _scope_section(context, outcomes):
    failed = sum(1 for o in outcomes if o.error)
    quiet = sum(1 for o in outcomes if not o.findings and not o.error)
    span = (f"{format_time(context.first_event)} to {format_time(context.last_event)}"
            if context.first_event else "no events")
    return ["## What was analysed", ""] + md_table(["", ""], [
        ("database", Markdown(md_code(context.db_path))),
        ("window", common.describe_window(context.since, context.until)),
        ("events in scope", f"{context.events_in_scope:,} ({span})"),
        ("accounts", _top_list(context.accounts, "accounts")),
        ("regions", _top_list(context.regions, "regions")),
        ("detections", f"{len(outcomes)} ran: {len(outcomes) - quiet - failed} fired, {quiet} found nothing, {failed} failed"),
    ]) + [""]


def _top_list(pairs, noun="accounts"):
    """'111122223333 (13,219), 444455556666 (6,999)' - summarised when long (summarise_list)."""
    if not pairs:
        return "none"
    return Markdown(summarise_list([f"{name or '(none)'} ({count:,})" for name, count in pairs], noun, md_text))


def _summary_section(fired, failed, marks=None):
    by_severity = Counter()
    attempts = Counter()
    detections = {}
    for outcome in fired:
        for finding in outcome.findings:
            by_severity[finding["severity"]] += 1
            attempts[finding["severity"]] += bool(finding["error_code"])
            detections.setdefault(finding["severity"], set()).add(outcome.detection.id)
    rows = [(severity, by_severity[severity], attempts[severity],
             Markdown(summarise_list(sorted(detections.get(severity, ())), "detections")))
            for severity in reversed(SEVERITIES)]
    lines = ["## Summary", ""]
    lines += _most_severe(fired, marks or {})
    lines += md_table(["severity", "findings", "of which failed attempts", "detections"], rows)
    lines += ["", "A failed attempt (an AccessDenied call, a failed sign-in) is evidence of intent: it is "
              "reported, marked `failed`, next to the calls that succeeded.", ""]
    if failed:
        lines += [f"**{len(failed)} detection(s) failed to run; see the end of this report.**", ""]
    return lines


MOST_SEVERE_SHOWN = 5


def _most_severe(fired, marks):
    """The first screen's answer: the few most severe findings, one line each (then by time);
    findings the analyst judged benign or allowlisted come after all the others."""
    found = [(f, o.detection) for o in fired for f in o.findings]
    if not found:
        return []
    found.sort(key=lambda pair: (_ranked_down(marks.get((pair[1].id, pair[0]["event_id"]))),
                                 severity_rank(pair[0]["severity"]), str(pair[0]["event_time"]), pair[1].id,
                                 pair[0]["event_id"] or ""))
    shown = found[:MOST_SEVERE_SHOWN]
    lines = [f"{len(found)} finding(s); the {len(shown)} most severe:" if len(found) > len(shown)
             else f"{len(found)} finding(s):", ""]
    lines += md_table(["severity", "time", "what", "actor", "summary"],
                      [(_severity_cell(f["severity"], marks.get((d.id, f["event_id"]))), format_time(f["event_time"]), d.title,
                        Markdown(md_code(common.short_identity(f["actor"]), 60)), f["summary"]) for f, d in shown])
    return lines + ["", "By severity:", ""]


def triage_section(summary):
    """The report's "Triage" section: verdicts and allowlist matches, with counts."""
    if summary is None:
        return []
    lines = ["## Triage", ""]
    if summary["lines"]:
        lines += [f"- {md_text(line)}" for line in summary["lines"]]
        lines += ["", "Findings marked benign or false positive, and findings an allowlist entry matches, are kept: "
                  "the detector and hunt reports list them after the others, with the verdict or entry id beside "
                  "their severity (`analyze_triage.py DATABASE list` shows every entry).", ""]
    elif not summary["entries"]:
        lines += ["No verdicts or allowlist entries are recorded for these findings. Record them with "
                  "`analyze_triage.py DATABASE verdict DETECTION_ID:EVENT_ID benign NOTE` or "
                  "`analyze_triage.py DATABASE allow cidr 203.0.113.0/24 REASON`.", ""]
    else:
        lines += ["No verdict is recorded for these findings and no allowlist entry matches them.", ""]
    return lines


def _detection_section(outcome, marks=None):
    marks = marks or {}
    d = outcome.detection
    count = len(outcome.findings)
    worst = min((f["severity"] for f in outcome.findings), key=severity_rank)
    attempts = sum(1 for f in outcome.findings if f["error_code"])
    lines = [f"### {worst.upper()}: {md_text(d.title)} ({md_code(d.id)})", "",
             f"{count} finding(s)" + (f", {attempts} of them failed attempts" if attempts else "") + ".", "",
             f"**What it detects and why it matters.** {d.description}", "",
             f"**MITRE ATT&CK:** " + ", ".join(attack_link(m) for m in d.mitre), "",
             f"**Known false positives.** {d.false_positives}", "",
             "**Triage.**", ""]
    lines += [f"{number}. {step}" for number, step in enumerate(d.triage, 1)]
    lines += ["", "**Evidence** (most severe first, then by time).", ""]
    # Allowlisted, benign and false-positive findings last; stable, so time order is kept.
    ordered = sorted(outcome.findings, key=lambda f: (_ranked_down(marks.get((d.id, f["event_id"]))),
                                                      severity_rank(f["severity"])))
    shown = ordered[:EVIDENCE_ROWS_SHOWN]
    lines += md_table(
        ["time", "severity", "result", "actor", "source IP", "account", "region", "resource", "summary", "event id"],
        [(format_time(f["event_time"]), _severity_cell(f["severity"], marks.get((d.id, f["event_id"]))),
          result_text(f["error_code"]),
          Markdown(md_code(f["actor"], 120)), f["source_ip"], f["account_id"], f["region"],
          Markdown(md_code(f["resource"], 120)), f["summary"], _event_ids(f))
         for f in shown])
    if count > len(shown):
        lines += ["", f"{count - len(shown)} more: `select * from findings where detection_id = '{d.id}'`"]
    lines.append("")
    return lines


def _ranked_down(mark):
    return bool(mark) and ("allowlisted" in mark or mark.startswith(("benign", "false positive")))


def _severity_cell(severity, mark):
    return f"{severity} ({mark})" if mark else severity   # "low (benign by alice; allowlisted #2)"


def _event_ids(finding):
    ids = finding["event_ids"]
    if len(ids) <= 1:
        return Markdown(md_code(finding["event_id"]))
    return Markdown(f"{md_code(finding['event_id'])} and {len(ids) - 1} more")
