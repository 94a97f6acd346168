"""pii: a table of personal data that must be replaced and of look-alikes that must survive."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import read_dataset, write

from pipeline.stages.pii import Pii, PiiConfig
from pipeline.stages.pii.patterns import luhn_ok

# (text, expected text, kind)
POSITIVES = [
    ("Write to jane.doe+news@example.co.uk today", "Write to <EMAIL> today", "email"),
    ("mail: J_Smith@mail.example.com.", "mail: <EMAIL>.", "email"),
    ("server at 192.168.1.20 is down", "server at <IP> is down", "ip"),
    ("resolve via 8.8.8.8, then retry", "resolve via <IP>, then retry", "ip"),
    ("IPv6 2001:db8:85a3::8a2e:370:7334 here", "IPv6 <IP> here", "ip"),
    ("full 2001:0db8:0000:0000:0000:ff00:0042:8329 form", "full <IP> form", "ip"),
    ("call +44 20 7946 0958 now", "call <PHONE> now", "phone"),
    ("Phone: (415) 555-0132", "Phone: <PHONE>", "phone"),
    ("call 415-555-0132.", "call <PHONE>.", "phone"),
    ("Tel. +49 30 1234567", "Tel. <PHONE>", "phone"),
    ("tel 020 7946 0958", "tel <PHONE>", "phone"),
    ("appelez le 01 23 45 67 89", "appelez le <PHONE>", "phone"),
    ("toll free +1-800-555-0199", "toll free <PHONE>", "phone"),
    ("card 4111 1111 1111 1111 exp 12/27", "card <CARD> exp 12/27", "card"),
    ("mastercard 5555555555554444", "mastercard <CARD>", "card"),
    ("amex 3782-822463-10005 ok", "amex <CARD> ok", "card"),
    ("key AKIAIOSFODNN7EXAMPLE in the log", "key <SECRET> in the log", "secret"),
    ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token <SECRET>", "secret"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nafter",
        "<SECRET>\nafter",
        "secret",
    ),
    ("api_key = 'a1b2c3d4e5f6g7h8i9j0'", "api_key = '<SECRET>'", "secret"),
    ("AIzaSyD-abcdefghijklmnopqrstuvwxyz12345 leaked", "<SECRET> leaked", "secret"),
    ("slack xoxb-123456789012-abcdefghij", "slack <SECRET>", "secret"),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        "jwt <SECRET> end",
        "secret",
    ),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe <SECRET>", "secret"),
]

NEGATIVES = [
    "version 1.2.3.4 released",
    "Python 3.11.4 and v2.0.0.1",
    "Windows build 10.0.19041.1",
    "released 2016-12-07",
    "on 07.12.2016 and 12/07/2016",
    "Wednesday, December 7, 2016 at 8:40 AM",
    "between 1990-2000",
    "price $1,299.99",
    "ISBN 978-0-306-40615-7",
    "population 1,234,567,890",
    "the 12:30:45 train",
    "icon@2x.png and logo@3x.jpg",
    "std::vector<int> and a::b",
    "order number 1234567890123",
    "4111 1111 1111 1112 fails the Luhn check",
    "call me at 5 pm",
    "score 3-2",
    "+5 points",
    "1.5 million",
    "127.0.0.1 localhost",
    "Netmask 255.255.255.0",
    "in 2019 2020 2021",
    "room 101, 202, 303",
    "password: hunter2",
    "ratio 16:9",
    "RFC 2616 section 14.9.3",
    "coordinates 51.5074, -0.1278",
    "Apollo 11 launched 16 July 1969",
    "@username on social media",
    "ISO 9001:2015 certified",
]


@pytest.mark.parametrize(("text", "expected", "kind"), POSITIVES)
def test_personal_data_is_replaced(text: str, expected: str, kind: str) -> None:
    scrubbed, counts = Pii(PiiConfig()).scrub(text)
    assert scrubbed == expected
    assert counts[kind] == 1
    assert sum(v for k, v in counts.items() if k != kind) == 0


@pytest.mark.parametrize("text", NEGATIVES)
def test_look_alikes_survive(text: str) -> None:
    scrubbed, counts = Pii(PiiConfig()).scrub(text)
    assert scrubbed == text
    assert all(v == 0 for v in counts.values())


def test_luhn() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")


def test_a_switched_off_kind_is_kept_and_counted_as_null() -> None:
    scrubbed, counts = Pii(PiiConfig(phone=False)).scrub("a@example.org or (415) 555-0132")
    assert scrubbed == "<EMAIL> or (415) 555-0132"
    assert counts["phone"] is None and counts["email"] == 1


def test_published_rows_carry_counts_per_kind(tmp_path: Path, run_pipeline) -> None:
    body = (
        "The volunteers who organise the harbour festival can be reached in several ways, and they asked "
        "us to print all of them here so that visitors know whom to contact about the boats and the stalls. "
        "Write to festival@harbour.example.org or to the chair at chair@harbour.example.org, or call the "
        "office on (415) 555-0132 during the week. The booking site runs on 203.0.113.7 and was upgraded "
        "to version 2.4.1.9 last spring, which the organisers said made it much faster than before. "
        "The festival opens on Friday. Entry is free for children."
    )
    write(tmp_path / "in" / "a.txt", body)
    result = run_pipeline(tmp_path / "in")
    (row,) = read_dataset(result.dataset).to_pylist()
    assert row["pii"] == {"email": 2, "ip": 1, "phone": 1, "card": 0, "secret": 0}
    assert "festival@" not in row["text"] and "<EMAIL>" in row["text"]
    assert "version 2.4.1.9" in row["text"]
