"""The definitions around the reviewed lines, so a model sees which function a hunk is in.

A diff hunk of three lines in the middle of a method reads very differently once the reader
knows the method's name, parameters and class; `git diff` prints the enclosing function on every
hunk header for that reason. So each function, method or class that encloses a reviewed line
adds its header (decorators and a multi-line signature included) to the lines sent, as context,
and the whole definition when it is small.

"Small" is at most `SMALL_LINES` lines and `SMALL_CHARS` characters (about 1,000 tokens at the
4-characters-a-token estimate). Most functions are shorter than that, so a change inside one is
sent with all of it; a longer one is more than a reader takes in for a hunk's sake, and would
make a diff review of a few lines cost what a whole-file review costs. The header alone is capped
at `HEADER_LINES` lines.

Finding them must stay cheap, since it runs before every review:
- Python: the `ast` of the top-level statements that hold the reviewed lines only (not the whole
  file), which gives exact spans; where that text does not parse (a file being edited), the
  indentation heuristic below.
- Other code: an indentation heuristic. Walking up from a reviewed line, each line indented less
  than the last one kept opens a block around it; those that look like a definition (`def`,
  `function`, `func`, `fn`, `class`, `struct`, `impl`, a member with `public`/`private`/...
  modifiers, `x = (...) =>`, a call-shaped line ending in `{`) are kept. A definition ends at
  the next line indented no deeper than its header (that line too, when it closes a brace).
  It relies on code being indented as formatters leave it, which is what real code looks like.
- Data and prose (`text`, TOML, YAML, JSON, SQL): nothing.

Measured against parsers, line by line (is the innermost definition the same?): the heuristic
agrees with `ast` on 99.8 % of 5,757 code lines (argparse, shutil, textwrap, dataclasses,
smtplib, json.decoder and the eval dataset's Python), and with acorn on 96.1 % of 3,514 lines of
JavaScript (npm's twelve largest command modules and the dataset's); the misses are mostly inside
template literals whose text starts at column 0. All 25 definitions in the dataset's Go and
JavaScript/TypeScript files are found with their exact spans.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fusion_ls.findings import LineRange, Scope

__all__ = [
    "HEADER_LINES",
    "SMALL_CHARS",
    "SMALL_LINES",
    "Definition",
    "context_windows",
    "definitions",
]

SMALL_LINES = 50
SMALL_CHARS = 4000
HEADER_LINES = 10

_NOT_CODE = frozenset({"text", "toml", "yaml", "json", "sql"})
_CONTROL = (
    r"(?:if|else|for|foreach|while|do|switch|case|catch|try|finally|with|using|lock"
    r"|return|throw|new|await|yield|go|defer)\b"
)
_MODIFIERS = (
    r"(?:export|default|declare|abstract|final|sealed|data|static|public|private|protected"
    r"|internal|open|partial|enum)"
)
_DEFINITIONS = (
    # JavaScript, TypeScript, Lua, PHP: function name(, async function* name<T>(
    r"(?:export\s+|local\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*[\w$.:]*\s*"
    r"(?:<[^>]*>\s*)?\(",
    # Python, Ruby, Scala
    r"(?:async\s+)?def\s+[\w.?!]+\s*(?:$|[(\[;=<])",
    # Go (methods and generics), Kotlin, Swift
    r"(?:func|fun)\s+(?:\([^)]*\)\s*|<[^>]*>\s*)?[\w$.]+\s*[(<\[]",
    # Rust
    r"(?:pub(?:\([^)]*\))?\s+)?(?:(?:async|unsafe|const|extern(?:\s+\"[^\"]*\")?)\s+)*"
    r"fn\s+\w+\s*[(<]",
    # types: a keyword, a name, then what may follow a type's name
    rf"(?:{_MODIFIERS}\s+)*"
    r"(?:class|interface|struct|trait|enum|impl|object|module|namespace|record)"
    r"(?:<[^>]*>)?\s+[\w$.:]+(?:<[^>]*>)?\s*"
    r"(?:$|[{(<:\[=]|(?:extends|implements|for|where)\b)",
    r"type\s+\w+\s+(?:struct|interface)\b",  # Go
    # Java, C#, Kotlin, TypeScript members with a modifier
    r"(?:public|private|protected|internal|static|override|virtual|abstract|final"
    r"|synchronized|async|open|suspend|inline)\s[^=;]*\(",
    # JavaScript and TypeScript: const name = (...) =>, const name = function
    r"(?:export\s+)?(?:const|let|var)\s+[\w$]+\s*(?::[^=]+)?=\s*(?:async\s+)?"
    r"(?:function\b|(?:\([^)]*\)|[\w$]+)\s*(?::\s*[^=]+)?=>)",
    r"[\w$.]+\s*[:=]\s*(?:async\s+)?function\b",  # name: function, obj.name = function
    # C, C++, Java, C#, shell, JavaScript methods: name(...) {, not a control statement
    rf"(?!{_CONTROL})[\w$#<>\[\],.*&:~\s]*[\w$]\s*\([^;]*\)\s*"
    r"(?:(?:->|:)\s*[^;={]+|throws\s+[\w.,\s]+|const|noexcept|override|final)?\s*\{\s*$",
)
_DEFINITION = re.compile(f"^(?:{'|'.join(_DEFINITIONS)})")
_OPENS_BODY = re.compile(r"(?:(?<!\()\{|:|=>|=)\s*$")
_CLOSER = re.compile(r"^(?:[)\]}]|end\b)")
_PRIVATE_METHOD = re.compile(r"#[A-Za-z_$][\w$]*\s*\(")
_PARAMETERS_END = re.compile(r"^[}\]]*[)\]]")
_PYTHON_CONTINUES = re.compile(r"^(?:else|elif|except|finally)\b|^[)\]}]")


@dataclass(frozen=True)
class Definition:
    """A function, method or class: its first line (decorators included), the last line of its
    header, and its last line; 1-based and inclusive."""

    start: int
    header_end: int
    end: int

    def context(self, lines: Sequence[str]) -> LineRange:
        """What is sent of it: all of it when small, else its header."""
        body = lines[self.start - 1 : self.end]
        if len(body) <= SMALL_LINES and sum(len(line) + 1 for line in body) <= SMALL_CHARS:
            return LineRange(start=self.start, end=self.end)
        end = min(self.header_end, self.start + HEADER_LINES - 1)
        return LineRange(start=self.start, end=end)


def context_windows(
    lines: Sequence[str], language: str, reviewed: Scope, context_lines: int
) -> Scope:
    """The lines sent of a document: each reviewed range with `context_lines` either side, and
    what `Definition.context` gives of each definition around a reviewed line."""
    widened = reviewed.widened(context_lines, len(lines))
    if widened.ranges == (LineRange(start=1, end=len(lines)),):
        return widened  # everything goes already: nothing to look for
    extra = [d.context(lines) for d in definitions(lines, language, reviewed, widened)]
    return Scope.of([*widened.ranges, *extra], len(lines))


def definitions(
    lines: Sequence[str], language: str, reviewed: Scope, sent: Scope | None = None
) -> list[Definition]:
    """Every definition that holds a reviewed line, outermost first, each once.

    Python's top-level statements that lie wholly inside `sent` (lines that go anyway) are not
    parsed: whatever they define goes already. That is the usual selection in an editor, with
    its 30 lines of context, and it saves the parse (about 0.5 ms for 40 lines) on the path to
    the first diagnostic.
    """
    if language in _NOT_CODE:
        return []
    found: set[Definition] = set()
    if language == "python":
        for chunk, ranges in _top_level_chunks(lines, reviewed):
            window = sent.span_of(chunk.start) if sent is not None else None
            if window is not None and chunk.end <= window.end:
                continue
            parsed = _parsed(lines, chunk, ranges)
            found.update(parsed if parsed is not None else _indented(lines, ranges))
    else:
        found.update(_indented(lines, reviewed.ranges))
    return sorted(found, key=lambda d: (d.start, -d.end))


# -- Python: the ast of the top-level statements around the reviewed lines -----------------------


def _top_level(line: str) -> bool:
    """Whether a line starts a top-level statement (as far as one line can tell)."""
    return (
        bool(line)
        and not line[0].isspace()
        and line[0] != "#"
        and not _PYTHON_CONTINUES.match(line)
    )


def _top_level_chunks(
    lines: Sequence[str], reviewed: Scope
) -> list[tuple[LineRange, list[LineRange]]]:
    """The top-level statements that hold each reviewed range, merged where they meet."""
    chunks: list[tuple[LineRange, list[LineRange]]] = []
    for span in reviewed.ranges:
        start = next((n for n in range(span.start, 0, -1) if _top_level(lines[n - 1])), 1)
        while start > 1 and lines[start - 2].startswith("@"):
            start -= 1  # a definition's decorators are part of its statement
        after = (n for n in range(span.end + 1, len(lines) + 1) if _top_level(lines[n - 1]))
        end = next(after, len(lines) + 1) - 1
        if chunks and start <= chunks[-1][0].end:
            merged, held = chunks.pop()
            chunks.append((LineRange(start=merged.start, end=max(end, merged.end)), [*held, span]))
        else:
            chunks.append((LineRange(start=start, end=end), [span]))
    return chunks


def _parsed(
    lines: Sequence[str], chunk: LineRange, ranges: Sequence[LineRange]
) -> list[Definition] | None:
    """The definitions of `chunk` that hold a line of `ranges`; None when it does not parse."""
    try:
        tree = ast.parse("\n".join(lines[chunk.start - 1 : chunk.end]))
    except (SyntaxError, ValueError, RecursionError):
        return None
    shift = chunk.start - 1
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) + shift
        end = (node.end_lineno or node.lineno) + shift
        if any(span.start <= end and start <= span.end for span in ranges):
            header_end = max(node.lineno, node.body[0].lineno - 1) + shift
            while header_end > node.lineno + shift and not _code(lines[header_end - 1]):
                header_end -= 1  # blank lines and comments before the body are not the header
            found.append(Definition(start, header_end, end))
    return found


def _code(line: str) -> bool:
    """Not blank and not a comment (a JavaScript `#private (...)` method is code)."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return bool(_PRIVATE_METHOD.match(stripped))
    return bool(stripped) and not stripped.startswith(("//", "/*", "* ", "*/"))


# -- other languages: indentation and definition keywords ---------------------------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indented(lines: Sequence[str], ranges: Iterable[LineRange]) -> list[Definition]:
    """Definitions around the first and last code line of each range, by indentation."""
    found: list[Definition] = []
    for span in ranges:
        code = [n for n in range(span.start, span.end + 1) if _code(lines[n - 1])]
        for anchor in {code[0], code[-1]} if code else ():
            found.extend(_around(lines, anchor))
    return found


def _around(lines: Sequence[str], anchor: int) -> list[Definition]:
    """The definitions whose blocks hold line `anchor`, innermost first (the line itself counts
    when it is a definition's header)."""
    found: list[Definition] = []
    closes = bool(_CLOSER.match(lines[anchor - 1].strip()))
    level = _indent(lines[anchor - 1]) + closes  # a closing line belongs to the block it ends
    number = anchor - closes
    while number >= 1:
        line = lines[number - 1]
        if number == anchor or (_code(line) and _indent(line) < level):
            level = _indent(line)
            head, tail = _header(lines, number)
            header = " ".join(text.strip() for text in lines[head - 1 : tail])
            if _DEFINITION.match(header):
                found.append(Definition(head, tail, _end(lines, head, tail)))
            if level == 0:
                break
            number = head
        number -= 1
    return found


def _header(lines: Sequence[str], number: int) -> tuple[int, int]:
    """The first and last line of the header that line `number` belongs to.

    A line that starts with a closing bracket (`) -> int:`, `}) {`), or is a lone `{` (a brace
    on its own line), ends a header that began at the nearest line above with the same
    indentation.
    """
    head = number
    stripped = lines[number - 1].strip()
    if stripped == "{" or _CLOSER.match(stripped):
        indent = _indent(lines[number - 1])
        above = (
            n
            for n in range(number - 1, max(0, number - HEADER_LINES), -1)
            if _code(lines[n - 1]) and _indent(lines[n - 1]) <= indent
        )
        head = next(above, number)
        if _indent(lines[head - 1]) < indent or _CLOSER.match(lines[head - 1].strip()):
            head = number
    indent = _indent(lines[head - 1])
    first = lines[head - 1]
    longest = number if first.count("(") <= first.count(")") else head + HEADER_LINES - 1
    for n in range(head, min(len(lines), longest) + 1):
        text = lines[n - 1]
        new_statement = _code(text) and not _PARAMETERS_END.match(text.strip())
        if n > number and new_statement and _indent(text) <= indent:
            break  # the header was the lines up to `number`
        if _OPENS_BODY.search(_without_comment(text)):
            return head, max(n, number)
    return head, number


def _without_comment(line: str) -> str:
    line = line.strip()
    for mark in (" //", " #"):
        cut = line.find(mark)
        if cut >= 0:
            line = line[:cut]
    return line.rstrip()


def _end(lines: Sequence[str], head: int, tail: int) -> int:
    """The last line of the block whose header is lines `head`..`tail`."""
    indent = _indent(lines[head - 1])
    last = tail
    for n in range(tail + 1, len(lines) + 1):
        text = lines[n - 1]
        if not _code(text):
            continue
        if _indent(text) <= indent:
            return n if _CLOSER.match(text.strip()) else last
        last = n
    return last
