"""Tests for crmcli.importing.reader: encodings, delimiters, line numbers, refusals."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crmcli.errors import UsageError, ValidationError
from crmcli.importing.reader import CHUNK_SIZE, Table, open_table


class _Pipe(io.RawIOBase):
    """A non-seekable stream that answers reads in small pieces, like stdin on a pipe."""

    def __init__(self, data: bytes, piece: int = 1000) -> None:
        self._data = data
        self._pos = 0
        self._piece = piece

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._piece, len(self._data) - self._pos)
        buffer[:size] = self._data[self._pos : self._pos + size]
        self._pos += size
        return size


def table(data: bytes, **kwargs: str) -> Table:
    return open_table(io.BytesIO(data), name="f.csv", **kwargs)


def read(data: bytes, **kwargs: str) -> tuple[Table, list[tuple[int, list[str]]]]:
    t = table(data, **kwargs)
    return t, list(t.rows())


# ------------------------------------------------------------------------------- encodings


def test_utf8() -> None:
    t, rows = read("Nome,Cidade\nJoão,São Paulo\n".encode())
    assert t.encoding == "utf-8"
    assert not t.encoding_guessed
    assert t.headers == ["Nome", "Cidade"]
    assert rows == [(2, ["João", "São Paulo"])]


def test_utf8_bom() -> None:
    t, rows = read(b"\xef\xbb\xbf" + "Nome;Cidade\r\nJoão;Brasília\r\n".encode())
    assert t.encoding == "utf-8-sig"
    assert t.headers == ["Nome", "Cidade"]
    assert t.delimiter == ";"
    assert rows == [(2, ["João", "Brasília"])]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_bom_tabs(codec: str) -> None:
    # Excel's "Unicode text" export: UTF-16 LE with a BOM, tab separated.
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    data = bom + "Nome\tE-mail\r\nJoão\tjoao@x.com\r\nZoë\tz@x.com\r\n".encode(codec)
    t, rows = read(data)
    assert t.encoding == codec
    assert t.delimiter == "\t"
    assert t.headers == ["Nome", "E-mail"]
    assert rows == [(2, ["João", "joao@x.com"]), (3, ["Zoë", "z@x.com"])]


def test_utf16_with_python_codec_bom() -> None:
    t, rows = read("a,b\n1,2\n".encode("utf-16"))
    assert t.headers == ["a", "b"]
    assert rows == [(2, ["1", "2"])]


def test_cp1252() -> None:
    t, rows = read("Nome;Orçamento;Cidade\nJosé;€ 1.000,00;São Paulo\n".encode("cp1252"))
    assert t.encoding == "cp1252"
    assert t.encoding_guessed
    assert t.delimiter == ";"
    assert t.headers == ["Nome", "Orçamento", "Cidade"]
    assert rows == [(2, ["José", "€ 1.000,00", "São Paulo"])]


def test_cp1252_undefined_byte_falls_back_to_latin1() -> None:
    _t, rows = read(b"a;b\nx\x81y;\xe7\n")
    assert rows == [(2, ["x\x81y", "ç"])]


def test_given_encoding() -> None:
    t, rows = read("a;b\nç;ã\n".encode("latin-1"), encoding="latin-1")
    assert t.encoding == "latin-1"
    assert not t.encoding_guessed
    assert rows == [(2, ["ç", "ã"])]


def test_unknown_encoding() -> None:
    # a usage error (exit 2) since issue 11: --encoding is a bad argument, like --delimiter
    with pytest.raises(UsageError, match="not a known encoding"):
        table(b"a,b\n", encoding="klingon")


@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zlib", "bz2", "uu", "quopri", "idna"])
def test_only_text_encodings_are_accepted(codec: str) -> None:
    with pytest.raises(UsageError, match=f'--encoding: "{codec}" is not a text encoding'):
        table(b"name,email\nAna,a@b.com\n", encoding=codec)


def test_given_encoding_wrong_names_line() -> None:
    with pytest.raises(ValidationError, match=r"line 3: .*not valid utf-8"):
        read(b"a,b\n1,2\n\xe7,3\n", encoding="utf-8")


def _big(line: bytes, count: int) -> bytes:
    return b"".join(line for _ in range(count))


def test_non_ascii_beyond_first_chunk_utf8() -> None:
    body = _big(b"ana,ana@x.com\n", CHUNK_SIZE // 10)
    data = b"name,email\n" + body + "joão,j@x.com\n".encode()
    assert len(data) > CHUNK_SIZE + 100
    t, rows = read(data)
    assert t.encoding == "utf-8"
    assert rows[-1] == (len(rows) + 1, ["joão", "j@x.com"])


def test_non_ascii_beyond_first_chunk_cp1252() -> None:
    body = _big(b"ana;ana@x.com\n", CHUNK_SIZE // 10)
    data = b"name;email\n" + body + "joão;j@x.com\n".encode("cp1252")
    _t, rows = read(data)
    assert rows[-1][1] == ["joão", "j@x.com"]


def test_multibyte_char_cut_at_chunk_end() -> None:
    head = b"name,city\n"
    filler = b"a" * (CHUNK_SIZE - len(head) - 2) + b","
    data = head + filler + "ã\n".encode() + "Zé,ç\n".encode()
    assert data[CHUNK_SIZE - 1 : CHUNK_SIZE + 1] == "ã".encode()
    t, rows = read(data)
    assert t.encoding == "utf-8"
    assert rows[-1] == (3, ["Zé", "ç"])


def test_streams_from_a_pipe() -> None:
    lines = [b"name;email\n"] + [f"lead {i};l{i}@x.com\n".encode() for i in range(20000)]
    data = b"".join(lines)
    t = open_table(io.BufferedReader(_Pipe(data)), name="-")
    assert t.delimiter == ";"
    rows = t.rows()
    assert next(rows) == (2, ["lead 0", "l0@x.com"])
    assert sum(1 for _ in rows) == 19999


# ------------------------------------------------------------------------------ delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter(delimiter: str) -> None:
    text = delimiter.join(["name", "email", "notes"]) + "\n"
    text += delimiter.join(["Ana", "a@x.com", "hello world"]) + "\n"
    t, rows = read(text.encode())
    assert t.delimiter == delimiter
    assert rows == [(2, ["Ana", "a@x.com", "hello world"])]


def test_sep_line_is_honoured_and_counted() -> None:
    t, rows = read(b"sep=;\nname;amount\nAna;1,50\n")
    assert t.delimiter == ";"
    assert t.headers == ["name", "amount"]
    assert t.header_line == 2
    assert rows == [(3, ["Ana", "1,50"])]


def test_sep_line_pipe_with_bom() -> None:
    t, rows = read(b"\xef\xbb\xbfsep=|\r\na|b\r\n1|2\r\n")
    assert t.delimiter == "|"
    assert rows == [(3, ["1", "2"])]


def test_semicolon_header_with_comma_inside() -> None:
    data = b"Nome;Valor, R$\nAna;1.234,56\nBia;10,00\n"
    t, rows = read(data)
    assert t.delimiter == ";"
    assert t.headers == ["Nome", "Valor, R$"]
    assert rows == [(2, ["Ana", "1.234,56"]), (3, ["Bia", "10,00"])]


def test_sniffer_would_be_fooled_but_we_are_not() -> None:
    data = "Nome;Valor, R$\nAna;100\nBia;200\n"
    t, _ = read(data.encode())
    assert t.delimiter == ";"


def test_one_column() -> None:
    t, rows = read(b"email\na@x.com\nb@x.com\n")
    assert t.delimiter == ","
    assert t.headers == ["email"]
    assert rows == [(2, ["a@x.com"]), (3, ["b@x.com"])]


def test_given_delimiter_wins() -> None:
    t, rows = read(b"a;b,c\n1;2,3\n", delimiter=",")
    assert t.headers == ["a;b", "c"]
    assert rows == [(2, ["1;2", "3"])]


def test_bad_delimiter_option() -> None:
    with pytest.raises(ValidationError, match="one character"):
        table(b"a,b\n", delimiter=";;")


def test_comma_file_with_semicolons_in_values() -> None:
    t, _ = read(b"name,tags,email\nAna,a;b;c,a@x.com\nBia,d,b@x.com\n")
    assert t.delimiter == ","


# -------------------------------------------------------------------------- rows and lines


def test_quoted_newlines_line_numbers() -> None:
    data = b'name,notes\nAna,"line one\nline two\nline three"\nBia,"x, ""y"""\r\nCid,z\n'
    _t, rows = read(data)
    assert rows == [
        (2, ["Ana", "line one\nline two\nline three"]),
        (5, ["Bia", 'x, "y"']),
        (6, ["Cid", "z"]),
    ]


def test_blank_lines_skipped() -> None:
    data = b"\n\nname;email\n\n;;\nAna;a@x.com\n  ;  \n\nBia;b@x.com\n"
    t, rows = read(data)
    assert t.header_line == 3
    assert rows == [(6, ["Ana", "a@x.com"]), (9, ["Bia", "b@x.com"])]


def test_unterminated_quote_names_line() -> None:
    data = b'name,notes\nA,1\nB,2\nC,3\nD,4\nE,5\nF,"never closed\nG,7\n'
    t = table(data)
    with pytest.raises(ValidationError, match="line 7: unterminated quoted field"):
        list(t.rows())


def test_bad_quote_names_line() -> None:
    t = table(b'name,notes\nA,"x"y\n')
    with pytest.raises(ValidationError, match="line 2: "):
        list(t.rows())


def test_headers_trimmed_and_nfc() -> None:
    t = table(" Nome , Orc\u0327amento \nA,1\n".encode())
    assert t.headers == ["Nome", "Orçamento"]


def test_duplicate_headers() -> None:
    with pytest.raises(ValidationError, match='duplicate columns "E-mail" and "e mail"'):
        table(b"Name,E-mail,e mail\n")


def test_duplicate_headers_accent_insensitive() -> None:
    with pytest.raises(ValidationError, match="duplicate"):
        table("Orçamento;ORCAMENTO\n".encode())


# -------------------------------------------------------------------------------- refusals


def test_xlsx_refused() -> None:
    with pytest.raises(ValidationError, match=r"f.csv: looks like an XLSX/ZIP spreadsheet: save"):
        table(b"PK\x03\x04\x14\x00\x06\x00rest-of-zip")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n...", "PDF"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),
        (b"name,email\nA\x00B,c\n", "binary"),
    ],
)
def test_binary_refused(data: bytes, what: str) -> None:
    with pytest.raises(ValidationError, match=what):
        table(data)


def test_empty_refused() -> None:
    with pytest.raises(ValidationError, match=r"f\.csv: is empty"):
        table(b"")


@pytest.mark.parametrize("data", [b"\n\n\r\n", b"\xef\xbb\xbf", b"sep=;\n", b";;;\n;;\n"])
def test_no_header_row(data: bytes) -> None:
    with pytest.raises(ValidationError, match="no header row"):
        table(data)


def test_truncated_utf16_refused_with_validation_error() -> None:
    t = table(b"\xff\xfe" + "a\tb\n1\t2\n".encode("utf-16-le") + b"\x00")
    with pytest.raises(ValidationError):
        list(t.rows())


# ------------------------------------------------------------------------------ properties

_DELIMS = [",", ";", "\t", "|"]
_CP1252_SAFE = "".join(chr(c) for c in range(0xC0, 0x100) if c not in (0xD7, 0xF7))


def _cell(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.text(alphabet, max_size=12)


def _tables(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[list[list[str]]]:
    def build(width: int) -> st.SearchStrategy[list[list[str]]]:
        header = st.lists(
            _cell(alphabet).map(str.strip).filter(bool),
            min_size=width,
            max_size=width,
        ).filter(lambda h: len({_key(c) for c in h}) == width and all(_key(c) for c in h))
        row = st.lists(_cell(alphabet), min_size=width, max_size=width).filter(
            lambda r: any(c.strip() for c in r)
        )
        return st.tuples(header, st.lists(row, max_size=8)).map(lambda hr: [hr[0], *hr[1]])

    return st.integers(2, 5).flatmap(build)


def _key(text: str) -> str:
    from crmcli.importing.headers import normalise_header

    return normalise_header(text)


def _write(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


_printable = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters=",;\t|\x00"
) | st.sampled_from(['"', "\n", "\r", " "])


@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    rows=_tables(_printable),
    delimiter=st.sampled_from(_DELIMS),
    codec=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
)
def test_roundtrip_unicode(rows: list[list[str]], delimiter: str, codec: str) -> None:
    import unicodedata

    data = _write(rows, delimiter).encode(codec)
    t, got = read(data)
    assert t.delimiter == delimiter
    assert t.headers == [unicodedata.normalize("NFC", h) for h in rows[0]]
    assert [cells for _, cells in got] == rows[1:]


_cp1252_chars = st.sampled_from(
    "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .-@$'\"\n" + _CP1252_SAFE
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much])
@given(rows=_tables(_cp1252_chars), delimiter=st.sampled_from(_DELIMS))
def test_roundtrip_cp1252(rows: list[list[str]], delimiter: str) -> None:
    import unicodedata

    data = _write(rows, delimiter).encode("cp1252")
    # a file that opens with a byte order mark is read as the mark says: "þÿ" and "ÿþ" in
    # cp1252 are the UTF-16 marks, "ï»¿" UTF-8's; no reader can tell such a file apart
    assume(not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)))
    t, got = read(data)
    assert t.delimiter == delimiter
    assert t.headers == [unicodedata.normalize("NFC", h) for h in rows[0]]
    assert [cells for _, cells in got] == rows[1:]


def _is_text(cell: str) -> bool:
    """No NUL and none of the control bytes that make a file look binary."""
    return not any((ord(c) < 32 and c not in "\t\n\r\x0c\x1a") or c == "\x7f" for c in cell)


@settings(max_examples=100)
@given(
    rows=st.lists(
        st.lists(st.text(max_size=10).filter(_is_text), min_size=3, max_size=3),
        min_size=2,
        max_size=6,
    ),
    delimiter=st.sampled_from(_DELIMS),
)
def test_roundtrip_any_text_with_given_delimiter(rows: list[list[str]], delimiter: str) -> None:
    import unicodedata

    header = [f"col{i}" for i in range(3)]
    body = [r for r in rows if any(c.strip() for c in r)]
    data = _write([header, *body], delimiter).encode("utf-8")
    try:
        t, got = read(data, delimiter=delimiter)
    except ValidationError:  # a cell holding a NUL-free control char is fine; Cs cannot encode
        raise
    assert t.headers == header
    assert [cells for _, cells in got] == body
    assert all(unicodedata.is_normalized("NFC", h) for h in t.headers)


@settings(max_examples=300)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_validation_error(data: bytes) -> None:
    try:
        t = table(data)
        list(t.rows())
    except ValidationError:
        pass


@settings(max_examples=100)
@given(
    data=st.binary(max_size=300),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "cp1252", "ascii"]),
    delimiter=st.sampled_from([None, ",", ";"]),
)
def test_arbitrary_bytes_with_options(data: bytes, encoding: str, delimiter: str | None) -> None:
    try:
        t = open_table(io.BytesIO(data), name="x", encoding=encoding, delimiter=delimiter)
        list(t.rows())
    except ValidationError:
        pass
