"""Reading a delimited text file (or stdin) as a header row and a stream of data rows.

`open_table` peeks at the first 64 KiB to refuse spreadsheets and binary files and to detect the
encoding and the delimiter, then streams the rest: memory stays bounded whatever the file size.
Every fatal problem is a `ValidationError` whose one-line message names the file (and the line).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from crmcli import i18n
from crmcli.errors import UsageError, ValidationError
from crmcli.i18n import N_, _
from crmcli.importing.headers import normalise_header

__all__ = ["CHUNK_SIZE", "DELIMITERS", "Table", "open_table"]

CHUNK_SIZE = 64 * 1024
"""How many bytes are peeked at to detect the file type, encoding and delimiter."""

DELIMITERS = (",", ";", "\t", "|")
"""The delimiters that are detected (``--delimiter`` may name any single character)."""

FIELD_LIMIT = 16 * 1024 * 1024
"""The longest cell a CSV file may hold, in characters. Python's csv stops at 131,072 by
default, which made a file crm exported itself (a long note) fatal to import as a whole."""
csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))

_SAMPLE_LINES = 50
_SEP_LINE = re.compile(r"sep=(.)(?:\r\n|\r|\n)?", re.IGNORECASE)
_FALLBACK_ERRORS = "crmcli-import-cp1252"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SIGNATURES = (
    (b"PK\x03\x04", N_("an XLSX/ZIP spreadsheet: save it as CSV")),
    (b"PK\x05\x06", N_("an empty ZIP archive: save the spreadsheet as CSV")),
    (b"\xd0\xcf\x11\xe0", N_("an old Excel .xls (OLE2) spreadsheet: save it as CSV")),
    (b"%PDF", N_("a PDF document, not a CSV file")),
    (b"\x89PNG", N_("a PNG image, not a CSV file")),
    (b"\xff\xd8\xff", N_("a JPEG image, not a CSV file")),
    (b"GIF8", N_("a GIF image, not a CSV file")),
    (b"\x1f\x8b", N_("a gzip archive: decompress it first")),
    (b"SQLite format 3\x00", N_("an SQLite database, not a CSV file")),
    (b"{\\rtf", N_("an RTF document: save it as CSV")),
)
"""File signatures that are not CSV, with what a file starting so is (English, translated
where shown)."""


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode the offending bytes as Windows-1252, else Latin-1."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    text = "".join(_cp1252_byte(b) for b in chunk)
    return text, exc.end


def _cp1252_byte(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeError:
        return bytes([byte]).decode("latin-1")


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)

_WRITE_ERRORS = "crmcli-import-write"


def _write_fallback(exc: UnicodeError) -> tuple[bytes, int]:
    """Codec error handler for writing back: a character the file's encoding lacks is the
    Latin-1 byte it was read from (see `_cp1252_fallback`), else ``?``."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    return bytes(ord(ch) if ord(ch) < 256 else 0x3F for ch in chunk), exc.end


codecs.register_error(_WRITE_ERRORS, _write_fallback)


class _Prefixed(io.RawIOBase):
    """A raw stream that yields the already-read `prefix`, then the rest of `source`."""

    def __init__(self, prefix: bytes, source: BinaryIO | None) -> None:
        super().__init__()
        self._prefix = prefix
        self._pos = 0
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos < len(self._prefix):
            size = min(len(view), len(self._prefix) - self._pos)
            view[:size] = self._prefix[self._pos : self._pos + size]
            self._pos += size
            return size
        if self._source is None:
            return 0
        data = self._source.read(len(view))
        if not data:
            self._source = None
            return 0
        view[: len(data)] = data
        return len(data)


class Table:
    """An opened file: its encoding, delimiter and header row, and a stream of data rows."""

    def __init__(
        self,
        *,
        name: str,
        encoding: str,
        encoding_guessed: bool,
        delimiter: str,
        headers: list[str],
        header_line: int,
        rows: Iterator[tuple[int, list[str]]],
        bom: bool = False,
    ) -> None:
        self.name = name
        self.encoding = encoding
        """The codec used, e.g. ``utf-8``, ``utf-8-sig``, ``utf-16-le``, ``cp1252``."""
        self.bom = bom
        """True when the file starts with a byte-order mark."""
        self.encoding_guessed = encoding_guessed
        """True when the encoding was not given and the file is not Unicode (cp1252 assumed)."""
        self.delimiter = delimiter
        self.headers = headers
        """The header cells as in the file, trimmed and NFC."""
        self.header_line = header_line
        self._rows = rows

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(line, cells)`` for every non-blank data row, streamed, once.

        `line` is the file's physical line where the row starts (a ``sep=`` line counts).
        Cells are as in the file (not trimmed). Raises `ValidationError` naming the line for a
        malformed quote or undecodable bytes.
        """
        return self._rows

    def writing(self) -> tuple[str, str, str]:
        """How to write a file that opens as this one did (the rejected rows, for Excel):
        (encoding, error handler, text to write first: a BOM the codec does not write)."""
        codec = codecs.lookup(self.encoding).name
        if self.bom and codec in ("utf-16-le", "utf-16-be"):
            return codec, "strict", "\ufeff"
        if self.bom and codec == "utf-8":
            return "utf-8-sig", "strict", ""
        if codec.startswith(("utf-8", "utf-16", "utf-32")):
            return self.encoding, "strict", ""
        return self.encoding, _WRITE_ERRORS, ""

    def __repr__(self) -> str:
        return (
            f"Table(name={self.name!r}, encoding={self.encoding!r}, "
            f"delimiter={self.delimiter!r}, headers={self.headers!r})"
        )


def _read_prefix(source: BinaryIO) -> tuple[bytes, bool]:
    """Read up to CHUNK_SIZE bytes (a pipe may answer in pieces); report whether EOF was hit."""
    parts: list[bytes] = []
    size = 0
    while size < CHUNK_SIZE:
        data = source.read(CHUNK_SIZE - size)
        if not data:
            return b"".join(parts), True
        parts.append(data)
        size += len(data)
    return b"".join(parts), False


def _is_utf16(encoding: str) -> bool:
    return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _detect_encoding(prefix: bytes, eof: bool, name: str) -> tuple[str, str, bool, int]:
    """Return (codec, error handler, guessed, bytes of BOM to skip) for an undeclared file."""
    for bom, codec in _BOMS:
        if prefix.startswith(bom):
            skip = 0 if codec == "utf-8-sig" else len(bom)
            return codec, "strict", False, skip
    _refuse_binary(prefix, name)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(prefix, final=eof)
    except UnicodeError:
        return "cp1252", _FALLBACK_ERRORS, True, 0
    # Valid UTF-8 so far; a stray Windows-1252 byte later is decoded as such, not fatal.
    return "utf-8", _FALLBACK_ERRORS, False, 0


# C0 control bytes that never occur in CSV text (tab, LF, FF, CR and Ctrl-Z are allowed).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 26)) + b"\x7f"


def _refuse_binary(prefix: bytes, name: str) -> None:
    for signature, what in _SIGNATURES:
        if prefix.startswith(signature):
            raise ValidationError(_("{file}: looks like {what}").format(file=name, what=_(what)))
    if b"\x00" in prefix:
        raise ValidationError(
            _(
                "{file}: looks like a binary file, not CSV (it contains NUL bytes;"
                " UTF-16 text needs a byte-order mark or --encoding utf-16-le)"
            ).format(file=name)
        )
    controls = len(prefix) - len(prefix.translate(None, _CONTROL_BYTES))
    if controls > len(prefix) // 100:
        raise ValidationError(
            _(
                "{file}: looks like a binary file, not CSV text ({count} control bytes"
                " in the first {size} bytes)"
            ).format(file=name, count=controls, size=len(prefix))
        )


NOT_CHARACTER_SETS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape"})
"""Text codecs of Python that are not the encoding of a file: host names, escape syntaxes."""


def _encoding_hint() -> str:
    return _("a text encoding such as utf-8, cp1252, latin-1 or utf-16")


def _resolve_encoding(encoding: str, prefix: bytes, name: str) -> tuple[str, int]:
    """Check a given encoding; a UTF-8 or UTF-16 BOM matching it is skipped.

    Only character sets are accepted: Python's bytes-to-bytes codecs (`rot13`, `hex`,
    `base64`, `zlib` …) are not text encodings and fail deep inside the reader otherwise.
    """
    try:
        info = codecs.lookup(encoding)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise UsageError(
            _('--encoding: "{encoding}" is not a known encoding (use {hint})').format(
                encoding=encoding, hint=_encoding_hint()
            )
        ) from None
    codec = info.name
    if not getattr(info, "_is_text_encoding", True) or codec in NOT_CHARACTER_SETS:
        raise UsageError(
            _('--encoding: "{encoding}" is not a text encoding (use {hint})').format(
                encoding=encoding, hint=_encoding_hint()
            )
        )
    if codec == "utf-8" and prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", 0
    if codec == "utf-16-le" and prefix.startswith(codecs.BOM_UTF16_LE):
        return codec, 2
    if codec == "utf-16-be" and prefix.startswith(codecs.BOM_UTF16_BE):
        return codec, 2
    if not _is_utf16(codec):
        _refuse_binary(prefix, name)
    return encoding, 0


def _decode_sample(prefix: bytes, eof: bool, encoding: str, errors: str) -> str:
    """Decode the peeked prefix for delimiter detection, dropping a cut-off last line."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    try:
        text = decoder.decode(prefix, final=eof)
    except UnicodeError:
        return ""  # reported with a line number when the rows are read
    lines = text.splitlines(keepends=True)
    if not eof and len(lines) > 1:
        lines = lines[:-1]
    return "".join(lines[: _SAMPLE_LINES + 1])


def _blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _score(sample: str, delimiter: str) -> tuple[bool, float, int, int]:
    """Score a candidate: consistent multi-column rows first, then matching rows, header width.

    Ties are broken by fewer fields that start or end with a space (``Valor, R$`` split at the
    comma leaves `` R$``).
    """
    try:
        parsed = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    except csv.Error:
        return (False, 0.0, 0, 0)
    rows = [row for row in parsed if not _blank(row)]
    if not rows:  # only separators: still the delimiter that makes them blank
        return (False, 0.0, max((len(row) for row in parsed), default=0), 0)
    width = len(rows[0])
    matching = sum(1 for row in rows if len(row) == width) / len(rows)
    padded = sum(1 for row in rows for cell in row if cell and cell != cell.strip())
    return (width > 1 and matching == 1.0, matching, width, -padded)


def _detect_delimiter(sample: str) -> str:
    """Choose among `DELIMITERS`; a one-column file (or no evidence) gives ``,``."""
    best, best_score = ",", (False, 0.0, 1, 0)
    # On a perfect tie prefer tab, then ";" (its values often hold decimal commas), then "|".
    for delimiter in ("\t", ";", "|", ","):
        score = _score(sample, delimiter)
        if score[2] > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


def _check_duplicates(headers: list[str], name: str, line: int) -> None:
    seen: dict[str, str] = {}
    for header in headers:
        key = normalise_header(header)
        if not key:
            continue
        if key in seen:
            raise ValidationError(
                _('{file}: line {line}: duplicate columns "{first}" and "{second}"').format(
                    file=name, line=line, first=seen[key], second=header
                )
            )
        seen[key] = header


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _ascii_compatible(codec: str) -> bool:
    probe = "\r\n,;\t|\"' az09"
    try:
        return probe.encode(codec) == probe.encode("ascii")
    except UnicodeError:
        return False


def _decode_error(name: str, codec: str, line: int | None) -> ValidationError:
    if line is None:
        message = _(
            "{file}: bytes that are not valid {codec} text (give the right --encoding)"
        ).format(file=name, codec=codec)
    else:
        message = _(
            "{file}: line {line}: bytes that are not valid {codec} text (give the right --encoding)"
        ).format(file=name, line=line, codec=codec)
    return ValidationError(message)


def _text_lines(binary: io.BufferedReader, codec: str, errors: str, name: str) -> Iterator[str]:
    """Yield the decoded physical lines (ends kept; CRLF, LF and lone CR end a line).

    For codecs where a newline is the byte 0x0A, lines are split before decoding so that a
    decoding error names its line; other codecs (UTF-16) go through `io.TextIOWrapper`.
    """
    if not _ascii_compatible(codec):
        text = io.TextIOWrapper(binary, encoding=codec, errors=errors, newline="")
        try:
            yield from text
        except UnicodeError:
            raise _decode_error(name, codec, None) from None
        return
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    decode = decoder.decode
    line = 0
    try:
        for raw in binary:
            chunk = decode(raw)
            cr = chunk.find("\r")
            if cr < 0 or cr == len(chunk) - 1 or (cr == len(chunk) - 2 and chunk[-1] == "\n"):
                if chunk:  # no lone CR inside (the usual line): one line, as it is
                    line += 1
                    yield chunk
                continue
            for piece in _LONE_CR.split(chunk):
                if piece:
                    line += 1
                    yield piece
        tail = decoder.decode(b"", final=True)
    except UnicodeError:
        raise _decode_error(name, codec, line + 1) from None
    if tail:
        yield tail


class _Rows:
    """Line-numbered iteration over a csv reader, turning csv and decoding errors into
    `ValidationError`s that name the line."""

    def __init__(self, lines: Iterable[str], delimiter: str, offset: int, name: str) -> None:
        self._reader = csv.reader(lines, delimiter=delimiter, strict=True)
        self._offset = offset
        self._name = name

    def _csv_error(self, exc: csv.Error, start: int) -> ValidationError:
        """A csv error as a ValidationError naming its line (`start`: where the row began)."""
        message = str(exc)
        if message == "unexpected end of data":
            return ValidationError(
                _("{file}: line {line}: unterminated quoted field").format(
                    file=self._name, line=start
                )
            )
        line = self._reader.line_num + self._offset
        if message.startswith("field larger than field limit"):
            limit = f"{FIELD_LIMIT:,}"
            if i18n.portuguese():
                limit = limit.replace(",", ".")
            message = _("a cell is longer than {limit} characters").format(limit=limit)
        return ValidationError(
            _("{file}: line {line}: {message}").format(file=self._name, line=line, message=message)
        )

    def next_row(self) -> tuple[int, list[str]] | None:
        """Return the next non-blank row with the line it starts on, or None at the end."""
        while True:
            start = self._reader.line_num + self._offset + 1
            try:
                row = next(self._reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise self._csv_error(exc, start) from None
            if not _blank(row):
                return start, row

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        # The hot loop of every import: the same as calling next_row() repeatedly, inlined.
        reader, offset = self._reader, self._offset
        start = reader.line_num + offset + 1
        try:
            for row in reader:
                if (row and row[0].strip()) or not _blank(row):
                    yield start, row
                start = reader.line_num + offset + 1
        except csv.Error as exc:
            raise self._csv_error(exc, start) from None


def open_table(
    source: BinaryIO,
    *,
    name: str,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Table:
    """Open a delimited text file for streaming; `name` labels error messages (``-`` for stdin).

    `source` is read sequentially and never seeked (``sys.stdin.buffer`` works). Without
    `encoding`: a BOM decides (UTF-8, UTF-16 LE/BE), else UTF-8 if the first 64 KiB decode,
    else Windows-1252 (bytes it leaves undefined read as Latin-1). Without `delimiter`: an
    Excel ``sep=X`` first line decides (and is skipped), else the one of ``, ; tab |`` that
    splits the first lines into a consistent number of columns. Refuses (`ValidationError`)
    spreadsheets, binary files, an empty file, a file without a header row and duplicate
    headers.
    """
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\r\n\"'"):
        raise ValidationError(
            _('--delimiter: "{delimiter}" must be one character').format(delimiter=delimiter)
        )
    prefix, eof = _read_prefix(source)
    if not prefix:
        raise ValidationError(_("{file}: is empty").format(file=name))
    if encoding is None:
        codec, errors, guessed, skip = _detect_encoding(prefix, eof, name)
    else:
        (codec, skip), errors, guessed = _resolve_encoding(encoding, prefix, name), "strict", False

    sample = _decode_sample(prefix[skip:], eof, codec, errors)
    raw = _Prefixed(prefix[skip:], None if eof else source)
    lines: Iterator[str] = _text_lines(io.BufferedReader(raw, CHUNK_SIZE), codec, errors, name)
    offset = 0
    first = next(lines, "")
    sep = _SEP_LINE.fullmatch(first)
    if sep is not None:
        offset = 1
        if delimiter is None:
            delimiter = sep.group(1)
        sample = "".join(sample.splitlines(keepends=True)[1:])
    else:
        lines = itertools.chain([first], lines)
    if delimiter is None:
        delimiter = _detect_delimiter(sample)

    stream = _Rows(lines, delimiter, offset, name)
    header = stream.next_row()
    if header is None:
        raise ValidationError(_("{file}: has no header row").format(file=name))
    header_line, cells = header
    headers = [unicodedata.normalize("NFC", cell.strip()) for cell in cells]
    _check_duplicates(headers, name, header_line)
    return Table(
        name=name,
        encoding=codec,
        encoding_guessed=guessed,
        delimiter=delimiter,
        headers=headers,
        header_line=header_line,
        rows=iter(stream),
        bom=codec == "utf-8-sig" or skip > 0,
    )
