"""The conventions of the CLIs people know: -V, -q, examples in --help, colour on a terminal
(NO_COLOR, FORCE_COLOR), --show-fixes, --stream that does not write onto the progress line, and
the server's log on stderr."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from cli_workspace import Workspace
from fake_openai import FakeOpenAI, Reply
from reviewers import DIV, SQLI, merging_judge, review
from terminal import SGR, on_terminal

from fusion_ls.version import __version__

RED_ERROR = "\x1b[1;31merror\x1b[0m"
ARGUED_SQLI = {**SQLI, "rationale": "Pass user_id as a query parameter."}


def script_pool(fake: FakeOpenAI, delay_s: float = 0.0) -> None:
    """DIV (an error with a rationale and a fix) from two models, a warning with a rationale
    from one."""
    fake.script("alpha", Reply(content=review(DIV, ARGUED_SQLI), delay_s=delay_s))
    fake.script("beta", Reply(content=review(DIV), delay_s=2 * delay_s))
    fake.script("gamma", Reply(content=review(), delay_s=3 * delay_s))
    fake.script("judge", merging_judge)


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(workspace: Workspace, flag: str) -> None:
    result = workspace.run(flag)
    assert (result.code, result.out) == (0, f"fusion-ls {__version__}\n")


@pytest.mark.parametrize(("args", "shown"), [(["--log-level", "INFO"], True), ([], False)])
def test_the_server_names_itself_on_stderr_at_info(
    workspace: Workspace, args: list[str], shown: bool
) -> None:
    """What an editor's server output shows first once the user raises the log level; stdout
    stays empty, because it is the protocol (the server stops when stdin closes)."""
    result = workspace.run(*args)

    started = f"fusion-ls {__version__} (Python "
    assert (result.code, result.out) == (0, "")
    assert (started in result.err and "serving LSP over stdio" in result.err) is shown


def lsp_message(method: str, params: dict[str, object]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode()
    return b"Content-Length: %d\r\n\r\n%b" % (len(body), body)


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_cancellations_that_lost_their_race_are_not_warnings(
    workspace: Workspace, level: str, shown: bool
) -> None:
    """A cancel that arrives after its request or progress ended (VS Code sends both kinds)
    is logged at DEBUG, not as a WARNING in the editor's server output."""
    cancels = lsp_message("$/cancelRequest", {"id": 42}) + lsp_message(
        "window/workDoneProgress/cancel", {"token": "fusion-ended"}
    )
    done = subprocess.run(
        [sys.executable, "-m", "fusion_ls", "--log-level", level],
        input=cancels, capture_output=True, cwd=workspace.root, env=workspace.env, timeout=60,
    )  # fmt: skip

    err = done.stderr.decode()
    assert (done.returncode, done.stdout) == (0, b"")
    assert "WARNING" not in err
    assert (
        'DEBUG pygls.protocol.json_rpc: Cancel notification for unknown message id "42"' in err
    ) is shown
    assert (
        "DEBUG pygls.protocol.language_server: Ignoring work done progress cancel"
        " for unknown token fusion-ended" in err
    ) is shown


def test_help_shows_examples_as_written(workspace: Workspace) -> None:
    result = workspace.run("--help")

    assert result.code == 0
    assert "\nexamples:\n  fusion-ls init " in result.out
    assert "\n  fusion-ls review app.py --fix " in result.out
    assert "NO_COLOR=1 turns it off" in result.out


def test_quiet_short_flag(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)
    result = workspace.run("review", "sample.py", "-q")
    assert result.code == 0, result.err
    assert result.err == "" and "sample.py:5:5: error" in result.out


def test_a_terminal_gets_colour_and_the_details_of_errors(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai)

    code, shown = on_terminal(["review", "sample.py"], workspace.root, workspace.env)

    assert code == 0, shown
    assert f"sample.py\x1b[0m:5:5: {RED_ERROR} [bug] Division by zero" in shown
    plain = SGR.sub("", shown)
    assert "\n    `len(values)` is 0 for an empty list.\n" in plain  # the rationale
    assert "\n    @@ -5 +5 @@\n    -    return total / len(values)\n" in plain  # the fix
    assert "+    return total / len(values) if values else 0.0" in plain
    assert "\x1b[32m+    return total / len(values) if values else 0.0\x1b[0m" in shown
    assert "query parameter" not in plain  # a warning's details wait for --show-fixes


def test_no_color_wins_on_a_terminal_and_over_force_color(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai)

    code, shown = on_terminal(
        ["review", "sample.py"], workspace.root, {**workspace.env, "NO_COLOR": "1"}
    )
    forced = workspace.run_with({"NO_COLOR": "1", "FORCE_COLOR": "1"}, "review", "sample.py")

    assert code == 0
    assert "error [bug] Division by zero" in shown and not SGR.search(shown)
    assert forced.code == 0 and not SGR.search(forced.out)


def test_an_empty_no_color_does_not_count(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    """no-color.org: "when present and not an empty string"."""
    script_pool(fake_openai)

    code, shown = on_terminal(
        ["review", "sample.py"], workspace.root, {**workspace.env, "NO_COLOR": ""}
    )

    assert code == 0 and RED_ERROR in shown


def test_piped_output_is_plain_unless_forced(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    script_pool(fake_openai)

    piped = workspace.run("review", "sample.py", "--quiet")
    forced = workspace.run_with({"FORCE_COLOR": "1"}, "review", "sample.py", "--quiet")

    assert not SGR.search(piped.out) and "    @@" not in piped.out
    assert RED_ERROR in forced.out
    findings = slice(0, 2)  # the status block differs: the second run is a cache hit
    assert SGR.sub("", forced.out).splitlines()[findings] == piped.out.splitlines()[findings]


def test_show_fixes_prints_rationale_and_diff_under_every_finding(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai)

    result = workspace.run("review", "sample.py", "--show-fixes", "--quiet")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    at = lines.index(
        "sample.py:5:5: error [bug] Division by zero when values is empty " + "(2/3 models)"
    )
    assert lines[at + 1 : at + 7] == [
        "    `len(values)` is 0 for an empty list.",
        "    --- a/sample.py",
        "    +++ b/sample.py",
        "    @@ -5 +5 @@",
        "    -    return total / len(values)",
        "    +    return total / len(values) if values else 0.0",
    ]
    assert lines[at + 7].startswith("sample.py:9:5: hint [security]")  # demoted: 1/3
    assert lines[at + 8 :][:2] == ["    Pass user_id as a query parameter.", ""]  # no diff


def test_no_show_fixes_hides_them_on_a_terminal(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai)

    code, shown = on_terminal(
        ["review", "sample.py", "--no-show-fixes"], workspace.root, workspace.env
    )

    assert code == 0 and "Division by zero" in shown and "@@" not in shown


def test_stream_erases_the_progress_line_before_each_finding(
    workspace: Workspace, fake_openai: FakeOpenAI
) -> None:
    script_pool(fake_openai, delay_s=0.3)

    code, shown = on_terminal(["review", "sample.py", "--stream"], workspace.root, workspace.env)

    assert code == 0, shown
    streamed = [line for line in shown.split("\n") if "so far" in line]
    assert streamed, shown
    for line in streamed:
        # Whatever the progress line said is erased: the finding starts the visible line.
        visible = line.rsplit("\r\x1b[2K", 1)[-1]
        assert SGR.sub("", visible).startswith("sample.py:"), repr(line)
        assert "\r\x1b[2K" in line, repr(line)


def test_stream_says_the_offline_note_once(workspace: Workspace, fake_openai: FakeOpenAI) -> None:
    """Streamed first, the note (no key: local analyzers only) was printed again above the
    fused set."""
    del workspace.env["OPENROUTER_API_KEY"]

    result = workspace.run("review", "sample.py", "--stream", "--quiet")

    assert result.code == 0, result.err
    assert result.out.count("OPENROUTER_API_KEY is not set") == 1, result.out
    assert result.out.startswith("note: no model provider can be used")
    assert "(2/2 analyzers)" in result.out.split("fused:")[1]
    assert fake_openai.requests == []
