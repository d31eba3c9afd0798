"""Chart helpers: labels wrapped, not cut; a log scale only when counts span orders of magnitude;
a legend whenever colour means severity; no chart of one bar or of bars all the same length."""
import pandas as pd
import matplotlib.pyplot as plt
import pytest

import charts

ARN = "arn:aws:sts::111122223333:assumed-role/image-resizer-lambda-role/image-resizer-lambda / acme-prod-reports"


def test_long_labels_are_wrapped_whole():
    label = charts.wrapped_label(ARN, 40)
    assert label.replace("\n", "") == ARN and all(len(line) <= 40 for line in label.splitlines())
    assert "~" not in label and "..." not in label


def test_wrapped_labels_stay_inert_and_bounded():
    assert charts.wrapped_label("$x$ \x1b[31m", 40) == "\\$x\\$ \\x1b[31m"
    assert charts.wrapped_label("", 40) == "(none)"
    assert charts.wrapped_label("x" * 500, 40, lines=3).count("\n") == 2


@pytest.fixture
def drawn(monkeypatch):
    """The axes of the last bar chart drawn (kept open for inspection)."""
    seen = {}
    monkeypatch.setattr(charts, "_save", lambda figure, path: seen.setdefault("axis", figure.axes[0]) and path)
    yield seen
    plt.close("all")


@pytest.mark.parametrize("values, scale", [([11538, 37], "log"), ([250, 30], "linear"), ([3, 2, 1], "linear")])
def test_log_scale_only_when_counts_span_two_orders_of_magnitude(tmp_path, drawn, values, scale):
    charts.bar_chart([str(v) for v in values], values, "t", "events", tmp_path / "c.png")
    assert drawn["axis"].get_xscale() == scale
    assert ("log scale" in drawn["axis"].get_xlabel()) == (scale == "log")


def test_severity_colours_get_a_legend(tmp_path, drawn):
    colours = [charts.SEVERITY_COLOURS["high"], charts.SEVERITY_COLOURS["low"]]
    charts.bar_chart(["tcp 22", "tcp 443"], [2, 1], "ports", "calls", tmp_path / "c.png", colours=colours)
    legend = drawn["axis"].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["high", "low"]


@pytest.mark.parametrize("values, worth", [
    ([], False), ([7], False), ([1, 1, 1, 1, 1, 1, 1], False), ([2, 2], False),
    ([2, 1], True), ([11538, 37], True), ([0, 5], True), ([None, 4], False),
])
def test_worth_drawing_needs_two_bars_of_different_lengths(values, worth):
    assert charts.worth_drawing(values) is worth


def test_charts_not_worth_drawing_are_not_written(tmp_path):
    ports = ["all traffic", "tcp 22", "tcp 3389"]
    assert charts.bar_chart(ports, [1, 1, 1], "ports", "calls", tmp_path / "a.png") is None
    assert charts.bar_chart(["user/backup-admin"], [10], "actors", "findings", tmp_path / "b.png") is None
    assert charts.stacked_bar_chart(["user/backup-admin"], [("high", [7], "red"), ("medium", [3], "orange")],
                                    "actors", "findings", tmp_path / "c.png") is None
    assert charts.stacked_bar_chart(["a", "b"], [("ok", [1, 0], "blue"), ("failed", [0, 1], "orange")],
                                    "calls", "calls", tmp_path / "d.png") is None
    assert not list(tmp_path.iterdir())


def test_a_chart_by_group_with_too_few_groups_is_not_written(tmp_path):
    frame = pd.DataFrame({"minute": pd.to_datetime(["2026-11-02T10:00Z", "2026-11-02T10:01Z"]),
                          "source_ip": ["203.0.113.99"] * 2, "failures": [2, 2]})
    assert charts.time_series_by_group(frame, "minute", "source_ip", "failures", "t", "failures",
                                       tmp_path / "a.png", min_groups=2) is None
    assert charts.time_series_by_group(frame, "minute", "source_ip", "failures", "t", "failures",
                                       tmp_path / "b.png") == tmp_path / "b.png"


def test_time_series_legend_labels_are_wrapped_not_cut(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(charts, "_save", lambda figure, path: seen.setdefault("axis", figure.axes[0]) and path)
    group = "assumed-role/AWSReservedSSO_ReadOnlyAccess_576a1db4bdd40bec/erin@example.com (111122223333)"
    frame = pd.DataFrame({"minute": pd.to_datetime(["2026-11-02T10:00Z", "2026-11-02T11:00Z"]),
                          "actor": [group, "user/bob"], "reads": [3, 1]})
    charts.time_series_by_group(frame, "minute", "actor", "reads", "t", "reads", tmp_path / "a.png")
    labels = [text.get_text() for text in seen["axis"].get_legend().get_texts()]
    plt.close("all")
    assert labels[0].replace("\n", "") == group and "..." not in labels[0]


def test_counts_given_per_hour_are_not_drawn_in_half_hours(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(charts, "_save", lambda figure, path: seen.setdefault("axis", figure.axes[0]) and path)
    hours = pd.date_range("2026-11-02", periods=72, freq="1h", tz="UTC")
    frame = pd.DataFrame({"period": hours, "account": "111122223333", "events": 5})
    charts.time_series_by_group(frame, "period", "account", "events", "t", "events", tmp_path / "a.png", finest="1h")
    label = seen["axis"].get_ylabel()
    plt.close("all")
    assert label == "events per hour"
