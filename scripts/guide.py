#!/usr/bin/env python3
"""Run the `$ ` commands of the guides' console blocks and write their real output back.

    python scripts/guide.py update [FILE…]   # rewrite docs/guide.md and docs/guia.md
    python scripts/guide.py check [FILE…]    # exit 1 with a diff when a file would change

Like cog in sqlite-utils: the outputs in the guides are never typed by hand. Every fenced block
whose info string is `console` is run, in the order of the file, one `$ ` command after the
other, in one bash session (so `export`, `cd`, shell variables and `$?` carry over from one
command to the next, as they would at a terminal). Whatever a command writes to stdout and
stderr, in the order written, replaces the lines that followed it in the block.

The session is a scratch directory shown as /tmp/docs-crm: it is the working directory and
HOME, `/tmp/docs-crm` in a command is replaced by the real scratch path, and the scratch path in
the output by `/tmp/docs-crm`. It starts with CRM_LANG (en for guide.md, pt_BR for guia.md),
TZ=UTC, CRM_NOW=2026-12-07T09:00, LOGNAME=USER=ana, COLUMNS=100, no terminal (stdin is
/dev/null, stdout a pipe) and none of the caller's CRM_* variables; `crm` runs the crmcli of the
interpreter that runs this script.

Rules of the blocks:

- A command is a line starting with `$ `; a line ending with `\\` continues it on the next
  line, and a heredoc (`<<EOF` … `EOF`) takes the lines up to its terminator. Every other line
  is output and is regenerated. Trailing spaces are removed from output lines.
- The compact one-line JSON that `crm … --json` prints to a pipe is shown indented, exactly as
  crm prints it on a terminal (only for a command without a `|`: what jq prints is left alone).
- Hidden steps are HTML comments outside code blocks, not shown by Markdown renderers:

      <!-- guide: run export CRM_NOW=2026-12-08T09:00 -->   a shell command run unseen (here:
                                                           the pinned clock moves on); it must
                                                           exit 0
      <!-- guide: skip -->                                 the next console block is not run
                                                           (its text is kept as written)
      <!-- guide: file leads.csv -->                       the next fenced block (any language,
                                                           e.g. ```csv) is written to leads.csv
      <!-- guide: file expo.csv encoding=cp1252           a hidden file: the lines up to `-->`
      Nome;E-mail                                          are its content, written in that
      Ana;ana@example.com                                  encoding (default utf-8)
      -->

Exit codes: 0 written or up to date, 1 `check` found a difference, 2 a guide could not be run
(a hidden step failed, a command was not found or never finished).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDES = {ROOT / "docs" / "guide.md": "en", ROOT / "docs" / "guia.md": "pt_BR"}
SHOWN_DIR = "/tmp/docs-crm"
START_NOW = "2026-12-07T09:00"
COMMAND_TIMEOUT = 60.0

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\s*<!--\s*guide:\s*(?P<body>.*?)\s*(?P<end>-->)?\s*$")
HEREDOC = re.compile(
    r"(?<!<)<<(?P<dash>-?)\s*(?P<quote>['\"]?)(?P<word>[A-Za-z_][\w.-]*)(?P=quote)"
)


class GuideError(Exception):
    """A guide that cannot be run: the message names the file and line."""


@dataclass
class Session:
    """One bash process in a scratch directory; `run` feeds it one command at a time."""

    language: str
    scratch: Path = field(init=False)
    spellings: list[str] = field(init=False)
    shell: subprocess.Popen[bytes] = field(init=False)
    token: str = field(init=False, default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        made = tempfile.mkdtemp(prefix="crm-guide-")
        self.scratch = Path(made).resolve()
        self.spellings = sorted({made, str(self.scratch)}, key=len, reverse=True)
        home = self.scratch / "home"
        bindir = self.scratch / "bin"
        home.mkdir()
        bindir.mkdir()
        shim = bindir / "crm"
        shim.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m crmcli "$@"\n', encoding="utf-8"
        )
        shim.chmod(0o755)
        env = {
            "PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LOGNAME": "ana",
            "USER": "ana",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "COLUMNS": "100",
            "LINES": "40",
            "TERM": "dumb",
            "CRM_LANG": self.language,
            "CRM_NOW": START_NOW,
            "PYTHONPATH": str(ROOT / "src"),
            "PYTHONUNBUFFERED": "1",  # stdout and stderr interleave as they were written
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
        }
        self.shell = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.scratch,
            env=env,
        )

    def close(self) -> None:
        if self.shell.poll() is None:
            assert self.shell.stdin is not None
            self.shell.stdin.close()
            try:
                self.shell.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.shell.kill()
                self.shell.wait()
        assert self.shell.stdout is not None
        self.shell.stdout.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def real(self, text: str) -> str:
        """A command as it runs: the shown scratch directory replaced by the real one."""
        return text.replace(SHOWN_DIR, str(self.scratch))

    def shown(self, text: str) -> str:
        """An output as the guide shows it: the real scratch directory replaced."""
        for spelling in self.spellings:  # /tmp may be a link: both spellings
            text = text.replace(spelling, SHOWN_DIR)
        return text

    def run(self, source: str) -> tuple[int, str]:
        """Run one command (it may span lines); its exit status and output, as shown."""
        assert self.shell.stdin is not None and self.shell.stdout is not None
        marker = f"\x1e{self.token} "
        script = (
            f"{{ {self.real(source)}\n}} </dev/null\n"
            f"__guide_status=$?; printf '\\036%s %d\\036\\n' {self.token} \"$__guide_status\";"
            ' (exit "$__guide_status")\n'
        )
        try:
            self.shell.stdin.write(script.encode("utf-8"))
            self.shell.stdin.flush()
        except BrokenPipeError:
            raise GuideError(f"the shell ended before `{source}`") from None
        fd = self.shell.stdout.fileno()
        data = b""
        pattern = re.compile(re.escape(marker.encode()) + rb"(\d+)\x1e\n")
        while (found := pattern.search(data)) is None:
            ready, _, _ = select.select([fd], [], [], COMMAND_TIMEOUT)
            if not ready:
                raise GuideError(f"`{source}` did not finish in {COMMAND_TIMEOUT:.0f} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise GuideError(f"the shell ended during `{source}`")
            data += chunk
        output = data[: found.start()].decode("utf-8", errors="replace")
        return int(found.group(1)), self.shown(output)

    def write_file(self, name: str, content: str, encoding: str) -> None:
        path = Path(self.real(os.path.expanduser(name)))
        if not path.is_absolute():
            path = self.scratch / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode(encoding))


@contextmanager
def session(language: str) -> Iterator[Session]:
    shell = Session(language)
    try:
        yield shell
    finally:
        shell.close()


def _pipes(source: str) -> bool:
    """True when the command sends its output through a pipe (`|`, not `||`)."""
    lexer = shlex.shlex(source, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return "|" in list(lexer)
    except ValueError:  # unbalanced quotes: let bash say so
        return True


def _as_on_a_terminal(source: str, output: str) -> str:
    """`crm … --json` output with its one-line JSON documents indented as on a terminal."""
    if "--json" not in source or _pipes(source):
        return output
    lines = []
    for line in output.split("\n"):
        if line.startswith(("{", "[")):
            try:
                document = json.loads(line)
            except ValueError:
                pass
            else:
                line = json.dumps(document, ensure_ascii=False, indent=2)
        lines.append(line)
    return "\n".join(lines)


def _output_lines(source: str, output: str) -> list[str]:
    text = _as_on_a_terminal(source, output)
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return []
    return [line.rstrip() for line in text.split("\n")]


def _command_lines(body: list[str], start: int) -> int:
    """The index after the command that starts at body[start] (continuations, heredocs)."""
    end = start + 1
    while body[end - 1].endswith("\\") and end < len(body):
        end += 1
    text = "\n".join(body[start:end])
    for heredoc in HEREDOC.finditer(text):
        word = heredoc.group("word")
        while end < len(body):
            line = body[end].lstrip("\t") if heredoc.group("dash") else body[end]
            end += 1
            if line == word:
                break
        else:
            raise GuideError(f"heredoc {word!r} has no end")
    return end


def _run_block(shell: Session, body: list[str], where: str) -> list[str]:
    """A console block's lines with every command's output replaced by the real one."""
    result: list[str] = []
    index = 0
    while index < len(body) and not body[index].startswith("$ "):
        result.append(body[index])  # text before the first command is kept
        index += 1
    while index < len(body):
        end = _command_lines(body, index)
        source = "\n".join(body[index:end])[2:]
        status, output = shell.run(source)
        if status in (126, 127):
            raise GuideError(f"{where}: `{source}` exited {status}:\n{output}")
        result.extend(body[index:end])
        for line in _output_lines(source, output):
            if line.startswith("$ ") or FENCE.match(line):
                raise GuideError(f"{where}: the output of `{source}` has a line {line!r}")
            result.append(line)
        index = end
        while index < len(body) and not body[index].startswith("$ "):
            index += 1  # the old output
    return result


def _file_directive(words: list[str], where: str) -> tuple[str, str]:
    if len(words) < 2:
        raise GuideError(f"{where}: `file` needs a file name")
    encoding = "utf-8"
    for option in words[2:]:
        key, _, value = option.partition("=")
        if key != "encoding" or not value:
            raise GuideError(f"{where}: unknown file option {option!r}")
        encoding = value
    return words[1], encoding


def render(text: str, language: str, name: str = "guide") -> str:
    """`text` (a Markdown guide) with the output of every console command regenerated."""
    lines = text.split("\n")
    out: list[str] = []
    with session(language) as shell:
        skip_next = False
        pending_file: tuple[str, str] | None = None
        index = 0
        while index < len(lines):
            line = lines[index]
            where = f"{name}:{index + 1}"
            fence = FENCE.match(line)
            if fence:
                indent, mark = fence.group("indent"), fence.group("fence")
                close = index + 1
                while close < len(lines) and lines[close].strip() != mark:
                    close += 1
                if close == len(lines):
                    raise GuideError(f"{where}: the code block is not closed")
                body = [
                    inner[len(indent) :] if inner.startswith(indent) else inner.lstrip()
                    for inner in lines[index + 1 : close]
                ]
                if pending_file is not None:
                    shell.write_file(pending_file[0], "\n".join(body) + "\n", pending_file[1])
                    pending_file = None
                if fence.group("info").strip().split()[:1] == ["console"] and not skip_next:
                    body = _run_block(shell, body, where)
                skip_next = False
                out.append(line)
                out.extend(indent + inner if inner else "" for inner in body)
                out.append(lines[close])
                index = close + 1
                continue
            directive = DIRECTIVE.match(line)
            if directive:
                body_text = directive.group("body")
                words = shlex.split(body_text)
                verb = words[0] if words else ""
                if verb == "file" and directive.group("end") is None:
                    close = index + 1
                    while close < len(lines) and lines[close].strip() != "-->":
                        close += 1
                    if close == len(lines):
                        raise GuideError(f"{where}: the comment is not closed with -->")
                    file_name, encoding = _file_directive(words, where)
                    content = "".join(f"{inner}\n" for inner in lines[index + 1 : close])
                    shell.write_file(file_name, content, encoding)
                    out.extend(lines[index : close + 1])
                    index = close + 1
                    continue
                if directive.group("end") is None:
                    raise GuideError(f"{where}: a guide comment must end with --> on its line")
                if verb == "file":
                    pending_file = _file_directive(words, where)
                elif verb == "skip":
                    skip_next = True
                elif verb == "run":
                    source = body_text[len("run") :].strip()
                    status, output = shell.run(source)
                    if status != 0:
                        raise GuideError(f"{where}: `{source}` exited {status}:\n{output}")
                else:
                    raise GuideError(f"{where}: unknown guide comment {verb!r}")
            out.append(line)
            index += 1
    return "\n".join(out)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _language(path: Path) -> str:
    return GUIDES.get(path.resolve(), "pt_BR" if path.name == "guia.md" else "en")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("update", "check"))
    parser.add_argument("files", nargs="*", type=Path, help="default: docs/guide.md docs/guia.md")
    args = parser.parse_args(argv)
    files: list[Path] = args.files or list(GUIDES)
    stale = []
    for path in files:
        name = _relative(path)
        old = path.read_text(encoding="utf-8")
        try:
            new = render(old, _language(path), name)
        except GuideError as error:
            print(f"guide.py: {error}", file=sys.stderr)
            return 2
        if new == old:
            continue
        if args.mode == "update":
            path.write_text(new, encoding="utf-8")
            print(f"guide.py: updated {name}", file=sys.stderr)
        else:
            stale.append(name)
            sys.stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"{name} (committed)",
                    tofile=f"{name} (as crm prints it)",
                )
            )
    if stale:
        print(
            f"guide.py: {', '.join(stale)} out of date: run `python scripts/guide.py update`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
