"""`voxinfer --help`, `voxinfer help [CMD]` and `voxinfer CMD --help` print usage on stdout and
exit 0, for every command `voxinfer --help` lists; each command's usage names every option its
parser accepts (read from the parser's source, so a new option without help fails here), each
with help text (the Python cohort runner's: with its default, plus a description and an
example); an unknown option still exits 2 with the usage on stderr."""
import glob
import os
import re
import subprocess

import pytest

SRC = os.environ["VX_SOURCE_DIR"]
CLI = os.path.join(os.environ["VX_BUILD_DIR"], "bin", "voxinfer")


def voxinfer(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120)


def listed_commands():
    p = voxinfer("--help")
    assert p.returncode == 0, p.stderr
    return [m for m in re.findall(r"^  voxinfer ([a-z][a-z0-9-]*)", p.stdout, re.M) if m != "help"]


def parser_options(command):
    """The options the command's parser accepts, from its source: the C++ CommandSpec table (or
    an Args(..., {options}, {flags}) call) in tools/voxinfer/cmd_NAME.cpp (NAME with '_' for '-'), with the read flags of
    read_flags.cpp where the table adds them, else the Python
    argparse parser whose prog is "voxinfer NAME"."""
    cpp = os.path.join(SRC, "tools", "voxinfer", f"cmd_{command.replace('-', '_')}.cpp")
    with open(cpp) as f:
        text = f.read()
    if "with_read_flags(" in text:  # the read flags' table lives in read_flags.cpp
        with open(os.path.join(SRC, "tools", "voxinfer", "read_flags.cpp")) as f:
            text += f.read()
    names = set(re.findall(r'\{"([a-z0-9-]+)", (?:nullptr|"[^"]*"), "', text))
    for sets in re.findall(r"Args \w+\(argc, argv, \d+, (\{[^}]*\}), (\{[^}]*\})\)", text):
        for s in sets:
            names |= set(re.findall(r'"([a-z0-9-]+)"', s))
    for py in glob.glob(os.path.join(SRC, "**", "*.py"), recursive=True):
        with open(py) as f:
            body = f.read()
        if f'prog="voxinfer {command}"' in body:
            names |= set(re.findall(r'add_argument\("--([a-z0-9-]+)"', body))
    return names


def argparse_entries(usage):
    """{option: its help text} from argparse's option list: an entry starts "  --name [METAVAR]"
    and its help continues on the lines indented further (argparse moves it there for a long name)."""
    entries, name = {}, None
    for line in usage.splitlines():
        m = re.match(r"^  (?:-\w, )?--([a-z0-9-]+)(?: [A-Z_]+)?(.*)$", line)
        if m:
            name = m.group(1)
            entries[name] = m.group(2).strip()
        elif name and re.match(r"^ {3,}\S", line):
            entries[name] += " " + line.strip()
        else:
            name = None
    return entries


def test_the_top_level_help_lists_the_commands():
    commands = listed_commands()
    assert {"exam", "run", "n4", "info", "preprocess", "cohort"} <= set(commands)
    assert voxinfer("help").stdout == voxinfer("--help").stdout
    p = voxinfer()
    assert p.returncode == 2 and "usage" in p.stderr


@pytest.mark.parametrize("command", listed_commands())
def test_command_help_names_every_option(command):
    p = voxinfer(command, "--help")
    assert p.returncode == 0, p.stderr
    assert "usage: voxinfer " + command in p.stdout
    options = parser_options(command)
    assert options, f"no options found for {command} in its parser's source"
    missing = sorted(o for o in options if not re.search(rf"--{re.escape(o)}\b", p.stdout))
    assert not missing, f"voxinfer {command} --help does not mention {missing}"
    if command != "cohort":  # the C++ usage: every option has a line with its meaning, and an example
        for o in options:
            line = re.search(rf"^  --{re.escape(o)}\b.*$", p.stdout, re.M)
            assert line and len(line.group(0).split(None, 2)) >= 2, f"--{o} has no help line"
        assert "example:" in p.stdout
        assert voxinfer("help", command).stdout == p.stdout
        assert voxinfer(command, "-h").stdout == p.stdout
    else:  # argparse's usage: every option has help saying its default (or that it is required)
        entries = argparse_entries(p.stdout)
        for o in options:
            text = entries.get(o)
            assert text is not None, f"--{o} has no entry in the options list"
            assert re.search(r"[a-z]{3,}", text), f"--{o} has no help text"
            assert "default" in text or "required" in text, f"--{o}'s help does not say its default: {text!r}"
        assert not p.stdout.split("\n\n")[1].startswith("options:"), "no description"
        assert "example:" in p.stdout and "voxinfer cohort --manifest" in p.stdout


@pytest.mark.parametrize("command", listed_commands())
def test_an_unknown_option_exits_2_with_the_usage_on_stderr(command):
    # cohort hands its arguments to the Python runner once it knows the models folder
    p = voxinfer(command, *(["--models", "/nonexistent"] if command == "cohort" else []), "--no-such-option")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert "usage" in p.stderr
    assert command == "cohort" or "unknown option --no-such-option" in p.stderr  # argparse names missing ones first
