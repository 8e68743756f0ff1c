from datetime import date, datetime

import pytest

from insight.clean.parse import parse_csv_lines, parse_json_lines


def _lines(spark, *lines):
    return spark.createDataFrame([(line,) for line in lines], "value string")


def test_json_fields_are_typed_and_raw_text_is_kept(spark):
    df = _lines(
        spark,
        '{"id": " E1 ", "price": 12.50, "qty": "3", "ts": "2025-03-01T10:15:00+02:00"}',
        '{"id": "E2", "price": "twelve", "qty": 1.5, "ts": "31/12/2025 10:00"}',
        '{"id": "E3", "price": {"amount": 1}, "qty": true, "ts": ""}',
    )
    rows = df.transform(
        parse_json_lines,
        ["id", "price", "qty", "ts"],
        {"price": "double", "qty": "int", "ts": "timestamp"},
    ).collect()
    good, wrong, nested = rows
    assert (good.id, good.price, good.qty, good.ts) == ("E1", 12.5, 3, datetime(2025, 3, 1, 8, 15))
    assert good._parse_ok and good._utf8_ok
    # Wrong types become null typed values, with the text as sent kept beside them.
    assert (wrong.price, wrong.price_raw, wrong.qty, wrong.qty_raw) == (None, "twelve", None, "1.5")
    assert (wrong.ts, wrong.ts_raw) == (None, "31/12/2025 10:00")
    assert (nested.price, nested.price_raw, nested.qty_raw) == (None, '{"amount":1}', "true")
    assert nested.ts_raw is None  # empty text is missing, not a bad value


@pytest.mark.parametrize(
    "line", ['{"id": "E1", "price": 1', "[1, 2]", '"just a string"', "", "   ", "not json"]
)
def test_malformed_json_is_flagged_not_dropped(spark, line):
    (row,) = _lines(spark, line).transform(parse_json_lines, ["id"], {}).collect()
    assert row._parse_ok is False
    assert row._raw == line


def test_replacement_characters_mark_invalid_utf8(spark):
    (row,) = (
        _lines(spark, '{"id": "E1", "q": "caf\ufffd"}')
        .transform(parse_json_lines, ["id", "q"], {})
        .collect()
    )
    assert row._parse_ok is True and row._utf8_ok is False


def test_csv_rows_with_too_few_or_too_many_cells_are_flagged(spark):
    fields = ["id", "name", "born", "updated_at"]
    rows = (
        _lines(
            spark,
            'C1,"Müller, Anna",1980-02-29,2025-01-01T00:00:00Z',
            "C2,Bob,1990-01-01",
            "C3,Eve,1990-01-01,2025-01-01T00:00:00Z,extra",
            'C4,"say ""hi""",1991-13-01,2025-01-01T00:00:00Z',
            "C5,Eve,1990-01-01,2025-01-01T00:00:00Z,",  # an empty trailing cell is a cell
            '"C6","a,b",1990-01-01,',  # quoted commas are not separators; last cell empty
        )
        .transform(parse_csv_lines, fields, {"born": "date", "updated_at": "timestamp"})
        .collect()
    )
    assert [r._parse_ok for r in rows] == [True, False, False, True, False, True]
    assert (rows[0].name, rows[0].born) == ("Müller, Anna", date(1980, 2, 29))
    assert (rows[3].name, rows[3].born, rows[3].born_raw) == ('say "hi"', None, "1991-13-01")


def test_huge_quoted_cells_parse_without_exhausting_the_stack(spark):
    # A StackOverflowError in a task halts the JVM: this test would take the session down.
    cells = ["a" * 1_000_000, '"' * 200_000]
    lines = ['C1,"' + c.replace('"', '""') + '",1990-01-01' for c in cells]
    rows = _lines(spark, *lines).transform(parse_csv_lines, ["id", "name", "born"], {}).collect()
    assert [r._parse_ok for r in rows] == [True, True]
    assert [len(r.name) for r in rows] == [len(c) for c in cells]


def test_unknown_type_is_refused(spark):
    with pytest.raises(ValueError, match="decimal"):
        _lines(spark, "{}").transform(parse_json_lines, ["a"], {"a": "decimal"})
