#!/bin/sh
# count_zombies.sh PID: prints "zombies=N", the zombie children of PID
# (the init under test). Reads /proc directly: works on the host and in gVisor.
parent=${1:?usage: count_zombies.sh PARENT_PID}
n=0
for f in /proc/[0-9]*/stat; do
    # field 3 is the state, field 4 the parent pid (the comm field has no spaces here)
    set -- $(cat "$f" 2>/dev/null) || continue
    [ "$3" = Z ] && [ "$4" = "$parent" ] && n=$((n + 1))
done
echo "zombies=$n"
