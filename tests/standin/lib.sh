# Reading what the stand-in supervisor wrote (its --status-file, JSON with
# one entry per bootstrap step); for suites that run it.  Needs common.sh.

# standin_step STATUSFILE STEP -> "result detail", "absent" when the step is
# not in the file, "no-status <why>" when the file cannot be read.
standin_step() {
    "$OSS_PYTHON" - "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("no-status", e); sys.exit()
for s in d.get("steps", []):
    if s.get("step") == sys.argv[2]:
        print(s.get("result"), s.get("detail") or s.get("error") or "")
        break
else:
    print("absent")
PY
}
