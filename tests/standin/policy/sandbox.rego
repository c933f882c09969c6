# Test policy rules for the stand-in supervisor (a TEST DOUBLE): it reads
# the file as upstream's local-file mode requires one, it does not evaluate it.
package openshell.sandbox

default allow_network = false
