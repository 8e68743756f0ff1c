"""The report: summaries on hand-made frames (values worked out by hand), the page on a lake
with only some tables, and the whole report of the DAG lake rendered in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from browser import browse, figures, sections
from conftest import DAG_AS_OF
from pyspark.sql import Row
from pyspark.sql import types as T

from insight import columns as C
from insight import tables
from insight.features.schemas import CUSTOMER_FEATURES, CUSTOMER_FEATURES_SCHEMA
from insight.nlp.schemas import KEYPHRASE_WEEKLY
from insight.report import charts, summaries
from insight.report.panels import quality
from insight.report.run import report_path
from insight.segment.schemas import CUSTOMER_SEGMENTS, CUSTOMER_SEGMENTS_SCHEMA
from insight.storage import read_text, write_text

AS_OF = date(2025, 12, 31)
LATER = date(2026, 1, 31)  # rows after the report's as_of: must be ignored


def _row(schema: T.StructType, **values: object) -> Row:
    """A row of `schema`: the given values, a zero of the right type elsewhere."""
    zero = {T.StringType: "", T.IntegerType: 0, T.LongType: 0, T.DoubleType: 0.0,
            T.BooleanType: False, T.DateType: AS_OF, T.MapType: {}, T.ArrayType: []}  # fmt: skip
    return Row(**{f.name: values.get(f.name, zero[type(f.dataType)]) for f in schema})


def _frame(spark, schema: T.StructType, rows: list[dict]):
    return spark.createDataFrame([_row(schema, **r) for r in rows], schema)


def _features(spark):
    # (key, frequency, recency score, frequency score, monetary); d is no buyer.
    rows = [("a", 3, 5, 4, 100.0), ("b", 1, 5, 4, 50.0), ("c", 2, 1, 2, 30.0),
            ("d", 0, 1, 1, 0.0)]  # fmt: skip
    data = [{C.CUSTOMER_KEY: k, "frequency": f, "recency_score": r, "frequency_score": fs,
             "monetary": m} for k, f, r, fs, m in rows]  # fmt: skip
    data.append({C.CUSTOMER_KEY: "a", C.AS_OF: LATER, "frequency": 9, "recency_score": 1,
                 "frequency_score": 1, "monetary": 999.0})  # fmt: skip
    return _frame(spark, CUSTOMER_FEATURES_SCHEMA, data)


def _segments(spark):
    pairs = [("a", "Champions"), ("b", "Champions"), ("c", "Lost"), ("d", "No purchase")]
    data = [{C.CUSTOMER_KEY: k, "rfm_segment": s} for k, s in pairs]
    data.append({C.CUSTOMER_KEY: "c", C.AS_OF: LATER, "rfm_segment": "Champions"})
    return _frame(spark, CUSTOMER_SEGMENTS_SCHEMA, data)


# --- summaries -----------------------------------------------------------------------------


def test_segment_value_sums_spend_and_clv_per_segment(spark):
    clv = spark.createDataFrame(
        [("a", AS_OF, 200.0), ("c", AS_OF, 10.0), ("b", LATER, 77.0)],
        f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, clv_12m double",
    )
    got = summaries.segment_value(_segments(spark), _features(spark), clv, AS_OF)
    want = pd.DataFrame({
        "segment": ["Champions", "Lost", "No purchase"],
        "customers": [2, 1, 1],
        "share": [0.5, 0.25, 0.25],
        "net_spend": [150.0, 30.0, 0.0],
        "clv_12m": [200.0, 10.0, 0.0],  # b has a CLV only for a later as_of: 0 here
    })  # fmt: skip
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_segment_value_without_features_or_clv_has_nan_value(spark):
    got = summaries.segment_value(_segments(spark), None, None, AS_OF)
    assert got["customers"].tolist() == [2, 1, 1]
    assert got["net_spend"].isna().all() and got["clv_12m"].isna().all()


def test_rfm_grid_counts_buyers_per_cell_with_every_cell_present(spark):
    cells = summaries.rfm_cells(_features(spark), AS_OF)
    grid = summaries.rfm_grid(cells).set_index(["recency_score", "frequency_score"])
    assert len(grid) == 25
    assert grid.loc[(5, 4), "customers"] == 2 and grid.loc[(5, 4), "monetary"] == 75.0
    assert grid.loc[(1, 2), "customers"] == 1 and grid.loc[(1, 2), "monetary"] == 30.0
    assert grid.loc[(1, 1), "customers"] == 0  # d bought nothing: not a cell
    assert grid["customers"].sum() == 3
    assert summaries.buyers(cells) == (4, 3)


def test_histogram_bins_clips_outliers_into_the_edges(spark):
    df = spark.createDataFrame(
        [(v,) for v in (0.0, 1.0, 2.0, 3.0, 4.0, 10.0, -5.0, None)], "x double"
    )
    got = summaries.histogram(df, "x", bins=2, lo=0.0, hi=4.0)
    # [0, 2): -5 (clipped), 0, 1; [2, 4]: 2, 3, 4, 10 (clipped).
    assert got.to_dict("list") == {"bin_start": [0.0, 2.0], "bin_end": [2.0, 4.0], "count": [3, 4]}
    d = summaries.describe(df, "x", [0.5])
    assert d == {"count": 7, "min": -5.0, "max": 10.0, "p50": 2.0}
    whole = summaries.histogram(df, "x", bins=3, lo=d["min"], hi=d["max"])  # widths of 5
    assert whole["bin_start"].tolist() == [-5.0, 0.0, 5.0]
    assert whole["count"].tolist() == [1, 5, 1]


def test_histogram_of_equal_or_no_values(spark):
    same = spark.createDataFrame([(2.0,), (2.0,), (None,)], "x double")
    assert summaries.histogram(same, "x", bins=5, lo=2.0, hi=2.0)["count"].tolist() == [2]
    none = spark.createDataFrame([(None,)], "x double")
    assert summaries.describe(none, "x", [0.5]) == {"count": 0}
    with pytest.raises(ValueError, match="lacks column"):
        summaries.histogram(same, "y", bins=5, lo=0.0, hi=1.0)


def test_score_deciles_from_stored_percentiles(spark):
    rows = [("a", AS_OF, 0.1, 0), ("b", AS_OF, 0.2, 5), ("c", AS_OF, 0.3, 15),
            ("d", AS_OF, 0.8, 99), ("e", AS_OF, 1.0, 100), ("f", AS_OF, None, None),
            ("g", LATER, 0.5, 50)]  # fmt: skip
    schema = (f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, purchase_probability double, "
              "purchase_percentile int")  # fmt: skip
    scores = spark.createDataFrame(rows, schema)
    got = summaries.score_deciles(scores, "purchase", AS_OF)
    assert got["decile"].tolist() == [1, 2, 10]
    assert got["customers"].tolist() == [2, 1, 2]
    assert got["mean_probability"].round(6).tolist() == [0.15, 0.3, 0.9]


def test_sentiment_trend_weights_days_by_reviews_and_keeps_top_brands(spark):
    schema = (f"{C.PRODUCT_ID} string, {C.BRAND} string, {C.DAY} date, reviews long, "
              "mean_sentiment double, negative_share double, positive_share double")  # fmt: skip
    rows = [
        ("p1", "Acme", date(2025, 12, 29), 3, 0.5, 0.0, 1.0),   # Monday of the last week
        ("p2", "Acme", date(2025, 12, 31), 1, -1.0, 1.0, 0.0),
        ("p1", "Acme", date(2025, 12, 22), 2, 0.0, 0.5, 0.5),   # the week before
        ("p3", "Zed", date(2025, 12, 30), 1, 1.0, 0.0, 1.0),    # fewer reviews than Acme
        ("p1", "Acme", date(2026, 1, 2), 50, -1.0, 1.0, 0.0),   # after as_of
    ]  # fmt: skip
    daily = spark.createDataFrame(rows, schema)
    got = summaries.sentiment_trend(daily, AS_OF, weeks=4, top_brands=1)
    assert got["brand"].unique().tolist() == ["Acme"]
    assert got["week_start"].tolist() == [date(2025, 12, 22), date(2025, 12, 29)]
    assert got["reviews"].tolist() == [2, 4]
    assert got["negatives"].tolist() == [1.0, 1.0]
    assert got["negative_share"].tolist() == [0.5, 0.25]  # (3 x 0 + 1 x 1) / 4
    assert got["mean_sentiment"].tolist() == [0.0, 0.125]  # (3 x 0.5 - 1) / 4


def test_trailing_share_pools_reviews_over_the_window_and_fills_quiet_weeks():
    weeks = [date(2025, 12, 1), date(2025, 12, 15), date(2025, 12, 22)]  # none on the 8th
    trend = pd.DataFrame({"brand": ["Acme"] * 3 + ["Zed"], "week_start": [*weeks, weeks[2]],
                          "reviews": [2, 1, 4, 2], "negatives": [2.0, 0.0, 1.0, 0.0]})  # fmt: skip
    got = summaries.trailing_share(trend, weeks=2)
    acme = got[got["brand"] == "Acme"]
    assert acme["week_start"].tolist() == [date(2025, 12, d) for d in (1, 8, 15, 22)]
    assert acme["reviews"].tolist() == [2, 2, 1, 5]  # this week + the one before
    assert acme["negative_share"].tolist() == [1.0, 1.0, 0.0, 0.2]
    zed = got[got["brand"] == "Zed"]
    assert zed["week_start"].tolist() == [date(2025, 12, 22)]
    assert zed["negative_share"].tolist() == [0.0]


def test_top_keyphrases_counts_each_review_once_in_the_window(spark):
    schema = (f"{C.LEVEL} string, {C.ENTITY_ID} string, {C.WEEK_START} date, keyphrase string, "
              "mentions long, positive_mentions long, negative_mentions long")  # fmt: skip
    rows = [
        ("product", "p1", date(2025, 12, 29), "great sound", 4, 4, 0),
        ("product", "p2", date(2025, 12, 22), "great sound", 2, 1, 1),
        ("brand", "Acme", date(2025, 12, 29), "great sound", 6, 5, 1),  # same reviews again
        ("product", "p1", date(2025, 12, 29), "broke", 3, 0, 3),
        ("product", "p1", date(2025, 12, 29), "battery", 2, 1, 1),
        ("product", "p1", date(2025, 9, 1), "old news", 9, 9, 0),  # before the window
        ("product", "p1", date(2026, 1, 5), "future", 9, 0, 9),  # after as_of
    ]  # fmt: skip
    got = summaries.top_keyphrases(spark.createDataFrame(rows, schema), AS_OF, weeks=4, n=2)
    praised = got[got["kind"] == "praised"]
    complained = got[got["kind"] == "complained"]
    assert praised["keyphrase"].tolist() == ["great sound", "battery"]
    assert praised["positive_mentions"].tolist() == [5, 1]
    # great sound and battery tie on 1 negative: more mentions first (6 vs 2).
    assert complained["keyphrase"].tolist() == ["broke", "great sound"]
    assert complained["negative_mentions"].tolist() == [3, 1]


def test_reviews_by_language_count_judge_and_list_each_languages_keyphrases(spark):
    schema = (f"{C.REVIEW_ID} string, {C.LANGUAGE} string, {C.REVIEW_DATE} date, "
              f"{C.SENTIMENT} string, {C.SENTIMENT_SCORE} double, "
              f"{C.KEYPHRASES} array<struct<phrase:string,score:double>>")  # fmt: skip

    def kp(*phrases: str) -> list[tuple[str, float]]:
        return [(p, 0.1) for p in phrases]

    day = date(2025, 12, 20)
    rows = [
        ("e1", "en", day, "positive", 0.8, kp("battery life", "sound")),
        ("e2", "en", day, "positive", 0.6, kp("sound", "sound")),  # once per review
        ("e3", "en", day, "negative", -0.7, kp("battery life")),
        ("z1", "zh", day, "positive", 0.9, kp("质量", "物流")),
        ("z2", "zh", day, "negative", -0.5, kp("客服")),
        ("z3", "zh", day, "unknown", None, []),  # counted, not judged
        ("z4", "zh", date(2025, 6, 1), "negative", -0.9, kp("旧的")),  # before the window
        ("o1", None, day, "unknown", None, []),
    ]  # fmt: skip
    got = summaries.by_language(spark.createDataFrame(rows, schema), AS_OF, weeks=4)
    by = got.set_index(C.LANGUAGE)
    assert got[C.LANGUAGE].tolist() == ["en", "zh", "other"]  # most reviews first
    assert by["reviews"].to_dict() == {"en": 3, "zh": 3, "other": 1}
    assert by["unknown"].to_dict() == {"en": 0, "zh": 1, "other": 1}
    assert by.loc["en", "positive_share"] == pytest.approx(2 / 3)
    assert by.loc["zh", "negative_share"] == pytest.approx(1 / 2)
    assert by.loc["zh", "mean_sentiment"] == pytest.approx(0.2)
    assert by.loc["en", "praised"] == "sound, battery life"  # 2 reviews, then 1
    assert by.loc["en", "complained"] == "battery life"
    assert by.loc["zh", "praised"] == "物流, 质量" and by.loc["zh", "complained"] == "客服"
    assert by.loc["other", "praised"] == ""


def test_recommendation_coverage_by_rank_one_source(spark):
    schema = f"{C.CUSTOMER_KEY} string, {C.AS_OF} date, rank int, source string"
    recs = spark.createDataFrame([
        ("a", AS_OF, 1, "als"), ("a", AS_OF, 2, "als"), ("b", AS_OF, 1, "popular_in_country"),
        ("c", AS_OF, 2, "als"), ("c", AS_OF, 1, "popular_overall"),
        ("d", LATER, 1, "als"),  # later as_of: d has none today
    ], schema)  # fmt: skip
    population = spark.createDataFrame([(k,) for k in "abcd"], f"{C.CUSTOMER_KEY} string")
    got = summaries.recommendation_coverage(recs, population, AS_OF)
    assert dict(zip(got["source"], got["customers"], strict=True)) == {
        "als": 1, "popular_in_country": 1, "popular_overall": 1, "none": 1}  # fmt: skip
    assert got["share"].tolist() == [0.25] * 4
    assert "customer_key" not in got.columns


def test_quarantine_by_rule_counts_each_failed_rule(spark):
    schema = f"{C.FAILED_RULES} array<string>, {C.AS_OF} date"
    events = spark.createDataFrame([(["bad_type", "null_key"], AS_OF), (["bad_type"], AS_OF),
                                    (["bad_type"], LATER)], schema)  # fmt: skip
    reviews = spark.createDataFrame([(["rating_range"], AS_OF)], schema)
    got = quality.quarantine_by_rule({"reviews": reviews, "events": events}, AS_OF)
    assert got.to_dict("list") == {"entity": ["events", "events", "reviews"],
                                   "rule": ["bad_type", "null_key", "rating_range"],
                                   "rows": [2, 1, 1]}  # fmt: skip


def test_ledger_runs_one_row_per_job_with_the_worst_status(spark):
    from insight.ops.ledger import LEDGER_SCHEMA

    def entry(job, status, rows_in, start, end, as_of=AS_OF):
        return ("r1", job, None, None, as_of, status, rows_in, rows_in, 0, 0,
                datetime(2026, 1, 1, 0, 0, start), datetime(2026, 1, 1, 0, 0, end), 1.0, None,
                {}, None)  # fmt: skip

    ledger = spark.createDataFrame([
        entry("clean", "ok", 10, 0, 4), entry("clean", "nothing_new", 5, 4, 6),
        entry("nlp", "failed", 1, 7, 9), entry("nlp", "ok", 1, 9, 10, as_of=LATER),
    ], LEDGER_SCHEMA)  # fmt: skip
    got = quality.ledger_runs(ledger, AS_OF)
    assert got["job"].tolist() == ["clean", "nlp"]
    assert got["status"].tolist() == ["nothing_new", "failed"]
    assert got["rows_in"].tolist() == [15, 1]
    assert got["seconds"].tolist() == [6.0, 2.0]


# --- charts and writing --------------------------------------------------------------------


def test_chart_svg_is_inline_and_tags_every_mark():
    chart = charts.hbar("chart-t", ["a", "b", "c"], [3, 1, 2], xlabel="customers")
    assert chart.marks == 3
    assert chart.svg.startswith("<svg") and "<?xml" not in chart.svg
    assert len(re.findall(r'id="chart-t-mark-\d+"', chart.svg)) == 3
    assert 'id="figure_1"' not in chart.svg  # matplotlib's ids would repeat across charts
    assert "http://" not in chart.svg.replace("http://www.w3.org/", "")


def test_write_text_through_the_hadoop_filesystem(spark, tmp_path):
    uri = (tmp_path / "lake" / "reports" / "x" / "index.html").as_uri()  # file:/...: Hadoop
    write_text(spark, uri, "<p>é</p>")
    write_text(spark, uri, "<p>ü</p>")  # replaced, not appended
    assert read_text(spark, uri) == "<p>ü</p>"
    assert (tmp_path / "lake" / "reports" / "x" / "index.html").read_text() == "<p>ü</p>"


# --- the job -------------------------------------------------------------------------------


def test_report_of_a_partial_lake_says_what_to_run(spark, lake):
    from insight.report import job as report

    built = ((CUSTOMER_FEATURES, CUSTOMER_FEATURES_SCHEMA, _features),
             (CUSTOMER_SEGMENTS, CUSTOMER_SEGMENTS_SCHEMA, _segments))  # fmt: skip
    for table, schema, frame in built:
        tables.create_if_missing(spark, table, lake, schema)
        tables.append(frame(spark), table, lake)
    # Keyphrases without their counts (a broken writer): that panel fails, alone.
    broken = spark.createDataFrame([("product", AS_OF)], f"{C.LEVEL} string, {C.WEEK_START} date")
    broken.write.format("delta").save(KEYPHRASE_WEEKLY.path(lake))
    # The page is written with the failed panel marked, and the job fails (exit 2).
    assert report.main(["--lake", lake, "--as-of", str(AS_OF)]) == 2
    page = Path(report_path(lake, AS_OF)).read_text()
    panels = sections(page)
    missing = {k for k, tag in panels.items() if 'data-missing="true"' in tag}
    failed = {k for k, tag in panels.items() if 'data-failed="true"' in tag}
    assert missing == {"clv", "sentiment", "keyphrases", "propensity", "recommendations",
                       "models", "quality"}  # fmt: skip
    assert failed == {"keyphrases"} and "keyphrase_weekly lacks column(s) keyphrase" in page
    for job in ("clv", "nlp", "propensity", "recommend", "clean"):
        assert f"insight run {job} --lake {lake} --as-of {AS_OF}" in page
    assert 'id="chart-rfm"' in page and 'id="chart-segment-size"' in page
    ledger = tables.read(spark, tables.RUN_LEDGER, lake).where("job = 'report'").collect()
    assert [r["status"] for r in ledger] == ["failed"]
    written = ledger
    assert report_path(lake, AS_OF) in written[0]["message"]
    assert "2 of 9 panels with data" in written[0]["message"]
    assert "FAILED (see the log): What customers praise" in written[0]["message"]


# --- the DAG lake in a real browser --------------------------------------------------------


def test_dag_report_draws_every_chart_in_chromium(spark, dag_lake, tmp_path):
    from PIL import Image

    from insight.report import job as report

    assert report.main(["--lake", dag_lake, "--as-of", DAG_AS_OF]) == 0
    path = Path(report_path(dag_lake, date.fromisoformat(DAG_AS_OF)))
    page = path.read_text()

    # Every panel has data on a lake after the whole DAG.
    panels = sections(page)
    assert len(panels) == 9
    assert not [k for k, tag in panels.items() if "data-missing" in tag]
    # Self-contained: nothing fetched (the SVG namespace URIs are names, not requests).
    assert not re.search(r"<link|<img|@import|src=|url\(['\"]?https?:", page)
    # No customer key, anywhere.
    keys = [r[0] for r in tables.read(spark, CUSTOMER_FEATURES, dag_lake)
            .select(C.CUSTOMER_KEY).distinct().collect()]  # fmt: skip
    assert keys and not [k for k in keys if k in page]

    dom = browse(tmp_path, path.as_uri(), "--dump-dom", "--window-size=1400,1000")
    assert 'data-charts-checked="true"' in dom
    drawn = figures(dom)
    want = {"chart-segment-size", "chart-segment-value", "chart-rfm", "chart-clv", "chart-p-alive",
            "chart-sentiment", "chart-keyphrases-praised", "chart-keyphrases-complained",
            "chart-propensity-dist", "chart-deciles-purchase", "chart-deciles-churn",
            "chart-rec-sources", "chart-model-history", "chart-quarantine"}  # fmt: skip
    assert set(drawn) == want
    boxes = {}
    for chart_id, a in drawn.items():
        assert int(a["expected-marks"]) > 0, chart_id
        assert int(a["drawn"]) == int(a["marks"]) == int(a["expected-marks"]), (chart_id, a)
        x, y, w, h = map(int, a["bbox"].split(","))
        assert w > 200 and h > 100, (chart_id, a["bbox"])
        boxes[chart_id] = (x, y, w, h)
    height = int(re.search(r'data-height="(\d+)"', dom).group(1))

    shot = tmp_path / "report.png"
    browse(tmp_path, path.as_uri(), f"--screenshot={shot}", f"--window-size=1400,{height}")
    keep = path.parent / "report.png"  # next to the report, to look at
    shutil.copy(shot, keep)
    image = Image.open(shot).convert("RGB")
    inked = {}
    for chart_id, (x, y, w, h) in boxes.items():
        region = image.crop((x, y, x + w, y + h))
        pixels = list(region.getdata())
        inked[chart_id] = sum(1 for p in pixels if sum(p) < 720) / len(pixels)  # not white
    blank = {k: v for k, v in inked.items() if v < 0.02}
    assert not blank, f"charts without ink in the screenshot: {blank}"
    print(json.dumps({"screenshot": str(keep), "ink": inked}, indent=1))


def test_chinese_keyphrases_render_in_the_reports_font_in_chromium(tmp_path):
    """The report's font stack draws Chinese: a table of Chinese keyphrases in the page's
    stylesheet looks different from the same table with unassigned code points (which every
    font draws as the same missing-glyph box)."""
    from PIL import Image, ImageChops

    from insight.report import page

    installed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True,
                               text=True, check=False).stdout  # fmt: skip
    assert any(f in installed for f in page.FONT_FAMILIES), (
        f"no font of {page.FONT_FAMILIES} covers Chinese here: `make browser` installs one"
    )
    shots = {}
    for name, phrases in {
        "zh": "质量, 物流, 客服",
        "missing": "\ue000\ue001, \ue002\ue003, \ue004\ue005",
    }.items():
        table = page.table(pd.DataFrame({"language": ["zh"], "praised": [phrases]}),
                           {"language": ("language", page.text),
                            "praised": ("most praised", page.text)})  # fmt: skip
        html_path = tmp_path / f"{name}.html"
        html_path.write_text(f"<!doctype html><meta charset=utf-8><style>{page.CSS}</style>"
                             f"<body>{table}</body>", encoding="utf-8")  # fmt: skip
        shots[name] = tmp_path / f"{name}.png"
        # (A window much lower than the page draws only its first lines.)
        browse(tmp_path, html_path.as_uri(), f"--screenshot={shots[name]}",
                "--window-size=600,400")  # fmt: skip
    a, b = (Image.open(shots[k]).convert("RGB") for k in ("zh", "missing"))
    assert ImageChops.difference(a, b).getbbox() is not None, "Chinese drawn as missing glyphs"
