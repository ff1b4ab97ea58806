#!/bin/sh
# heap-walk.sh - examples/heap-walk prints a map of its heap with the
# expected structure (natively, or under Wine), and --svg writes
# well-formed SVG.
prog=examples/heap-walk$PH_EXEEXT
svg=heap-walk-check.$$.svg
trap 'rm -f "$svg"' EXIT
out=$($PH_RUN "$prog" --svg "$svg" | tr -d '\r') ||
  { echo "FAIL: $prog --svg exited with an error"; exit 1; }
printf '%s\n' "$out"
fail() { echo "FAIL: $*"; exit 1; }
line() { printf '%s\n' "$out" | grep -c "$1"; }

live=$(printf '%s\n' "$out" | sed -n 's/^Pattern: .*, \([0-9]*\) live (\([0-9]*\) bytes)$/\1 \2/p')
[ -n "$live" ] || fail "no Pattern line"
set -- $live
want_busy=$1 want_bytes=$2

[ "$(line '^Heap 0x[0-9a-f]* (.* backend): [0-9]* walk entries$')" = 1 ] ||
  fail "no Heap line"
regions=$(line '^Region [0-9]* at 0x[0-9a-f]*: [0-9]* bytes reserved')
[ "$regions" -ge 1 ] || fail "no Region line"
printf '%s\n' "$out" | sed -n 2,3p | grep -q '^Region 0 at ' ||
  fail "the walk does not start with a region"
busy=$(line '^  busy  *0x[0-9a-f]*  *[0-9]* bytes  overhead  *[0-9]*$')
free=$(line '^  free  *0x[0-9a-f]*  *[0-9]* bytes  overhead  *[0-9]*$')
[ "$busy" = "$want_busy" ] || fail "$busy busy entries, $want_busy live blocks"
[ "$free" -ge 1 ] || fail "no free entry"
totals=$(printf '%s\n' "$out" | grep '^Totals: ')
[ -n "$totals" ] || fail "no Totals line"
printf '%s\n' "$totals" | grep -q "; $want_busy busy blocks, $want_bytes bytes " ||
  fail "totals disagree with the pattern ($want_busy blocks, $want_bytes bytes)"
printf '%s\n' "$out" | grep -q "^SVG map written to $svg" || fail "no SVG written"

[ -s "$svg" ] || fail "$svg is empty"
if command -v python3 >/dev/null 2>&1; then
  python3 - "$svg" "$regions" <<'EOF' || fail "$svg is not the expected SVG"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
svg = doc.documentElement
assert svg.tagName == "svg", svg.tagName
labels = [t.firstChild.data for t in svg.getElementsByTagName("text")
          if t.getAttribute("class") == "label"]
regions = [l for l in labels if l.startswith("Region ")]
assert len(regions) == int(sys.argv[2]), (regions, sys.argv[2])
legend = [t.firstChild.data for t in svg.getElementsByTagName("text")
          if t.getAttribute("class") == "legend"]
assert len(legend) == 4, legend
print("SVG: well-formed, %d bars, %d rects" %
      (len(labels), len(svg.getElementsByTagName("rect"))))
EOF
else
  grep -q '</svg>' "$svg" || fail "$svg is truncated"
fi
echo "PASS: $regions regions, $busy busy and $free free entries, SVG ok"
