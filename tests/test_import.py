"""`insight import`: a plain transaction export mapped onto the landing contract, then
ingest and clean unchanged on it (validation, quarantine, the counts balance)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from browser import browse, figures, sections
from pyspark.sql import functions as F

from insight import columns as C
from insight import landing, tables
from insight.cli import main
from insight.errors import MappingError
from insight.imports.mapping import Source, check_columns, load_mapping
from insight.imports.run import read_export
from insight.imports.transform import canonical_lines, profile, to_customers, to_events, to_products
from insight.report.run import report_path

# CI has ../shared beside the repository; a user's machine may not (the test skips).
ONLINE_RETAIL = (
    Path(__file__).resolve().parents[2] / "shared/data/online-retail/online_retail.csv.gz"
)
UCI_COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
               "CustomerID", "Country")  # fmt: skip
# Hand-written lines in the UCI export's shape, one per case the mapping must get right.
LINES = [
    # a sale (UK winter time = UTC)
    ("536365", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "6", "2010-12-01 08:26:00",
     "2.55", "17850", "United Kingdom"),
    # the same product later at price zero (a free item), in UK summer time (UTC+1)
    ("556001", "85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "2", "2011-06-08 10:00:00",
     "0", "17850", "United Kingdom"),
    # a cancellation: C invoice, negative quantity
    ("C536379", "22556", "PLASTERS IN TIN CIRCUS PARADE", "-12", "2010-12-01 09:41:00",
     "1.65", "14527.0", "France"),
    # a sale no customer can be attributed to
    ("536544", "21773", "DECORATIVE ROSE BATHROOM BOTTLE", "1", "2010-12-01 14:32:00",
     "2.51", "", "United Kingdom"),
    # a stock write-off: negative quantity, no C, no customer, price zero
    ("536589", "21777", "", "-10", "2010-12-01 16:50:00", "0", "", "United Kingdom"),
    # a country with no ISO-2 code in the mapping
    ("537000", "22139", "RETROSPOT TEA SET CERAMIC 11 PC", "3", "2010-12-03 10:00:00",
     "4.95", "12345", "Atlantis"),
    # postage on an invoice: not goods
    ("536366", "POST", "POSTAGE", "1", "2010-12-01 08:28:00", "18.00", "17850",
     "United Kingdom"),
]  # fmt: skip


@pytest.fixture(scope="module")
def mapped(spark):
    """The hand-written lines through the Online Retail mapping, collected once."""
    mapping = load_mapping("online_retail")
    source = spark.createDataFrame(LINES, ", ".join(f"{c} string" for c in UCI_COLUMNS))
    lines = canonical_lines(source, mapping).persist()
    out = {
        "events": [r.asDict() for r in lines.transform(to_events, mapping).collect()],
        "customers": {r.customer_id: r.asDict() for r in lines.transform(to_customers).collect()},
        "products": {
            r.product_id: r.asDict() for r in lines.transform(to_products, mapping).collect()
        },
        "profile": lines.transform(profile).first().asDict(),
    }
    lines.unpersist()
    return out


def _event(mapped, order_id: str) -> dict:
    (event,) = [e for e in mapped["events"] if e["order_id"] == order_id]
    return event


def test_every_line_is_one_event_with_the_contract_s_fields(mapped):
    assert len(mapped["events"]) == len(LINES)
    assert all(tuple(e) == landing.EVENT_FIELDS for e in mapped["events"])
    assert len({e["event_id"] for e in mapped["events"]}) == len(LINES)


def test_a_sale_is_a_purchase_in_utc_in_pounds_on_the_web(mapped):
    sale = _event(mapped, "536365")
    assert (sale["event_type"], sale["ts"], sale["customer_id"], sale["product_id"]) == (
        landing.PURCHASE, "2010-12-01T08:26:00Z", "17850", "85123A")  # fmt: skip
    assert (sale["quantity"], sale["price"], sale["currency"]) == ("6", "2.55", "GBP")
    assert (sale["channel"], sale["device"], sale["sent_at"]) == ("web", None, sale["ts"])
    assert _event(mapped, "556001")["ts"] == "2011-06-08T09:00:00Z"  # British summer time
    assert (mapped["profile"]["first_ts"], mapped["profile"]["last_ts"]) == (
        "2010-12-01T08:26:00Z", "2011-06-08T09:00:00Z")  # fmt: skip


def test_a_cancellation_is_a_return_of_the_quantity_returned(mapped):
    back = _event(mapped, "C536379")
    assert (back["event_type"], back["quantity"], back["customer_id"]) == (
        landing.RETURN, "12", "14527")  # fmt: skip
    assert mapped["profile"]["returns"] == 1


def test_a_line_without_customer_is_an_event_without_one_and_no_customer_is_invented(mapped):
    anonymous = _event(mapped, "536544")
    assert anonymous["customer_id"] is None and anonymous["event_type"] == landing.PURCHASE
    assert set(mapped["customers"]) == {"17850", "14527", "12345"}
    assert mapped["profile"]["without_customer"] == 2


def test_customers_carry_no_invented_pii_and_first_and_last_seen(mapped):
    customer = mapped["customers"]["17850"]
    assert tuple(customer) == landing.CUSTOMER_FIELDS
    pii = ("first_name", "last_name", "email", "phone", "street", "city", "postcode")
    assert all(customer[f] is None for f in pii)
    assert (customer["country"], customer["signup_at"], customer["updated_at"]) == (
        "GB", "2010-12-01T08:26:00Z", "2011-06-08T09:00:00Z")  # fmt: skip
    assert mapped["customers"]["14527"]["country"] == "FR"


def test_zero_price_is_kept_and_the_product_takes_its_last_positive_price(mapped):
    assert _event(mapped, "556001")["price"] == "0"
    heart = mapped["products"]["85123A"]
    assert (heart["price"], heart["name"], heart["category_path"], heart["currency"]) == (
        "2.55", "WHITE HANGING HEART T-LIGHT HOLDER", "Uncategorised", "GBP")  # fmt: skip
    assert mapped["profile"]["zero_price"] == 2
    # on sale within the mapping's 90 days before the export's last line (2011-06-08)
    assert heart["available"] == "true" and mapped["products"]["22556"]["available"] is None


def test_a_write_off_stays_negative_for_clean_to_quarantine(mapped):
    write_off = _event(mapped, "536589")
    assert (write_off["event_type"], write_off["quantity"]) == (landing.PURCHASE, "-10")
    assert mapped["products"]["21777"]["name"] is None  # no description: clean names it
    assert mapped["profile"]["negative_quantity_not_return"] == 1


def test_an_unknown_country_is_left_unknown_and_named(mapped):
    assert mapped["customers"]["12345"]["country"] is None
    assert mapped["profile"]["unknown_country"] == 1
    assert mapped["profile"]["unknown_country_names"] == ["Atlantis"]


def test_a_parquet_export_with_typed_columns_maps_like_the_csv(spark, tmp_path):
    """Typed columns: a float customer id, a long quantity, a zone-less timestamp (UK
    local time, as the CSV's text)."""
    mapping = dataclasses.replace(load_mapping("online_retail"), source=Source("parquet"))
    schema = (
        "InvoiceNo string, StockCode string, Description string, Quantity long, "
        "InvoiceDate timestamp_ntz, UnitPrice double, CustomerID double, Country string"
    )
    row = ("556001", "85123A", "HEART", 2, datetime(2011, 6, 8, 10, 0), 2.55, 17850.0, "France")
    spark.createDataFrame([row], schema).write.parquet(str(tmp_path / "export"))
    export = read_export(spark, str(tmp_path / "export"), mapping)
    lines = canonical_lines(export, mapping)
    (event,) = lines.transform(to_events, mapping).collect()
    assert (event.ts, event.customer_id, event.quantity, event.price) == (
        "2011-06-08T09:00:00Z",
        "17850",
        "2",
        "2.55",
    )


def test_a_mapped_column_missing_from_the_export_is_named(spark):
    mapping = load_mapping("online_retail")
    export = spark.createDataFrame([], "InvoiceNo string, StockCode string, Quantity string")
    with pytest.raises(MappingError, match=r"'CustomerID' \(for customer_id\).*not found in x.csv"):
        check_columns(mapping, export.columns, where="x.csv")


def test_a_bad_mapping_names_its_file_and_key(tmp_path):
    shipped = (Path(__file__).parents[1] / "conf/imports/online_retail.yaml").read_text()
    typo = tmp_path / "typo.yaml"
    typo.write_text(shipped.replace("columns:", "colums:"))
    with pytest.raises(MappingError, match=r"typo.yaml: unknown config key 'colums'"):
        load_mapping(str(typo))
    norway = tmp_path / "norway.yaml"  # YAML 1.1 reads a bare NO as false
    norway.write_text(shipped.replace('Norway: "NO"', "Norway: NO"))
    with pytest.raises(MappingError, match=r"norway.yaml: countries: Norway must map"):
        load_mapping(str(norway))
    with pytest.raises(MappingError, match=r"no mapping 'online_retial'.*online_retail"):
        load_mapping("online_retial")


@pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason="../shared/data not beside the repo")
def test_online_retail_head_through_the_dag_to_its_report(spark, tmp_path, capsys):
    """The first 2,000 real lines: import, ingest, clean; every line is in silver, in
    quarantine or a collapsed duplicate, and the unattributed ones are quarantined by name;
    then features, segments and the report, which Chromium draws."""
    from insight.clean import job as clean
    from insight.ingest import job as ingest

    head = tmp_path / "online_retail_head.csv.gz"  # gzipped, as the shared file
    with gzip.open(ONLINE_RETAIL, "rt", encoding="utf-8") as src:
        lines = "".join(next(src) for _ in range(2_001))  # header + 2,000 lines
    with gzip.open(head, "wt", encoding="utf-8") as out:
        out.write(lines)
    lake = str(tmp_path / "lake")
    argv = ["import", "--mapping", "online_retail", "--source", str(head), "--lake", lake]
    assert main(argv) == 0
    assert "2,000 lines read" in capsys.readouterr().out
    assert main(argv) == 2  # the same name again: refused, nothing landed twice
    manifest = json.loads((Path(lake) / "landing/_imports/online_retail.json").read_text())
    assert manifest["lines"] == manifest["written"]["events"] == 2_000

    args = ["--lake", lake, "--as-of", "2011-12-10"]
    assert ingest.main(args) == 0 and clean.main(args) == 0

    def read(table):
        return tables.read(spark, table, lake)

    ledger = read(tables.RUN_LEDGER).where(
        (F.col("job") == "clean") & (F.col("table_name") == "silver.events")
    )
    totals = ledger.agg(*[F.sum(c).alias(c) for c in ("rows_in", "rows_written",
                        "rows_quarantined", "duplicates_collapsed")]).first()  # fmt: skip
    silver = read(tables.silver(landing.EVENTS))
    quarantined = read(tables.quarantine(landing.EVENTS))
    assert totals.rows_in == 2_000
    assert silver.count() + quarantined.count() + totals.duplicates_collapsed == 2_000
    unattributed = quarantined.where(F.array_contains(C.FAILED_RULES, "customer_id_not_null"))
    assert unattributed.count() == manifest["profile"]["without_customer"] > 0
    returns = silver.where(F.col(C.EVENT_TYPE) == landing.RETURN).count()
    assert 0 < returns <= manifest["profile"]["returns"]
    # Customers known by id only all pass: none quarantined, none invented.
    assert read(tables.silver(landing.CUSTOMERS)).count() == manifest["written"]["customers"]
    assert read(tables.quarantine(landing.CUSTOMERS)).count() == 0
    # No reviews in a transaction export: nlp says so and skips, the DAG can go on.
    assert main(["run", "nlp", *args]) == 0
    skipped = read(tables.RUN_LEDGER).where(
        (F.col("job") == "nlp") & (F.col("status") == "skipped")
    )
    assert "no reviews in this lake" in skipped.first()["message"]

    # Its report in a real browser: the customer panels draw, the review panels say why
    # they are empty (no reviews), not "run nlp".
    for job in ("features", "segment", "report"):
        assert main(["run", job, *args]) == 0, job
    path = Path(report_path(lake, date(2011, 12, 10)))
    panels = sections(path.read_text())
    for review_panel in ("sentiment", "keyphrases"):
        assert 'data-missing="true"' in panels[review_panel]
    page = path.read_text()
    assert page.count("ran for 2011-12-10 but could not build") >= 2
    assert "no reviews in this lake" in page
    dom = browse(tmp_path, path.as_uri(), "--dump-dom", "--window-size=1400,1000")
    assert 'data-charts-checked="true"' in dom
    drawn = figures(dom)
    assert {"chart-segment-size", "chart-rfm"} <= set(drawn)
    for chart_id, a in drawn.items():
        assert int(a["drawn"]) == int(a["marks"]) == int(a["expected-marks"]) > 0, (chart_id, a)


def test_postage_is_an_event_but_a_product_never_offered(mapped):
    postage = [e for e in mapped["events"] if e["product_id"] == "POST"]
    assert len(postage) == 1 and postage[0]["event_type"] == landing.PURCHASE
    post = mapped["products"]["POST"]
    assert (post["category_path"], post["available"]) == ("Not goods", "false")
    # Goods keep the mapping's category and their availability.
    assert mapped["products"]["85123A"]["category_path"] == "Uncategorised"
