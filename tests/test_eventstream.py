"""The event-stream codec, without I/O: frames are held against botocore's decoder (an
implementation independent of ours) and AWS's published test vectors, and the Lambda decoder
must give the same events however the bytes are split."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import struct
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.eventstream import DuplicateHeader, EventStreamBuffer
from hypothesis import example, given
from hypothesis import strategies as st

from lambdaclient import EventStreamError, IncompleteStreamError, InvokeComplete
from lambdaclient._eventstream import (
    HeaderValue,
    InvokeStreamDecoder,
    MessageDecoder,
    encode_message,
    error_event,
    exception_event,
    invoke_complete_event,
    payload_chunk_event,
)
from lambdaclient._protocol import decode_log

Decoded = tuple[dict[str, Any], bytes]
Event = bytes | InvokeComplete


def botocore_decode(data: bytes) -> list[Decoded]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def our_decode(data: bytes) -> list[Decoded]:
    decoder = MessageDecoder()
    messages = list(decoder.feed(data))
    decoder.feed_eof()
    return [(message.headers, message.payload) for message in messages]


def frame_around(raw_headers: bytes, payload: bytes = b"") -> bytes:
    """A frame with correct lengths and checksums around headers given as raw bytes: framing
    written out here again, so that malformed headers can reach the header parsers."""
    prelude = struct.pack("!II", 16 + len(raw_headers) + len(payload), len(raw_headers))
    prelude += struct.pack("!I", binascii.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack("!I", binascii.crc32(body))


def prelude_only(total: int, headers_length: int) -> bytes:
    lengths = struct.pack("!II", total, headers_length)
    return lengths + struct.pack("!I", binascii.crc32(lengths))


def expected_value(value: HeaderValue) -> bool | int | str | bytes:
    """What a decoder gives for an encoded value."""
    if isinstance(value, datetime):
        return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if isinstance(value, uuid.UUID):
        return value.bytes
    return value


def feed_all(decoder: InvokeStreamDecoder, pieces: list[bytes]) -> list[Event]:
    return [event for piece in pieces for event in decoder.feed(piece)]


def decode_until_error(pieces: list[bytes]) -> tuple[list[Event], EventStreamError | None]:
    decoder = InvokeStreamDecoder()
    events: list[Event] = []
    try:
        for piece in pieces:
            events.extend(decoder.feed(piece))
    except EventStreamError as exc:
        return events, exc
    return events, None


def split_at(data: bytes, offsets: list[int]) -> list[bytes]:
    bounds = [0, *sorted(offsets), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


# --- AWS's test vectors (aws-c-event-stream, as carried by botocore's unit tests) ---------

EMPTY_MESSAGE = b"\x00\x00\x00\x10\x00\x00\x00\x00\x05\xc2H\xeb}\x98\xc8\xff"
INT32_HEADER = (
    b"\x00\x00\x00\x1d\x00\x00\x00\r\x83\xe3\xf0\xe7\x07integer\x04\xff\xff\xff\xff\x8b\x8e\x12\xeb"
)
PAYLOAD_NO_HEADERS = b"\x00\x00\x00\x1d\x00\x00\x00\x00\xfdR\x8cZ{'foo':'bar'}\xc3e96"
PAYLOAD_ONE_STR_HEADER = (
    b"\x00\x00\x00=\x00\x00\x00 \x07\xfd\x83\x96\x0ccontent-type\x07\x00\x10"
    b"application/json{'foo':'bar'}\x8d\x9c\x08\xb1"
)
ALL_HEADER_TYPES = (
    b"\x00\x00\x00\x62\x00\x00\x00\x52\x03\xb5\xcb\x9c"
    b"\x010\x00\x011\x01\x012\x02\x02\x013\x03\x00\x03"
    b"\x014\x04\x00\x00\x00\x04\x015\x05\x00\x00\x00\x00\x00\x00\x00\x05"
    b"\x016\x06\x00\x05bytes\x017\x07\x00\x04utf8"
    b"\x018\x08\x00\x00\x00\x00\x00\x00\x00\x08\x019\x090123456789abcdef"
    b"\x63\x35\x36\x71"
)
ERROR_MESSAGE = (
    b"\x00\x00\x00\x52\x00\x00\x00\x42\xbf\x23\x63\x7e"
    b"\x0d:message-type\x07\x00\x05error"
    b"\x0b:error-code\x07\x00\x04code"
    b"\x0e:error-message\x07\x00\x07message"
    b"\x6b\x6c\xea\x3d"
)


@pytest.mark.parametrize(
    ("encoded", "headers", "payload"),
    [
        (EMPTY_MESSAGE, {}, b""),
        (INT32_HEADER, {"integer": -1}, b""),
        (PAYLOAD_NO_HEADERS, {}, b"{'foo':'bar'}"),
        (PAYLOAD_ONE_STR_HEADER, {"content-type": "application/json"}, b"{'foo':'bar'}"),
        (
            ALL_HEADER_TYPES,
            {
                "0": True,
                "1": False,
                "2": 2,
                "3": 3,
                "4": 4,
                "5": 5,
                "6": b"bytes",
                "7": "utf8",
                "8": 8,
                "9": b"0123456789abcdef",
            },
            b"",
        ),
        (
            ERROR_MESSAGE,
            {":message-type": "error", ":error-code": "code", ":error-message": "message"},
            b"",
        ),
    ],
)
def test_aws_vectors_decode_as_published(
    encoded: bytes, headers: dict[str, Any], payload: bytes
) -> None:
    assert our_decode(encoded) == [(headers, payload)] == botocore_decode(encoded)


@pytest.mark.parametrize(
    ("encoded", "build"),
    [
        (EMPTY_MESSAGE, lambda: encode_message({})),
        (INT32_HEADER, lambda: encode_message({"integer": -1})),
        (PAYLOAD_NO_HEADERS, lambda: encode_message({}, b"{'foo':'bar'}")),
        (
            PAYLOAD_ONE_STR_HEADER,
            lambda: encode_message({"content-type": "application/json"}, b"{'foo':'bar'}"),
        ),
        (ERROR_MESSAGE, lambda: error_event("code", "message")),
    ],
)
def test_the_encoder_reproduces_aws_vectors_byte_for_byte(
    encoded: bytes, build: Callable[[], bytes]
) -> None:
    assert build() == encoded


@pytest.mark.parametrize(
    ("encoded", "code", "where"),
    [
        # Corrupted lengths: the prelude checksum catches them before they are trusted.
        (b"\x01" + PAYLOAD_NO_HEADERS[1:], "ChecksumMismatch", "prelude"),
        (
            PAYLOAD_ONE_STR_HEADER[:4] + b"\xff\x00\x01\x02" + PAYLOAD_ONE_STR_HEADER[8:],
            "ChecksumMismatch",
            "prelude",
        ),
        (
            PAYLOAD_ONE_STR_HEADER.replace(b"content-type", b"content+type"),
            "ChecksumMismatch",
            "message",
        ),
        (PAYLOAD_NO_HEADERS.replace(b"}", b"\x8d"), "ChecksumMismatch", "message"),
        (
            b"\x00\x00\x00\x24\x00\x00\x00\x14\x4b\xb9\x82\xd0"
            b"\x04test\x04asdf\x04test\x04asdf\xf3\xf4\x75\x63",
            "DuplicateHeader",
            '"test"',
        ),
    ],
)
def test_aws_negative_vectors_raise(encoded: bytes, code: str, where: str) -> None:
    with pytest.raises(EventStreamError) as caught:
        our_decode(encoded)
    assert caught.value.code == code
    assert where in caught.value.message
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore agrees, in its own types
        botocore_decode(encoded)


# --- The encoder against botocore's decoder --------------------------------------------------

header_names = st.text(min_size=1, max_size=24).filter(lambda name: len(name.encode()) < 128)
header_values: st.SearchStrategy[HeaderValue] = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=64),
    st.binary(max_size=64),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3, minutes=-30))])),
    st.uuids(),
)


@given(st.dictionaries(header_names, header_values, max_size=8), st.binary(max_size=4096))
@example({":message-type": "event", ":event-type": "PayloadChunk"}, b"")
@example({"ünïcödé ✓": "ünïcödé ✓", "n": 2**31, "m": -(2**31) - 1}, b"\x00" * 3)
def test_encoded_frames_decode_with_botocore_to_what_was_encoded(
    headers: dict[str, HeaderValue], payload: bytes
) -> None:
    frame = encode_message(headers, payload)
    expected = {name: expected_value(value) for name, value in headers.items()}

    [(decoded_headers, decoded_payload)] = botocore_decode(frame)

    assert decoded_headers == expected
    assert list(decoded_headers) == list(headers)  # the order sent
    assert decoded_payload == payload
    assert our_decode(frame) == [(expected, payload)]


@pytest.mark.parametrize(
    ("value", "type_byte"),
    [
        (True, 0),
        (False, 1),
        (2**31 - 1, 4),
        (-(2**31), 4),
        (2**31, 5),
        (-(2**31) - 1, 5),
        (b"x", 6),
        ("x", 7),
        (datetime(2024, 1, 1, tzinfo=UTC), 8),
        (uuid.UUID(int=1), 9),
    ],
)
def test_each_python_type_is_sent_as_its_wire_type(value: HeaderValue, type_byte: int) -> None:
    assert encode_message({"h": value})[12 + 2] == type_byte  # after the prelude, \x01 and "h"


@pytest.mark.parametrize(
    ("headers", "payload", "error"),
    [
        ({"": "x"}, b"", ValueError),
        ({"n" * 128: "x"}, b"", ValueError),
        ({"h": "x" * 0x8000}, b"", ValueError),
        ({"h": b"x" * 0x8000}, b"", ValueError),
        ({"h": 2**63}, b"", ValueError),
        ({"h": datetime(2024, 1, 1)}, b"", ValueError),  # naive
        ({f"h{i}": "x" * 0x7FFF for i in range(5)}, b"", ValueError),  # past 128 KiB
        ({}, bytes(24 * 1024 * 1024 + 1), ValueError),
        ({"h": 1.5}, b"", TypeError),
        ({"h": None}, b"", TypeError),
    ],
)
def test_the_encoder_refuses_what_no_decoder_would_accept(
    headers: dict[str, Any], payload: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        encode_message(headers, payload)


def test_the_largest_frame_botocore_accepts_is_encoded() -> None:
    payload = bytes(24 * 1024 * 1024)
    [(_, decoded)] = botocore_decode(encode_message({}, payload))
    assert decoded == payload


def test_a_payload_chunk_is_lambdas_event() -> None:
    assert botocore_decode(payload_chunk_event(b"\x00bytes\xff")) == [
        (
            {
                ":event-type": "PayloadChunk",
                ":content-type": "application/octet-stream",
                ":message-type": "event",
            },
            b"\x00bytes\xff",
        )
    ]


@pytest.mark.parametrize(
    ("arguments", "body"),
    [
        ({}, {}),
        (
            {"error_code": "Unhandled", "error_details": "boom", "log_result": "START\nEND ✓\n"},
            {
                "ErrorCode": "Unhandled",
                "ErrorDetails": "boom",
                "LogResult": base64.b64encode("START\nEND ✓\n".encode()).decode(),
            },
        ),
        ({"log_result": ""}, {"LogResult": ""}),
    ],
)
def test_invoke_complete_carries_only_the_keys_given(
    arguments: dict[str, str], body: dict[str, str]
) -> None:
    [(headers, payload)] = botocore_decode(invoke_complete_event(**arguments))

    assert headers == {
        ":event-type": "InvokeComplete",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(payload) == body


def test_exception_and_error_events_are_what_botocore_reads() -> None:
    [(headers, payload)] = botocore_decode(exception_event("ServiceException", "it broke"))
    assert headers[":message-type"] == "exception"
    assert headers[":exception-type"] == "ServiceException"
    assert json.loads(payload) == {"message": "it broke"}
    [(headers, payload)] = botocore_decode(error_event("InternalFailure", "oops"))
    assert headers == {
        ":message-type": "error",
        ":error-code": "InternalFailure",
        ":error-message": "oops",
    }


# --- Our frame decoder against botocore's, on headers the encoder never writes ---------------


def raw_header(name: bytes, kind: int, value: bytes) -> bytes:
    return bytes((len(name),)) + name + bytes((kind,)) + value


_WIDTHS = {2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}  # int8, int16, int32, int64, timestamp, uuid


def _fixed(kind: int) -> st.SearchStrategy[tuple[int, bytes]]:
    size = _WIDTHS[kind]
    return st.tuples(st.just(kind), st.binary(min_size=size, max_size=size))


def _counted(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


# A header as (name, type, raw value), every wire type, names and strings valid UTF-8.
raw_headers = st.tuples(
    st.text(alphabet="ab:-é", max_size=6).map(str.encode),
    st.one_of(
        st.sampled_from([(0, b""), (1, b"")]),
        *(_fixed(kind) for kind in _WIDTHS),
        st.tuples(st.just(6), st.binary(max_size=24).map(_counted)),
        st.tuples(st.just(7), st.text(max_size=12).map(lambda text: _counted(text.encode()))),
    ),
).map(lambda header: raw_header(header[0], *header[1]))


def _name(raw: bytes) -> bytes:
    return raw[1 : 1 + raw[0]]


@given(st.lists(raw_headers, max_size=8, unique_by=_name), st.binary(max_size=64))
def test_well_formed_headers_of_every_type_decode_as_botocore_decodes_them(
    headers: list[bytes], payload: bytes
) -> None:
    frame = frame_around(b"".join(headers), payload)
    assert our_decode(frame) == botocore_decode(frame)


@given(st.lists(raw_headers, min_size=1, max_size=4))
def test_a_repeated_header_is_refused_as_botocore_refuses_it(headers: list[bytes]) -> None:
    frame = frame_around(b"".join([*headers, headers[0]]))
    with pytest.raises(DuplicateHeader):
        botocore_decode(frame)
    with pytest.raises(EventStreamError) as caught:
        our_decode(frame)
    assert caught.value.code == "DuplicateHeader"


@pytest.mark.parametrize(
    "header",
    [raw_header(b"\xff", 0, b""), raw_header(b"h", 7, _counted(b"\xc3("))],
)
def test_a_name_or_string_that_is_not_utf8_is_refused(header: bytes) -> None:
    frame = frame_around(header)
    with pytest.raises(UnicodeDecodeError):
        botocore_decode(frame)
    with pytest.raises(EventStreamError, match="not UTF-8") as caught:
        our_decode(frame)
    assert caught.value.code == "InvalidHeader"


@given(st.lists(raw_headers, min_size=1, max_size=4), st.data())
def test_malformed_headers_raise_event_stream_errors_only(
    headers: list[bytes], data: st.DataObject
) -> None:
    block = bytearray(b"".join(headers))
    mangle = data.draw(st.sampled_from(["truncate", "type", "garbage"]))
    if mangle == "truncate":
        del block[data.draw(st.integers(0, len(block) - 1)) :]
    elif mangle == "type":
        block[1 + block[0]] = data.draw(st.integers(10, 255))
    else:
        block += data.draw(st.binary(min_size=1, max_size=4))
    frame = frame_around(bytes(block))

    ours: list[Decoded] | None = None
    try:
        ours = our_decode(frame)
    except EventStreamError as exc:
        error: EventStreamError | None = exc
    else:
        error = None
    assert error is None or error.code in {"InvalidHeader", "DuplicateHeader"}
    try:
        theirs: list[Decoded] | None = botocore_decode(frame)
    except Exception:  # KeyError, struct.error, UnicodeDecodeError... not only ParserError
        theirs = None
    # botocore truncates a value that claims more bytes than are left, and keeps the rest;
    # we refuse it. Whatever we do decode, botocore decodes the same.
    if ours is not None:
        assert ours == theirs
    if theirs is None:
        assert ours is None


def test_an_unknown_header_type_is_an_event_stream_error_not_a_key_error() -> None:
    frame = frame_around(raw_header(b"h", 10, b""))
    with pytest.raises(KeyError):
        botocore_decode(frame)
    with pytest.raises(EventStreamError) as caught:
        our_decode(frame)
    assert caught.value.code == "InvalidHeader"


def test_a_string_running_past_the_headers_is_refused_not_truncated() -> None:
    frame = frame_around(raw_header(b"h", 7, b"\x00\x10abc"))
    assert botocore_decode(frame) == [({"h": "abc"}, b"")]  # botocore's leniency
    with pytest.raises(EventStreamError, match="runs past"):
        our_decode(frame)


@pytest.mark.parametrize(
    ("prelude", "code"),
    [
        (prelude_only(16 + 128 * 1024 + 1, 128 * 1024 + 1), "InvalidHeadersLength"),
        (prelude_only(16 + 24 * 1024 * 1024 + 1, 0), "InvalidPayloadLength"),
        (prelude_only(15, 0), "InvalidMessageLength"),
        (prelude_only(20, 8), "InvalidMessageLength"),
    ],
)
def test_bad_lengths_are_refused_as_soon_as_the_prelude_arrives(prelude: bytes, code: str) -> None:
    with pytest.raises(EventStreamError) as caught:
        list(MessageDecoder().feed(prelude))
    assert caught.value.code == code


def test_a_decoder_does_not_keep_the_bytes_it_has_decoded() -> None:
    decoder = MessageDecoder()
    frame = payload_chunk_event(b"x" * 1000)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):  # 2 MB through the decoder
            list(decoder.feed(frame + frame[:10]))
            list(decoder.feed(frame[10:]))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 10 * len(frame)  # the buffer is compacted as it goes


# --- Lambda's events, however the bytes are split --------------------------------------------

CHUNKS = [b"hello, ", b"", b"\x00\xff binary", "ünïcödé ✓".encode() * 20]
LOG = "START RequestId: 1\nEND ✓\n"
STREAM = b"".join(map(payload_chunk_event, CHUNKS)) + invoke_complete_event(log_result=LOG)
EXPECTED: list[Event] = [*CHUNKS, InvokeComplete(None, None, LOG)]


def test_the_stream_decodes_whole() -> None:
    decoder = InvokeStreamDecoder()
    assert list(decoder.feed(STREAM)) == EXPECTED
    assert not decoder.pending
    decoder.feed_eof()  # complete: nothing to raise


@pytest.mark.parametrize(
    ("cut", "where"),
    [(len(STREAM) - 5, "in the middle of a frame"), (len(payload_chunk_event(CHUNKS[0])), "")],
)
def test_the_end_of_a_stream_cut_short_is_incomplete(cut: int, where: str) -> None:
    decoder = InvokeStreamDecoder()
    list(decoder.feed(STREAM[:cut]))
    with pytest.raises(IncompleteStreamError, match=f"ended {where}".rstrip()):
        decoder.feed_eof()


def test_frames_cut_short_are_incomplete_and_whole_ones_are_not() -> None:
    decoder = MessageDecoder()
    assert len(list(decoder.feed(STREAM[:-1]))) == len(CHUNKS)
    with pytest.raises(IncompleteStreamError, match="in the middle of a frame"):
        decoder.feed_eof()
    assert len(list(decoder.feed(STREAM[-1:]))) == 1
    decoder.feed_eof()


def test_the_stream_decodes_the_same_split_at_every_byte_offset() -> None:
    for offset in range(len(STREAM) + 1):
        decoder = InvokeStreamDecoder()
        assert feed_all(decoder, [STREAM[:offset], STREAM[offset:]]) == EXPECTED, offset
        assert not decoder.pending


def test_the_stream_decodes_the_same_one_byte_at_a_time() -> None:
    decoder = InvokeStreamDecoder()
    assert feed_all(decoder, [STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@given(st.lists(st.integers(0, len(STREAM)), max_size=30))
def test_the_stream_decodes_the_same_however_it_is_split(offsets: list[int]) -> None:
    decoder = InvokeStreamDecoder()
    assert feed_all(decoder, split_at(STREAM, offsets)) == EXPECTED
    assert not decoder.pending


def test_pending_says_whether_a_frame_is_half_read() -> None:
    decoder = InvokeStreamDecoder()
    first = payload_chunk_event(b"abc")
    assert not decoder.pending
    for end in range(1, len(first)):
        assert list(decoder.feed(first[end - 1 : end])) == []
        assert decoder.pending
    assert list(decoder.feed(first[-1:])) == [b"abc"]
    assert not decoder.pending


def test_a_truncated_stream_gives_its_whole_frames_and_stays_pending() -> None:
    decoder = InvokeStreamDecoder()
    assert list(decoder.feed(STREAM[:-1])) == CHUNKS
    assert decoder.pending


def test_a_function_error_is_in_invoke_complete() -> None:
    frame = invoke_complete_event("Unhandled", '{"errorType":"Boom"}', "log")
    assert list(InvokeStreamDecoder().feed(frame)) == [
        InvokeComplete("Unhandled", '{"errorType":"Boom"}', "log")
    ]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", InvokeComplete(None, None, None)),
        (b"{}", InvokeComplete(None, None, None)),
        (b'{"LogResult": "not base64!"}', InvokeComplete(None, None, "not base64!")),
        (b'{"ErrorCode": 3, "ErrorDetails": ""}', InvokeComplete(None, None, None)),
    ],
)
def test_invoke_complete_payloads_are_read_leniently(
    payload: bytes, expected: InvokeComplete
) -> None:
    frame = encode_message(
        {":message-type": "event", ":event-type": "InvokeComplete"}, payload=payload
    )
    assert list(InvokeStreamDecoder().feed(frame)) == [expected]


def test_a_corrupted_byte_anywhere_in_a_frame_fails_its_checksum() -> None:
    first = payload_chunk_event(b"first")
    second = payload_chunk_event(b"second")
    for offset in range(len(second)):
        corrupted = bytearray(second)
        corrupted[offset] ^= 0x01
        events, error = decode_until_error([first + bytes(corrupted)])
        assert events == [b"first"]  # the frame before still arrives
        assert error is not None
        assert error.code == "ChecksumMismatch"
        # Bytes 0-11 are the prelude: lengths and their checksum.
        assert error.message.startswith("prelude" if offset < 12 else "message"), offset


def test_a_corrupted_prelude_is_refused_before_the_rest_of_its_frame_arrives() -> None:
    corrupted = bytearray(payload_chunk_event(b"x" * 100))
    corrupted[8] ^= 0xFF  # the prelude checksum itself
    with pytest.raises(EventStreamError, match="prelude checksum"):
        list(InvokeStreamDecoder().feed(bytes(corrupted[:12])))


@pytest.mark.parametrize(
    ("frame", "code", "message"),
    [
        (exception_event("ServiceException", "Lambda failed"), "ServiceException", "Lambda failed"),
        (
            encode_message(
                {":message-type": "exception", ":exception-type": "KMSAccessDeniedException"},
                b'{"Message": "capital M"}',
            ),
            "KMSAccessDeniedException",
            "capital M",
        ),
        (
            encode_message({":message-type": "exception"}, b"not json"),
            "UnknownException",
            "not json",
        ),
        (error_event("InternalFailure", "try again"), "InternalFailure", "try again"),
        (encode_message({":message-type": "error"}), "UnknownError", ""),
        (
            encode_message({":message-type": "event", ":event-type": "SomethingNew"}, b"x"),
            "UnknownEvent",
            "unexpected event type 'SomethingNew'",
        ),
        (
            encode_message({":message-type": "gossip"}),
            "UnknownMessage",
            "unexpected message type 'gossip'",
        ),
        (encode_message({}, b"x"), "UnknownMessage", "unexpected message type None"),
    ],
)
def test_exception_error_and_unknown_frames_raise(frame: bytes, code: str, message: str) -> None:
    with pytest.raises(EventStreamError) as caught:
        list(InvokeStreamDecoder().feed(frame))
    assert (caught.value.code, caught.value.message) == (code, message)


def test_events_before_an_error_arrive_however_the_bytes_are_split() -> None:
    stream = (
        payload_chunk_event(b"one")
        + payload_chunk_event(b"two")
        + exception_event("ServiceException", "mid-stream")
        + payload_chunk_event(b"never")
    )
    for offset in range(len(stream) + 1):
        events, error = decode_until_error([stream[:offset], stream[offset:]])
        assert events == [b"one", b"two"], offset
        assert error is not None
        assert (error.code, error.message) == ("ServiceException", "mid-stream")


def _corrupted(frame: bytes) -> bytes:
    flipped = bytearray(frame)
    flipped[-1] ^= 0x01
    return bytes(flipped)


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (_corrupted(payload_chunk_event(b"x")), "ChecksumMismatch"),
        (exception_event("ServiceException", "gone"), "ServiceException"),
    ],
)
def test_after_a_bad_frame_or_an_exception_every_feed_raises(bad: bytes, code: str) -> None:
    decoder = InvokeStreamDecoder()
    for data in (bad, payload_chunk_event(b"fine"), b""):
        with pytest.raises(EventStreamError) as caught:
            list(decoder.feed(data))
        assert caught.value.code == code


def test_the_first_problem_in_a_piece_is_the_one_raised() -> None:
    data = exception_event("ServiceException", "first") + _corrupted(payload_chunk_event(b"x"))
    events, error = decode_until_error([data])
    assert events == []
    assert error is not None
    assert error.code == "ServiceException"


def test_names_and_values_up_to_the_limits_are_encoded() -> None:
    headers: dict[str, HeaderValue] = {"n" * 127: "v" * 0x7FFF, "b": b"\xff" * 0x7FFF}
    [(decoded, _)] = botocore_decode(encode_message(headers))
    assert decoded == headers


# --- decode_log -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (base64.b64encode("START\nEND ✓\n".encode()).decode(), "START\nEND ✓\n"),
        (base64.b64encode(b"\xff\xfe").decode(), "\ufffd\ufffd"),  # not UTF-8: replaced
        ("not base64!", "not base64!"),
        ("", None),
        (None, None),
    ],
)
def test_decode_log(value: str | None, expected: str | None) -> None:
    assert decode_log(value) == expected
