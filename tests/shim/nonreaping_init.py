#!/usr/bin/python3
"""CONTROL for the reaping tests: a deliberately broken init.

It becomes a child subreaper (so orphans are re-parented to it even when it
is not PID 1), starts the command after '--', waits for that one child only
and never reaps anything else.  Under it, orphans stay zombies: the reaping
tests run the same workload under it to prove they can see the bug."""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
argv = sys.argv[sys.argv.index("--") + 1:]
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
