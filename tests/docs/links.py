#!/usr/bin/env python3
"""Docs hold together: every relative link in the Markdown documents points
to a file that exists, every docs/...md path cited anywhere in the tree
exists, and no file mentions the project's internal notes or its own issue
numbers (upstream pull requests are named "pull request N").

Usage: links.py ROOT [FILE...]   (FILEs relative to ROOT; default: the tree)
Exit 0 when clean, 1 with one line per finding.
"""
import os
import re
import subprocess
import sys

# Built so that this file does not match its own patterns.
NOTES = "FACTS" + ".md"
ISSUE = re.compile(r"\bissue[s]? #?[0-9]", re.IGNORECASE)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CITED = re.compile(r"(?<![A-Za-z0-9_./:-])(docs/(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.md)")
CODE = re.compile(r"`[^`]*`")
SKIP_DIRS = {".git", "build"}


def tree(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-co", "--exclude-standard"],
                             capture_output=True, text=True, check=True).stdout
        files = [f for f in out.splitlines() if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")]
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return [f for f in files if not f.split("/")[0].startswith("build")
            and os.path.isfile(os.path.join(root, f))]


def is_doc(f):
    return f.endswith(".md") and (f in ("README.md", "CHANGELOG.md")
                                  or f.startswith("docs/") or f.startswith("deploy/"))


def check(root, files):
    errs = []
    for f in files:
        try:
            text = open(os.path.join(root, f), encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue  # binary: fuzz corpora, images
        if f.startswith("tests/docs/"):
            continue  # the checker and its controls hold examples on purpose
        for n, line in enumerate(text.splitlines(), 1):
            if NOTES in line:
                errs.append("%s:%d: mentions the internal notes file" % (f, n))
            if ISSUE.search(line):
                errs.append("%s:%d: an issue number: %s" % (f, n, line.strip()[:80]))
        for n, line in enumerate(text.splitlines(), 1):
            if is_doc(f):
                for target in LINK.findall(CODE.sub("", line)):
                    if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                        continue
                    path = target.split("#", 1)[0]
                    full = os.path.normpath(os.path.join(root, os.path.dirname(f), path))
                    if not os.path.exists(full):
                        errs.append("%s:%d: broken link %s" % (f, n, target))
            for cited in CITED.findall(line):
                if not os.path.exists(os.path.join(root, cited)):
                    errs.append("%s:%d: cites %s, which does not exist" % (f, n, cited))
    return errs


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    files = sys.argv[2:] or tree(root)
    errs = check(root, files)
    for e in errs:
        print(e)
    print("%d files checked, %d findings" % (len(files), len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
