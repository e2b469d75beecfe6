"""RFC 5424 message building, framing and UDP truncation (delivery.formats.syslog)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.formats import cef, leef
from delivery.formats import syslog as fmt
from tests.receivers.rsyslog import deframe_octet_counting, parse_cef, parse_rfc5424

MARKER = "…[truncated]".encode()


@pytest.mark.parametrize(
    ("value", "code"),
    [(None, 16), ("", 16), ("local0", 16), ("LOCAL7", 23), ("kern", 0), ("authpriv", 10), ("13", 13), (23, 23)],
)
def test_facility_names_and_numbers(value, code):
    assert fmt.facility_code(value) == code


@pytest.mark.parametrize("value", ["local8", "24", -1, "syslogd"])
def test_unknown_facility_is_refused(value):
    with pytest.raises(ValueError):
        fmt.facility_code(value)


def test_pri_is_facility_times_8_plus_severity():
    # The documented mapping: info 6, low 5, medium 4, high 3, critical 2.
    assert {s: fmt.pri(16, s) for s in ("info", "low", "medium", "high", "critical")} == {
        "info": 134, "low": 133, "medium": 132, "high": 131, "critical": 130,
    }  # fmt: skip
    assert fmt.pri(10, "info") == 86  # WIRE-FORMATS.md §8 example: authpriv + info
    assert fmt.pri(16, None) == fmt.pri(16, "bogus") == 134


def test_msgid_is_type_cut_to_32_printable_ascii():
    assert fmt.msgid_for("finding.new") == "finding.new"
    assert fmt.msgid_for("x" * 40) == "x" * 32
    assert fmt.msgid_for("a b\tc€\n") == "a_b_c__"
    assert fmt.msgid_for("") == "-"


def test_sd_value_escapes_quote_backslash_and_bracket_only():
    assert fmt.escape_sd_value('a"b\\c]d[e=f\n') == 'a\\"b\\\\c\\]d[e=f\n'


@pytest.mark.parametrize("name", ["", "a b", "a=b", 'a"', "a]", "x" * 33, "é"])
def test_sd_param_names_are_checked(name):
    with pytest.raises(ValueError):
        fmt.sd_element("x@32473", [(name, "v")])


def test_message_layout_matches_rfc5424_example():
    sd = fmt.sd_element("siemhub@32473", [("eventId", "e-1"), ("note", 'a]b"c')])
    head = fmt.head(prival=86, timestamp="2024-05-31T16:08:37.123Z", hostname="gw-1", msgid="AUTH", structured_data=sd)
    msg = fmt.message(head, b"login failed")
    assert (
        msg == b"<86>1 2024-05-31T16:08:37.123Z gw-1 siemhub - AUTH "
        b'[siemhub@32473 eventId="e-1" note="a\\]b\\"c"] login failed'
    )
    assert not msg.startswith(b"\xef\xbb\xbf") and b"\xef\xbb\xbf" not in msg  # no BOM, by decision
    parsed = parse_rfc5424(msg.decode())
    assert parsed["sd"] == {"siemhub@32473": {"eventId": "e-1", "note": 'a]b"c'}}
    assert parsed["msg"] == "login failed"


def test_hostname_is_sanitized_to_printusascii():
    head = fmt.head(prival=134, timestamp="-", hostname="my host\n€", msgid="-", structured_data="-")
    assert head == b"<134>1 - my_host__ siemhub - - -"


def test_octet_counting_counts_bytes_not_characters():
    msg = "<134>1 - h siemhub - - - €€ 日本 🙂".encode()
    framed = fmt.frame_octet_counting(msg)
    assert framed.startswith(str(len(msg)).encode() + b" ")
    assert len(msg) > len(msg.decode())  # multi-byte: characters would undercount
    assert deframe_octet_counting(framed + framed) == [msg, msg]


def test_lf_framing_never_carries_a_raw_lf():
    framed = fmt.frame_lf(b'<134>1 - h a - - [x@1 v="a\nb"] m')
    assert framed == b'<134>1 - h a - - [x@1 v="a b"] m\n'
    assert fmt.frame(b"m", "lf") == b"m\n" and fmt.frame(b"m", "octet-counting") == b"1 m"
    with pytest.raises(ValueError):
        fmt.frame(b"m", "nul")


def test_truncation_respects_utf8_boundaries():
    data = ("a" * 10 + "€" * 10).encode()  # € is 3 bytes
    for limit in range(len(MARKER), len(data) + 5):
        out = fmt.truncate_utf8(data, limit)
        assert len(out) <= limit and out.endswith(MARKER)
        out.decode("utf-8")  # never a split character


@pytest.mark.parametrize(
    ("tail", "kept"),
    [(b"ab\\", b"ab"), (b"ab\\\\", b"ab\\\\"), (b"ab\\\\\\", b"ab\\\\"), (b"ab\\x", b"ab"), (b"ab\\x5", b"ab"),
     (b"ab\\x5e", b"ab\\x5e"), (b"ab\\\\x5", b"ab\\\\x5")],
)  # fmt: skip
def test_truncation_never_leaves_half_an_escape(tail, kept):
    assert fmt.truncate_utf8(tail + b"zzzzzzzzzzzzzzzzzzzz", len(tail) + len(MARKER)) == kept + MARKER


@settings(max_examples=200, deadline=None)
@given(text=st.text(), limit=st.integers(min_value=len(MARKER), max_value=600))
def test_truncated_cef_stays_parseable(text, limit):
    line = "CEF:0|v|p|1|t|n|1|msg=" + cef.escape_value(text)
    data = line.encode()
    out = fmt.truncate_utf8(data, max(limit, 40))
    assert len(out) <= max(limit, 40)
    if len(data) > max(limit, 40):  # 40 bytes always keep the header and "msg=": the cut is in the value
        _, ext = parse_cef(out.decode())  # strict: a broken escape would raise
        assert ext["msg"].endswith("…[truncated]")
        assert text.startswith(ext["msg"][: -len("…[truncated]")])


@settings(max_examples=200, deadline=None)
@given(text=st.text(), limit=st.integers(min_value=len(MARKER), max_value=400))
def test_truncated_leef_value_has_no_broken_escape(text, limit):
    value = leef.escape_value(text, "^").encode()
    out = fmt.truncate_utf8(value, limit)
    assert len(out) <= limit
    body = out[: -len(MARKER)].decode()
    assert re.fullmatch(r"(?:[^\\]|\\\\|\\[rnt]|\\x[0-9a-f]{2})*", body)


def test_fit_datagram_cuts_msg_only_and_reports_it():
    head_sd, head_nosd = b'<134>1 - h siemhub - t [x@1 id="1"]', b"<134>1 - h siemhub - t -"
    whole, cut = fmt.fit_datagram(head_sd, head_nosd, b"short", 2048)
    assert (whole, cut) == (head_sd + b" short", False)
    big, cut = fmt.fit_datagram(head_sd, head_nosd, b"x" * 5000, 2048)
    assert cut and len(big) == 2048 and big.startswith(head_sd + b" xxx") and big.endswith(MARKER)


def test_fit_datagram_drops_structured_data_that_alone_is_too_big():
    head_sd = b'<134>1 - h siemhub - t [x@1 org="' + b"o" * 3000 + b'"]'
    head_nosd = b"<134>1 - h siemhub - t -"
    out, cut = fmt.fit_datagram(head_sd, head_nosd, b"m" * 100, 480)
    assert cut and len(out) <= 480 and out.startswith(head_nosd + b" mmm")


SD_PARAMS = ("eventId", "type", "severity", "orgId")


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(SD_PARAMS), value=st.text(), msg=st.text())
def test_any_sd_value_round_trips_without_touching_other_params(field, value, msg):
    params = {name: f"v-{name}" for name in SD_PARAMS} | {field: value}
    head = fmt.head(prival=134, timestamp="2024-05-31T16:08:37.123000Z", hostname="h", msgid="m",
                    structured_data=fmt.structured_data(params))  # fmt: skip
    parsed = parse_rfc5424(fmt.message(head, msg.encode()).decode())
    assert parsed["sd"] == {fmt.SD_ID: params}  # exact value, same params, nothing forged
    assert parsed["msg"] == msg and (parsed["hostname"], parsed["msgid"]) == ("h", "m")
