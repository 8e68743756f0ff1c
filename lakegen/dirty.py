"""Bad-record injection: every good line may be followed by one deliberately broken line.

Each bad record breaks exactly one rule (landing.DIRTY_KINDS maps kind -> rule) and is
otherwise valid. Its id is fresh (same shape as good ids) except for `exact_duplicate`
and `resent_changed`, which repeat the id of the good record they copy. Every injection
is listed in truth/dirty.jsonl so the quality checks can be scored.

Dirt has its own RNG and its own id ranges, so the good records of a lake do not depend
on `dirty_rate`: cleaning a dirty lake should give back the clean one.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections import Counter, deque
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from insight.landing import DEVICES, DIRTY_KINDS

from .catalog import Catalog, Product
from .clock import DAY, iso, iso_ms
from .customers import Customer, Window, local_price
from .pii import make_email, make_person, move_house

EVENT_KINDS = (
    "malformed_json", "invalid_utf8", "missing_customer_id", "missing_event_type",
    "missing_ts", "wrong_type_price", "wrong_type_quantity", "wrong_type_ts",
    "negative_price", "absurd_price", "absurd_quantity", "future_ts", "ancient_ts",
    "unknown_event_type", "orphan_customer", "orphan_product", "exact_duplicate",
    "resent_changed",
)  # fmt: skip
REVIEW_KINDS = (
    "malformed_json", "invalid_utf8", "missing_customer_id", "missing_rating", "missing_ts",
    "wrong_type_rating", "rating_out_of_range", "wrong_type_ts", "future_ts", "ancient_ts",
    "orphan_customer", "orphan_product", "oversize_text", "markup_in_text",
    "exact_duplicate", "resent_changed",
)  # fmt: skip
CUSTOMER_KINDS = (
    "malformed_csv", "invalid_utf8", "missing_email", "invalid_email", "exact_duplicate",
    "resent_changed",
)  # fmt: skip
PRODUCT_KINDS = ("exact_duplicate", "resent_changed")
KINDS = {"events": EVENT_KINDS, "reviews": REVIEW_KINDS, "customers": CUSTOMER_KINDS}
KINDS["products"] = PRODUCT_KINDS
assert all(k in DIRTY_KINDS for kinds in KINDS.values() for k in kinds)

# Id ranges no good record uses: dirty events/reviews count from a high offset within
# the partition's block; orphans point into ranges no customer/product ever gets.
DIRTY_EVENT_BASE = 8_000_000
DIRTY_REVIEW_BASE = 70_000
DIRTY_CUSTOMER_BASE = 5_000_000
_PLACEHOLDER = "@@INVALID-UTF8@@"
_BAD_QUERY_BYTES = (b"caf\xe9 cr\xe8me", b"g\xfcnstig kaufen", b"\xff\xfe kopfh\xf6rer",
                    b"sch\xf6ne schuhe", b"\xc3\x28 robe", b"se\xf1or bag")  # fmt: skip
_BAD_TEXT_BYTES = (b" Tr\xe8s bien emball\xe9.", b" Sehr sch\xf6n!", b" \x80\x81 \xfe",
                   b" Ni\xf1os happy.", b" Qualit\xe4t ok")  # fmt: skip
_LATIN1_NAMES = ("José", "Jürgen", "Hélène", "Åsa", "Björn", "François", "Zoë", "Mónica")
_MARKUP = ("<script>alert(1)</script>", '<a href="http://cheap-deals.example/x">click</a>',
           "<img src=x onerror=alert(1)>", "<b>BEST DEAL</b>")  # fmt: skip


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # reused: dumps() builds one per call


def dumps(record: dict[str, object]) -> bytes:
    """One JSON line (UTF-8, key order kept)."""
    return (_ENCODE(record) + "\n").encode()


def csv_line(fields: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerow(fields)
    return buf.getvalue().encode()


def orphan_customer_id(rng: random.Random) -> str:
    return f"C{rng.randint(9_000_000, 9_999_999)}"


def orphan_product_id(rng: random.Random) -> str:
    return f"P{rng.randint(900_000, 999_999)}"


class Sink:
    """One landing file: counts lines, remembers recent good lines, records injections."""

    def __init__(
        self,
        entity: str,
        path: Path,
        landing: Path,
        rng: random.Random,
        rate: float,
        truth: BinaryIO,
    ) -> None:
        self.entity = entity
        self.kinds = KINDS[entity]
        self.fh = path.open("wb")
        self.rel = path.relative_to(landing).as_posix()
        self.rng = rng
        self.rate = rate
        self.truth = truth
        self.lines = 0
        self.dirty: Counter[str] = Counter()
        self.recent: deque[tuple[str, bytes]] = deque(maxlen=64)

    def header(self, line: str) -> None:
        self.fh.write(f"{line}\n".encode())

    def good(self, key: str, line: bytes) -> str | None:
        """Write a good line; return the kind of bad record to inject after it, if any."""
        self.fh.write(line)
        self.lines += 1
        self.recent.append((key, line))
        if self.rate and self.rng.random() < self.rate:
            return self.rng.choice(self.kinds)
        return None

    def bad(self, kind: str, key: str, line: bytes, expected: dict | None = None) -> None:
        self.fh.write(line)
        self.lines += 1
        self.dirty[kind] += 1
        row: dict[str, object] = {
            "entity": self.entity,
            "kind": kind,
            "key": key,
            "expected_rule": DIRTY_KINDS[kind],
            "file": self.rel,
        }
        if expected is not None:
            row["expected"] = expected
        self.truth.write(dumps(row))

    def duplicate(self) -> None:
        """Write a byte-identical copy of a recent good line."""
        key, line = self.rng.choice(self.recent)
        self.bad("exact_duplicate", key, line)

    def resent(self, key: str, line: bytes, expected: dict) -> None:
        # The original must not be duplicated afterwards: a stale copy written after the
        # correction would make "latest wins" ambiguous for anyone ordering by file position.
        self.recent.pop()
        self.bad("resent_changed", key, line, expected)

    def close(self) -> None:
        self.fh.close()


def _pick(record: dict[str, object], *fields: str) -> dict[str, object]:
    return {f: record[f] for f in fields if f in record}


def _with_bad_bytes(record: dict[str, object], field: str, bad: bytes) -> bytes:
    record[field] = _PLACEHOLDER
    return dumps(record).replace(_PLACEHOLDER.encode(), bad)


def _malformed_json(rng: random.Random, record: dict[str, object], id_field: str) -> bytes:
    """Broken JSON that still starts with the id: truncated (the closing brace is gone)
    or with a comma missing between two fields."""
    text = json.dumps(record, ensure_ascii=False)
    after_id = text.index(str(record[id_field])) + len(str(record[id_field])) + 1
    commas = [i for i in range(after_id, len(text)) if text.startswith(', "', i)]
    if commas and rng.random() < 0.3:
        i = rng.choice(commas)
        return (text[:i] + text[i + 1 :] + "\n").encode()
    return (text[: rng.randrange(after_id, len(text) - 1)] + "\n").encode()


def _ancient(rng: random.Random) -> int:
    return rng.randrange(0, (date(1996, 1, 1) - date(1970, 1, 1)).days * DAY)


def _future(rng: random.Random, window: Window) -> int:
    return window.end - DAY + rng.randint(30, 4000) * DAY + rng.randrange(DAY)


def _wrong_ts(rng: random.Random, t: int, offset: int) -> str:
    if rng.random() < 0.5:
        return rng.choice(("yesterday", "now", "last tuesday"))
    local = datetime(1970, 1, 1) + timedelta(seconds=t + offset * 60)
    return local.strftime("%d/%m/%Y %H:%M")


class EventDirt:
    """Builds bad event lines from the good event just written."""

    def __init__(
        self, sink: Sink, rng: random.Random, catalog: Catalog, window: Window, partition: int
    ) -> None:
        self.sink = sink
        self.rng = rng
        self.catalog = catalog
        self.window = window
        self.partition = partition
        self.count = DIRTY_EVENT_BASE

    def _fresh_id(self) -> str:
        self.count += 1
        return f"E{self.partition:03d}{self.count:07d}"

    def _priced(self, e: dict[str, object], c: Customer) -> None:
        """Turn a search into a product view so the record has a product and a price."""
        if "price" in e:
            return
        e.pop("query", None)
        p = self.catalog.pick(self.rng, c.pick_top(self.rng), c.price_sensitivity)
        rebuilt = _pick(e, "event_id", "event_type", "ts", "customer_id", "session_id")
        rebuilt |= {"product_id": p.product_id, "price": local_price(p.price_eur, c.fx)}
        rebuilt |= {"currency": c.currency, **_pick(e, "device", "channel", "sent_at")}
        rebuilt["event_type"] = "view"
        e.clear()
        e.update(rebuilt)

    def _with_quantity(self, e: dict[str, object], c: Customer) -> None:
        if "quantity" in e:
            return
        self._priced(e, c)
        e["event_type"] = "add_to_cart"
        # Keep landing.EVENT_FIELDS order: quantity comes right after currency.
        tail = {k: e.pop(k) for k in ("device", "channel", "sent_at")}
        e["quantity"] = 1
        e.update(tail)

    def inject(self, kind: str, good: dict[str, object], c: Customer, t: int, off: int) -> None:
        rng = self.rng
        if kind == "exact_duplicate":
            self.sink.duplicate()
            return
        e = dict(good)
        if kind == "resent_changed":
            expected = self._resend(e, c, t)
            self.sink.resent(str(e["event_id"]), dumps(e), expected)
            return
        key = e["event_id"] = self._fresh_id()
        if kind == "malformed_json":
            line = _malformed_json(rng, e, "event_id")
        elif kind == "invalid_utf8":
            search = _pick(e, "event_id", "event_type", "ts", "customer_id", "session_id")
            search |= {"query": "", **_pick(e, "device", "channel", "sent_at")}
            search["event_type"] = "search"
            line = _with_bad_bytes(search, "query", rng.choice(_BAD_QUERY_BYTES))
        else:
            self._break(kind, e, c, t, off)
            line = dumps(e)
        self.sink.bad(kind, str(key), line)

    def _break(self, kind: str, e: dict[str, object], c: Customer, t: int, off: int) -> None:
        rng = self.rng
        if kind == "missing_customer_id":
            del e["customer_id"]
        elif kind == "missing_event_type":
            del e["event_type"]
        elif kind == "missing_ts":
            del e["ts"]
        elif kind == "wrong_type_price":
            self._priced(e, c)
            e["price"] = rng.choice(("twelve", True, {"amount": e["price"], "currency": "EUR"}))
        elif kind == "wrong_type_quantity":
            self._with_quantity(e, c)
            e["quantity"] = rng.choice(("2x", 1.5))
        elif kind == "wrong_type_ts":
            e["ts"] = _wrong_ts(rng, t, off)
        elif kind == "negative_price":
            self._priced(e, c)
            e["price"] = -float(e["price"])  # type: ignore[arg-type]
        elif kind == "absurd_price":
            self._priced(e, c)
            e["price"] = round(rng.uniform(2_000_000, 50_000_000), 2)
        elif kind == "absurd_quantity":
            self._with_quantity(e, c)
            e["quantity"] = rng.choice((0, -3, 10_000))
        elif kind == "future_ts":
            ft = _future(rng, self.window)
            e["ts"] = iso(ft, c.offset(ft))
            e["sent_at"] = iso_ms(ft * 1000 + rng.randrange(200, 20_000))
        elif kind == "ancient_ts":
            at = _ancient(rng)
            e["ts"] = iso(at, off)
        elif kind == "unknown_event_type":
            e["event_type"] = rng.choice(("wishlist", "click"))
        elif kind == "orphan_customer":
            e["customer_id"] = orphan_customer_id(rng)
        elif kind == "orphan_product":
            self._priced(e, c)
            e["product_id"] = orphan_product_id(rng)
        else:
            raise ValueError(f"not an event dirty kind: {kind}")

    def _resend(self, e: dict[str, object], c: Customer, t: int) -> dict[str, object]:
        """Correct a few fields of the same event and send it again later."""
        rng = self.rng
        changed: dict[str, object] = {}
        if "quantity" in e:
            old = int(e["quantity"])  # type: ignore[arg-type]
            e["quantity"] = rng.choice([q for q in range(1, min(20, old + 3) + 1) if q != old])
            changed["quantity"] = e["quantity"]
        if "price" in e and rng.random() < 0.6:
            e["price"] = max(0.01, round(float(e["price"]) * rng.uniform(0.8, 0.95), 2))  # type: ignore[arg-type]
            changed["price"] = e["price"]
        if not changed or rng.random() < 0.5:
            e["device"] = rng.choice([d for d in DEVICES if d != e["device"]])
            changed["device"] = e["device"]
        sent = datetime.fromisoformat(str(e["sent_at"]))
        later = sent + timedelta(milliseconds=rng.randrange(60_000, 2 * DAY * 1000))
        e["sent_at"] = iso_ms(int(later.timestamp() * 1000))
        changed["sent_at"] = e["sent_at"]
        return changed


# The note a customer adds when editing a review to one star more / one star less.
_UP_NOTES = (
    "Update: customer service sorted it out, so one more star.",
    "Update: it grew on me after a few weeks.",
    "Edit: the replacement works much better.",
)
_DOWN_NOTES = (
    "Update: it broke after a month, so dropping a star.",
    "Edit: the quality went downhill quickly.",
    "Update: returned the second one as well.",
)
_UP_NOTES_ZH = ("追评：客服帮忙解决了，加一星。", "追评：用了几周越来越喜欢了。",
                "追评：换的新的好用多了。")  # fmt: skip
_DOWN_NOTES_ZH = ("追评：用了一个月就坏了，减一星。", "追评：质量越来越差。",
                  "追评：第二个也退了。")  # fmt: skip
_HAN = re.compile(r"[\u4e00-\u9fff]")


class ReviewDirt:
    """Builds bad review lines from the good review just written."""

    def __init__(self, sink: Sink, rng: random.Random, window: Window, partition: int) -> None:
        self.sink = sink
        self.rng = rng
        self.window = window
        self.partition = partition
        self.count = DIRTY_REVIEW_BASE

    def _fresh_id(self) -> str:
        self.count += 1
        return f"R{self.partition:03d}{self.count:05d}"

    def inject(self, kind: str, good: dict[str, object], c: Customer, t: int, off: int) -> None:
        rng = self.rng
        if kind == "exact_duplicate":
            self.sink.duplicate()
            return
        r = dict(good)
        if kind == "resent_changed":
            expected = self._resend(r)
            self.sink.resent(str(r["review_id"]), dumps(r), expected)
            return
        key = r["review_id"] = self._fresh_id()
        text = str(r["text"])
        if kind == "malformed_json":
            line = _malformed_json(rng, r, "review_id")
        elif kind == "invalid_utf8":
            r["text"] = text + _PLACEHOLDER
            line = dumps(r).replace(_PLACEHOLDER.encode(), rng.choice(_BAD_TEXT_BYTES))
        else:
            if kind == "missing_customer_id":
                del r["customer_id"]
            elif kind == "missing_rating":
                del r["rating"]
            elif kind == "missing_ts":
                del r["ts"]
            elif kind == "wrong_type_rating":
                r["rating"] = rng.choice(("five", "4 stars", "3/5"))
            elif kind == "rating_out_of_range":
                r["rating"] = rng.choice((0, 6, 10, -1))
            elif kind == "wrong_type_ts":
                r["ts"] = _wrong_ts(rng, t, off)
            elif kind == "future_ts":
                ft = _future(rng, self.window)
                r["ts"] = iso(ft, c.offset(ft))
                r["sent_at"] = iso_ms(ft * 1000 + rng.randrange(200, 20_000))
            elif kind == "ancient_ts":
                r["ts"] = iso(_ancient(rng), off)
            elif kind == "orphan_customer":
                r["customer_id"] = orphan_customer_id(rng)
            elif kind == "orphan_product":
                r["product_id"] = orphan_product_id(rng)
            elif kind == "oversize_text":
                r["text"] = " ".join([text] * (20_001 // (len(text) + 1) + 1))
            elif kind == "markup_in_text":
                cut = text.find(". ") + 2 if ". " in text else len(text)
                r["text"] = f"{text[:cut]} {rng.choice(_MARKUP)} {text[cut:]}".strip()
            else:
                raise ValueError(f"not a review dirty kind: {kind}")
            line = dumps(r)
        self.sink.bad(kind, str(key), line)

    def _resend(self, r: dict[str, object]) -> dict[str, object]:
        """The customer edits the review: new rating, an update note, a later sent_at."""
        rng = self.rng
        old = int(r["rating"])  # type: ignore[arg-type]
        # A Chinese review is edited in Chinese (the same draws: English lakes are unchanged).
        chinese = _HAN.search(str(r["text"])) is not None
        if old == 1 or (old < 5 and rng.random() < 0.5):
            r["rating"] = old + 1
            note = rng.choice(_UP_NOTES_ZH if chinese else _UP_NOTES)
        else:
            r["rating"] = old - 1
            note = rng.choice(_DOWN_NOTES_ZH if chinese else _DOWN_NOTES)
        r["text"] = f"{r['text']} {note}"
        sent = datetime.fromisoformat(str(r["sent_at"]))
        later = sent + timedelta(milliseconds=rng.randrange(3_600_000, 20 * DAY * 1000))
        r["sent_at"] = iso_ms(int(later.timestamp() * 1000))
        return {"rating": r["rating"], "text": r["text"], "sent_at": r["sent_at"]}


class CustomerDirt:
    """Builds bad CRM rows after the good row just written."""

    def __init__(self, sink: Sink, rng: random.Random, window: Window, partition: int) -> None:
        self.sink = sink
        self.rng = rng
        self.window = window
        self.partition = partition
        self.count = 0

    def _fresh_id(self) -> str:
        # At most one bad row per good row, so a partition's 2,000 slots never run out.
        self.count += 1
        return f"C{DIRTY_CUSTOMER_BASE + self.partition * 2_000 + self.count:07d}"

    def inject(self, kind: str, row: list[str], c: Customer) -> None:
        rng = self.rng
        if kind == "exact_duplicate":
            self.sink.duplicate()
            return
        if kind == "resent_changed":
            self._resend(list(row), c)
            return
        # Fresh ids belong to other (invented) people: same kind of row, new person.
        person = make_person(rng, c.person.country, c.birth_date.year)
        bad = list(row)
        bad[0] = key = self._fresh_id()
        bad[1:9] = [person.first_name, person.last_name, person.email, person.phone,
                    person.street, person.city, person.postcode, person.country]  # fmt: skip
        if kind == "malformed_csv":
            if rng.random() < 0.5:
                short = bad[: rng.randint(2, len(bad) - 2)]
                line = csv_line(short)
            else:
                # An unescaped comma inside the street, or trailing junk columns.
                if rng.random() < 0.5:
                    bad[5] = f"{bad[5]}, Hinterhaus"
                    line = (",".join(bad) + "\n").encode()
                else:
                    line = csv_line([*bad, "", "legacy-import"])
        elif kind == "invalid_utf8":
            bad[1] = _PLACEHOLDER
            line = csv_line(bad).replace(
                _PLACEHOLDER.encode(), rng.choice(_LATIN1_NAMES).encode("latin-1")
            )
        elif kind == "missing_email":
            bad[3] = ""
            line = csv_line(bad)
        elif kind == "invalid_email":
            local = person.email.split("@")[0]
            bad[3] = rng.choice((f"{local}@", f"{local}.example.com", f"{local}@@gmail.com"))
            line = csv_line(bad)
        else:
            raise ValueError(f"not a customer dirty kind: {kind}")
        self.sink.bad(kind, key, line)

    def _resend(self, row: list[str], c: Customer) -> None:
        """The customer moved and changed email: same id, later updated_at."""
        rng = self.rng
        street, city, postcode = move_house(rng, c.person)
        p = c.person
        email = make_email(rng, p.first_name, p.last_name, p.country, c.birth_date.year)
        last = min(self.window.end, c.churn or self.window.end) - 1
        updated = rng.randrange(c.updated + 3_600, max(c.updated + 3_601, last))
        row[3], row[5], row[6], row[7] = email, street, city, postcode
        row[12] = iso(updated, zulu=True)
        expected = {"email": email, "street": street, "city": city, "postcode": postcode}
        expected["updated_at"] = row[12]
        self.sink.resent(row[0], csv_line(row), expected)


def inject_product(sink: Sink, rng: random.Random, kind: str, p: Product, window: Window) -> None:
    """Product dirt: a repeated row, or a price correction with a later updated_at."""
    if kind == "exact_duplicate":
        sink.duplicate()
        return
    row = p.csv_row()
    price = round(p.price_eur * rng.choice((0.8, 0.85, 0.9, 1.1, 1.15, 1.2)), 2)
    updated = rng.randrange(p.updated_at + 3_600, max(p.updated_at + 3_601, window.end - 1))
    row[5] = f"{price:.2f}"
    row[8] = iso(updated, p.updated_offset, zulu=True)
    sink.resent(p.product_id, csv_line(row), {"price": row[5], "updated_at": row[8]})
