"""PNG charts for the reports: UTC time axes, findings marked, labels made inert.

Every function returns the path it wrote, or None when there was nothing to draw.
"""
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402  (the backend must be chosen first)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import casedb  # noqa: E402
import common  # noqa: E402

SEVERITY_COLOURS = {"critical": "#7b0000", "high": "#d62728", "medium": "#ff7f0e", "low": "#1f77b4", "info": "#7f7f7f"}
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_MATHTEXT = re.compile(r"(\$)")


def chart_label(text, limit=40):
    """Log text safe for a matplotlib label: no mathtext (only $ starts it), no control characters, short."""
    value = common.terminal_safe("" if text is None else str(text)).replace("\n", " ")
    if len(value) > limit:
        value = value[: limit - 3] + "..."
    return _MATHTEXT.sub(r"\\\1", value) or "(none)"


def wrapped_label(text, width=40, lines=3):
    """Like chart_label, for an axis label: wrapped onto up to `lines` lines of `width`
    characters rather than cut, so long ARNs and bucket names stay readable."""
    value = common.terminal_safe("" if text is None else str(text)).replace("\n", " ")
    # Break after / : - and spaces, the natural joints of identities and bucket names.
    parts, line = [], ""
    for token in re.findall(r"[^/:\- ]*[/:\- ]?", value):
        while len(token) > width:
            if line:
                parts.append(line)
                line = ""
            parts.append(token[:width])
            token = token[width:]
        if len(line) + len(token) > width and line:
            parts.append(line.rstrip())
            line = ""
        line += token
    parts = [part for part in parts + [line.rstrip()] if part] or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 3] + "..."
    return _MATHTEXT.sub(r"\\\1", "\n".join(parts)) or "(none)"


def worth_drawing(values):
    """Whether bars of these lengths show anything a table does not: at least two bars, and not
    all the same length. One bar, or seven ports opened once each, is a sentence, not a chart.

    >>> worth_drawing([37, 11538]), worth_drawing([1, 1, 1]), worth_drawing([5])
    (True, False, False)
    """
    values = [v for v in values if v is not None]
    return len(values) >= 2 and len(set(values)) > 1


LOG_SCALE_SPREAD = 100    # bars whose largest is this many times the smallest get a log scale


def _value_axis(axis, values, value_label):
    """Integer ticks, or a log scale when the counts span orders of magnitude (a 37-event
    attacker next to an 11,538-event service would be invisible on a linear scale)."""
    positive = [v for v in values if v and v > 0]
    if positive and max(positive) / min(positive) >= LOG_SCALE_SPREAD:
        axis.set_xscale("log")
        axis.set_xlabel(f"{value_label} (log scale)")
    else:
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.set_xlabel(value_label)


def _severity_legend(axis, colours):
    """A legend for bars coloured by severity (colours from SEVERITY_COLOURS)."""
    if not isinstance(colours, (list, tuple)) or not colours:
        return
    names = {colour: severity for severity, colour in SEVERITY_COLOURS.items()}
    if not set(colours) <= set(names):
        return
    from matplotlib.patches import Patch
    shown = [severity for severity in reversed(list(SEVERITY_RANK)) if SEVERITY_COLOURS[severity] in set(colours)]
    axis.legend(handles=[Patch(color=SEVERITY_COLOURS[s], label=s) for s in shown], title="severity",
                loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title_fontsize=8)


_BUCKETS = [("1min", "per minute"), ("5min", "per 5 minutes"), ("10min", "per 10 minutes"),
            ("30min", "per 30 minutes"), ("1h", "per hour"), ("3h", "per 3 hours"), ("6h", "per 6 hours"),
            ("12h", "per 12 hours"), ("1D", "per day"), ("7D", "per week"), ("30D", "per 30 days")]
MAX_BARS = 300


def _bucket(start, end, finest=None):
    """The smallest time bucket that shows the span in at most MAX_BARS bars, and no finer than
    `finest` (a pandas rule such as "1h": the counts given are per hour, so a 30-minute bucket
    would show every other bar empty)."""
    span = max(end - start, pd.Timedelta(minutes=1))
    for rule, unit in _BUCKETS:
        if finest and pd.Timedelta(rule) < pd.Timedelta(finest):
            continue
        if span / pd.Timedelta(rule) <= MAX_BARS:
            return rule, unit
    return "365D", "per year"


def _complete(table, rule):
    """Every bucket between the first and last, with zeros where nothing happened."""
    if table.empty:
        return table
    index = pd.date_range(table.index.min().floor(rule) if rule[-1] != "D" else table.index.min().normalize(),
                          table.index.max(), freq=rule, tz="UTC")
    return table.reindex(index.union(table.index), fill_value=0).resample(rule).sum()


def activity_chart(con, activity_sql, findings, title, path):
    """Events over time (succeeded and failed calls), with the findings in a lane above.

    activity_sql returns (minute, succeeded, failed) rows for the area's events in scope.
    """
    frame = casedb.frame(con, activity_sql)
    if frame.empty:
        return None
    frame["minute"] = pd.to_datetime(frame["minute"], utc=True)
    frame = frame.set_index("minute").sort_index()
    times = [pd.Timestamp(f["event_time"]) for f in findings if f["event_time"] is not None]
    start = min([frame.index.min()] + times)
    end = max([frame.index.max()] + times)
    rule, unit = _bucket(start, end)
    counts = _complete(frame[["succeeded", "failed"]].resample(rule).sum(), rule)
    figure, (lane, axis) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True,
                                        gridspec_kw={"height_ratios": [1, 3.2]})
    _stacked_steps(axis, counts.index, rule, [(counts["succeeded"], "#8fb0d6", "succeeded calls"),
                                              (counts["failed"], "#f0a04b", "failed calls")])
    axis.set_ylabel(f"events {unit}")
    axis.set_xlabel("time (UTC)")
    axis.legend(loc="upper right", fontsize=8)
    _integer_ticks(axis)
    _findings_lane(lane, findings)
    lane.set_title(wrapped_label(title, 100, lines=2))
    _pad_single_bucket(axis, counts.index, rule)
    _time_axis(axis)
    return _save(figure, path)


def _findings_lane(lane, findings):
    """One row per severity; a marker at each finding's first event."""
    for severity, rank in SEVERITY_RANK.items():
        times = [pd.Timestamp(f["event_time"]) for f in findings
                 if f["severity"] == severity and f["event_time"] is not None]
        if times:
            lane.scatter(times, [rank] * len(times), marker="v", s=45, color=SEVERITY_COLOURS[severity], zorder=5)
    lane.set_yticks(list(SEVERITY_RANK.values()))
    lane.set_yticklabels(list(SEVERITY_RANK), fontsize=7)
    lane.set_ylim(-0.7, 4.7)
    lane.set_ylabel("findings", fontsize=8)
    lane.grid(axis="y", color="#eeeeee")
    if not findings:
        lane.text(0.5, 0.5, "no findings", transform=lane.transAxes, ha="center", va="center", fontsize=8)


def _integer_ticks(axis):
    axis.yaxis.get_major_locator().set_params(integer=True)


def bar_chart(labels, values, title, value_label, path, colours=None, label_limit=40, label_lines=3):
    """Horizontal bars, the first label at the top; None when there is nothing to draw or the
    bars would not be worth drawing (worth_drawing)."""
    if not labels or not worth_drawing(values):
        return None
    shown = [wrapped_label(label, label_limit, label_lines) for label in labels]
    lines = max(label.count("\n") + 1 for label in shown)
    height = max(2.5, (0.4 + 0.15 * (lines - 1)) * len(labels) + 1.2)
    figure, axis = plt.subplots(figsize=(9, height))
    positions = range(len(labels))[::-1]
    axis.barh(list(positions), values, color=colours or "#4c72b0")
    axis.set_yticks(list(positions))
    axis.set_yticklabels(shown, fontsize=8)
    _value_axis(axis, values, value_label)
    for position, value in zip(positions, values):      # the count at each bar's end: exact on a log scale too
        axis.text(value, position, f" {value:,}", va="center", fontsize=8)
    if axis.get_xscale() == "linear":
        axis.set_xlim(0, max(values) * 1.12 or 1)
    _severity_legend(axis, colours)
    axis.set_title(wrapped_label(title, 60, lines=2))   # centred over the bars only: long labels narrow them
    return _save(figure, path)


def stacked_bar_chart(labels, segments, title, value_label, path, label_limit=60, totals=False):
    """Horizontal bars, the first label at the top, each split into coloured segments
    [(name, values, colour)]; totals writes each bar's total at its end. None when empty or
    when the totals would not be worth drawing (worth_drawing: one bar, or all the same length)."""
    if not labels or not worth_drawing([sum(column) for column in zip(*(values for _, values, _ in segments))]):
        return None
    positions = list(range(len(labels)))[::-1]
    shown = [wrapped_label(label, label_limit) for label in labels]
    lines = max(label.count("\n") + 1 for label in shown)
    figure, axis = plt.subplots(figsize=(10, max(2.5, (0.4 + 0.15 * (lines - 1)) * len(labels) + 1.4)))
    left = [0] * len(labels)
    for name, values, colour in segments:
        axis.barh(positions, values, left=left, color=colour, label=chart_label(name))
        left = [a + b for a, b in zip(left, values)]
    if totals:
        for position, total in zip(positions, left):
            axis.text(total, position, f" {total:,}", va="center", fontsize=8)
        axis.set_xlim(0, max(left) * 1.12 or 1)
    axis.set_yticks(positions)
    axis.set_yticklabels(shown, fontsize=8)
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.set_xlabel(value_label)
    axis.set_title(wrapped_label(title, 60, lines=2))
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return _save(figure, path)


def time_series_by_group(frame, time_column, group_column, count_column, title, value_label, path, top=6,
                         label_limit=45, min_groups=1, finest=None):
    """Counts over time as stacked steps (_stacked_steps), one colour per group (the `top`
    largest; the rest 'other'). None when empty, or when there are fewer than min_groups groups
    (a chart "by source IP" with one address says nothing the area's activity chart does not)."""
    if frame.empty or frame[group_column].nunique() < min_groups:
        return None
    frame = frame.copy()
    frame[time_column] = pd.to_datetime(frame[time_column], utc=True)
    totals = frame.groupby(group_column)[count_column].sum().sort_values(ascending=False)
    keep = list(totals.index[:top])
    frame[group_column] = frame[group_column].where(frame[group_column].isin(keep), "other")
    rule, unit = _bucket(frame[time_column].min(), frame[time_column].max(), finest)
    table = (frame.groupby([pd.Grouper(key=time_column, freq=rule), group_column])[count_column]
             .sum().unstack(fill_value=0))
    table = _complete(table, rule)
    order = [g for g in keep + ["other"] if g in table.columns]
    figure, axis = plt.subplots(figsize=(11, 4.5))
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    _stacked_steps(axis, table.index, rule, [(table[group], palette[n % len(palette)],
                                              wrapped_label(group, label_limit, lines=3))
                                             for n, group in enumerate(order)])
    axis.set_title(wrapped_label(title, 100, lines=2))
    axis.set_ylabel(f"{value_label} {unit}")
    axis.set_xlabel("time (UTC)")
    _integer_ticks(axis)
    _pad_single_bucket(axis, table.index, rule)
    _time_axis(axis)
    # Beside the plot, not on it: wrapped identities make a tall legend that would hide bars.
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return _save(figure, path)


def _stacked_steps(axis, index, rule, layers):
    """Counts per time bucket stacked as filled steps, one drawn shape per layer [(values, colour,
    label)]. A bar per bucket and layer drew thousands of rectangles on a case of weeks: most of
    a chart's drawing time (1 s against 0.2 s for 300 buckets of 6 groups)."""
    edges = index.append(pd.DatetimeIndex([index[-1] + pd.Timedelta(rule)]))
    bottom = np.zeros(len(index))
    for values, colour, label in layers:
        top = bottom + np.asarray(values, dtype=float)
        axis.stairs(top, edges, baseline=bottom, fill=True, color=colour, label=label)
        bottom = top


def _pad_single_bucket(axis, index, rule):
    """A lone bucket would fill the whole axis with tick labels in seconds; show its neighbours."""
    if len(index) == 1:
        step = pd.Timedelta(rule)
        axis.set_xlim(index[0] - 3 * step, index[0] + 4 * step)


def _time_axis(axis):
    locator = mdates.AutoDateLocator(tz="UTC")
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz="UTC"))


def _save(figure, path):
    """Renders the chart in memory, then writes it to a new file; a write that fails (folder full
    or not writable) leaves no partial PNG and is one line (ToolError)."""
    import io

    buffer = io.BytesIO()
    try:
        figure.tight_layout()
        figure.savefig(buffer, dpi=100, format="png")
    finally:
        plt.close(figure)
    common.write_new_file(path, buffer.getvalue())
    return path
