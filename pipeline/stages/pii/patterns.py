"""Detectors for personal data and secrets in free text, each a regex plus a check that rejects look-alikes.

Every detector is `find(text) -> list[(start, end)]` of non-overlapping spans. False positives cost
real text, so each candidate is validated: card numbers by prefix and Luhn checksum, IP addresses by
`ipaddress` and away from version strings, phone numbers by shape and digit count (dates, ranges,
ISBNs and plain numbers have the wrong shape), e-mail domains by a letter-only top-level domain that is
not a file extension (`icon@2x.png` is an image, not an address).

Most documents hold none of these, and a pattern that opens with a look-behind or `\b` makes the regex
engine try it at every position of the text. So each detector first runs a cheap necessary test (a
substring the match must contain, found with `in`, or a regex that opens with a literal or a character
class, which the engine skips to directly) and looks no further when it fails; the full patterns then
run unchanged on the few documents that pass, so the spans found are the same.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

Span = tuple[int, int]

# -- e-mail ----------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"([A-Za-z]{2,24})(?![\w-])"
)
_FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "css", "js", "ico", "bmp", "tif", "tiff"})


def find_emails(text: str) -> list[Span]:
    if "@" not in text:
        return []
    return [m.span() for m in _EMAIL.finditer(text) if m.group(1).lower() not in _FILE_EXTENSIONS]


# -- IP addresses ----------------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
# Words that make a dotted quad a version or build number rather than an address.
_VERSION_CONTEXT = re.compile(r"(?:\bv|\bver\.?|\bversion|\brelease|\bbuild|\bupdate|\bpatch)\s*$", re.IGNORECASE)
# Necessary for a match: four dot-separated digit groups; two colons at most four hex digits apart.
_IPV4_SCREEN = re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d")
_IPV6_SCREEN = re.compile(r":[0-9A-Fa-f]{0,4}:")
_IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|\d{1,3}(?:\.\d{1,3}){3})(?![\w:])"
)


def _ipv4_ok(match: re.Match[str], text: str) -> bool:
    octets = [int(g) for g in match.groups()]
    if any(o > 255 for o in octets) or any(len(g) > 1 and g[0] == "0" for g in match.groups()):
        return False
    # 0.0.0.0, loopback and netmasks identify nobody.
    if octets[0] in (0, 127, 255):
        return False
    return not _VERSION_CONTEXT.search(text[max(0, match.start() - 12) : match.start()])


def _ipv6_ok(candidate: str) -> bool:
    # Needs real hex groups: "a::b" or a clock time are not addresses worth redacting.
    groups = [g for g in re.split(r"[:.]", candidate) if g]
    if len(groups) < 3 or not any(c.isdigit() for c in candidate):
        return False
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def find_ips(text: str) -> list[Span]:
    spans = []
    if _IPV4_SCREEN.search(text):
        spans += [m.span() for m in _IPV4.finditer(text) if _ipv4_ok(m, text)]
    if _IPV6_SCREEN.search(text):
        spans += [m.span() for m in _IPV6_CANDIDATE.finditer(text) if _ipv6_ok(m.group())]
    return sorted(spans)


# -- phone numbers ---------------------------------------------------------------------------------

# Each pattern with a necessary screen: a part every match contains, without the look-arounds.
_PHONE_PATTERNS = [
    # International: +CC then groups, e.g. +44 20 7946 0958, +1 (415) 555-0132, +49-30-1234567.
    (
        re.compile(r"\+\d"),
        re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){2,5}(?![\w]|[.,]\d)"),
    ),
    # North American: (415) 555-0132, 415-555-0132, 415.555.0132, 1-800-555-0199.
    (
        re.compile(r"\d{3}[ .-]\d{4}"),
        re.compile(r"(?<![\w+.-])(?:1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.,-]\d)"),
    ),
    # National with a trunk 0: 020 7946 0958, 030 1234567, 0171/1234567, 01 23 45 67 89.
    (
        re.compile(r"0\d{1,4}[ /-]\d{3}"),
        re.compile(r"(?<![\w+.-])0\d{1,4}[ /-]\d{3,4}[ -]?\d{3,5}(?![\w]|[.,-]\d)"),
    ),
    (
        re.compile(r"0\d[ .]\d\d[ .]\d\d[ .]\d\d[ .]\d\d"),
        re.compile(r"(?<![\w+.-])0\d(?:[ .]\d{2}){4}(?![\w]|[.,-]\d)"),
    ),
]


def find_phones(text: str) -> list[Span]:
    spans: list[Span] = []
    for needed, pattern in _PHONE_PATTERNS:
        if not needed.search(text):
            continue
        for m in pattern.finditer(text):
            digits = sum(c.isdigit() for c in m.group())
            if 9 <= digits <= 15:
                spans.append(m.span())
    return _disjoint(spans)


# -- payment cards ---------------------------------------------------------------------------------

_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w]|[.,-]\d)")
_CARD_SCREEN = re.compile(r"\d(?:[ -]?\d){12}")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6011|65|64[4-9]|35|30[0-5]|36|38)")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_cards(text: str) -> list[Span]:
    spans: list[Span] = []
    if not _CARD_SCREEN.search(text):
        return spans
    for m in _CARD.finditer(text):
        raw = m.group()
        separators = {c for c in raw if not c.isdigit()}
        if len(separators) > 1:
            continue  # "1234 5678-..." mixes separators: a list of numbers, not a card
        digits = re.sub(r"\D", "", raw)
        if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_ok(digits):
            spans.append(m.span())
    return spans


# -- secrets ---------------------------------------------------------------------------------------

# Each pattern with the substrings one of which every match contains (case-sensitive patterns).
_SECRET_PATTERNS = [
    (("AKIA", "ASIA", "ABIA", "ACCA"), re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),  # AWS access key id
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b")),  # GitHub tokens
    (("github_pat_",), re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b")),
    (("glpat-", "gldt-", "glptt-"), re.compile(r"\bgl(?:pat|dt|ptt)-[A-Za-z0-9_-]{20,}\b")),  # GitLab
    (("xox",), re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),  # Slack
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),  # Google API key
    (("k_live_", "k_test_"), re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}\b")),  # Stripe
    (("sk-",), re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}\b")),  # OpenAI / Anthropic style
    (("hf_",), re.compile(r"\bhf_[A-Za-z]{34}\b")),  # Hugging Face
]
# key = value where the key names a secret; only the value is redacted.
_ASSIGNED_SECRET = re.compile(
    r"(?i)\b(?:api[_-]?key|api[_-]?secret|secret[_-]?key|client[_-]?secret|access[_-]?token|auth[_-]?token|"
    r"aws_secret_access_key|private[_-]?key|password|passwd|token|secret)\b[\"']?\s*[:=]\s*[\"']?"
    r"([A-Za-z0-9_\-/+=.]{12,})"
)


# Necessary for _ASSIGNED_SECRET, tested on text.lower(): every key name ends in one of these words.
# Under IGNORECASE an ASCII letter also matches four non-ASCII letters; str.lower() maps the Kelvin sign
# to "k" but leaves long s and dotless i alone and expands dotted capital I, so texts holding one of
# those get the full pattern.
_ASSIGNED_SCREEN = re.compile(r"(?:key|secret|token|passwd|password)[\"']?\s*[:=]")
_IGNORECASE_EXTRAS = ("\u017f", "\u0130", "\u0131", "\u212a")


def _may_assign_secret(text: str) -> bool:
    return bool(_ASSIGNED_SCREEN.search(text.lower())) or any(c in text for c in _IGNORECASE_EXTRAS)


def _looks_random(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value) and len(set(value)) >= 8


# A PEM private key block. `BEGIN.*?END` would rescan the rest of the text from every BEGIN that has
# no END (quadratic: 20,000 BEGIN lines took minutes), so BEGIN and END are found separately.
_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]{1,30} ){0,5}PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]{1,30} ){0,5}PRIVATE KEY(?: BLOCK)?-----")


def _find_private_keys(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    while (begin := _KEY_BEGIN.search(text, pos)) is not None:
        end = _KEY_END.search(text, begin.end())
        if end is None:
            break  # no END after this BEGIN, so none after any later BEGIN either
        spans.append((begin.start(), end.end()))
        pos = end.end()
    return spans


# A JSON web token: three dot-separated base64url segments, the first two JSON objects ("eyJ").
# Tried once per run of token characters, at its first "eyJ" on a word boundary: a later start in the
# same run has a shorter first segment and fails too, so no run is rescanned (linear time even for
# "eyJ-eyJ-eyJ-...", which made the plain pattern quadratic).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}+\.eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+")
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_-]+")
_JWT_START = re.compile(r"\beyJ")


def _find_jwts(text: str) -> list[Span]:
    spans: list[Span] = []
    if "eyJ" not in text:
        return spans
    pos = 0
    for run in _TOKEN_RUN.finditer(text):
        if run.start() < pos or not text.startswith(".eyJ", run.end()):
            continue
        start = _JWT_START.search(text, run.start(), run.end())
        if start is None:
            continue
        match = _JWT.match(text, start.start())
        if match is not None:
            spans.append(match.span())
            pos = match.end()
    return spans


# Every substring one of the patterns above needs (the batch screen in screens.py looks for them all at once).
SECRET_LITERALS = tuple(part for needed, _ in _SECRET_PATTERNS for part in needed)


def find_secrets(text: str, has_literal: bool = True) -> list[Span]:
    """`has_literal=False`: the caller knows no SECRET_LITERALS substring is in `text`."""
    spans = [
        m.span()
        for needed, pattern in _SECRET_PATTERNS
        if has_literal and any(part in text for part in needed)
        for m in pattern.finditer(text)
    ]
    if "-----BEGIN " in text:
        spans += _find_private_keys(text)
    spans += _find_jwts(text)
    if _may_assign_secret(text):
        spans += [m.span(1) for m in _ASSIGNED_SECRET.finditer(text) if _looks_random(m.group(1))]
    return _disjoint(spans)


def _disjoint(spans: list[Span]) -> list[Span]:
    """Earliest-starting, then longest, spans that do not overlap a kept one."""
    kept: list[Span] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


# Order matters: secrets first (tokens hold digit runs that look like cards or phones), then the
# kinds with the most distinctive shapes, phone numbers last.
DETECTORS: dict[str, tuple[str, Callable[[str], list[Span]]]] = {
    "secret": ("<SECRET>", find_secrets),
    "email": ("<EMAIL>", find_emails),
    "card": ("<CARD>", find_cards),
    "ip": ("<IP>", find_ips),
    "phone": ("<PHONE>", find_phones),
}


def redact(text: str, kind: str, find: Callable[[str], list[Span]] | None = None) -> tuple[str, int]:
    """Replace what `kind`'s detector (or `find`, a narrower call of it) finds with its placeholder."""
    placeholder, detector = DETECTORS[kind]
    spans = (find or detector)(text)
    if not spans:
        return text, 0
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(placeholder)
        last = end
    parts.append(text[last:])
    return "".join(parts), len(spans)
