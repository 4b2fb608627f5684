#!/usr/bin/env python3
"""Org-scoping mutation check: every organization condition in the store's SQL must be
guarded by a test.

For each `org_id = …` comparison inside crates/store/src/*.rs (a `WHERE org_id = $1`
filter or an `a.org_id = b.org_id` join), this script writes a copy of the file where that
one comparison always holds (`(cond OR 1 = 1)`), runs the test suite, and restores the file.
A mutant that leaves every test green is a scoping condition no test would miss.

    python3 scripts/mutate-org-scoping.py                 # SQLite
    ROSTER_TEST_DATABASE_URL=postgres://… python3 scripts/mutate-org-scoping.py
    python3 scripts/mutate-org-scoping.py --only users.rs:93

Slow (one incremental build and one suite run per mutant): run by hand, never in CI.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
STORE = ROOT / "crates" / "store" / "src"
COND = re.compile(r"\b((?:[a-z]+\.)?org_id = (?:\$\d+|[a-z]+\.org_id))")
# Statements that write org_id as a value, not a condition, never match COND; these
# comparisons are not organization scoping and are left alone.
SKIP = {"testing.rs"}


def mutants():
    for path in sorted(STORE.glob("*.rs")):
        if path.name in SKIP:
            continue
        lines = path.read_text().splitlines(keepends=True)
        for i, line in enumerate(lines):
            for m in COND.finditer(line):
                yield path, i, m


def run_suite():
    cmd = ["cargo", "nextest", "run", "--workspace", "--no-fail-fast", "--status-level", "fail",
           "--final-status-level", "none", "--hide-progress-bar"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    out = res.stdout + res.stderr
    if "error[E" in out or "could not compile" in out:
        return None, "does not compile"
    failed = sorted(set(re.findall(r"FAIL \[[^\]]*\] (?:\(\s*\d+/\d+\) )?(\S+ \S+)", out)))
    return res.returncode != 0, failed


def main():
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    caught = missed = 0
    for path, i, m in list(mutants()):
        where = f"{path.name}:{i + 1}"
        if only and where != only:
            continue
        original = path.read_text()
        lines = original.splitlines(keepends=True)
        line = lines[i]
        lines[i] = line[: m.start()] + f"({m.group(1)} OR 1 = 1)" + line[m.end():]
        path.write_text("".join(lines))
        try:
            killed, detail = run_suite()
        finally:
            path.write_text(original)
        if killed:
            caught += 1
            print(f"caught  {where}  {m.group(1)!r}  by {', '.join(detail[:3])}", flush=True)
        elif killed is None:
            caught += 1
            print(f"caught  {where}  {m.group(1)!r}  ({detail})", flush=True)
        else:
            missed += 1
            print(f"MISSED  {where}  {m.group(1)!r}", flush=True)
    print(f"{caught} caught, {missed} missed")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
