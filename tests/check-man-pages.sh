#!/bin/sh
# The built man pages render at 80 columns without a warning from groff
# or man (a line troff takes for a request, a table wider than the page),
# and no text is lost to such a line. Run from the build directory, after
# make. Prints TAP.
echo "1..3"
n=0
failed=0
for page in man/rtmphooksd.8 man/rtmphooks.conf.5; do
  n=$((n + 1))
  warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
  if [ -f "$page" ] && [ -z "$warnings" ]; then
    echo "ok $n - $page renders without warnings"
  else
    echo "not ok $n - $page renders without warnings"
    echo "$warnings" | sed 's/^/# /'
    failed=1
  fi
done
# A line starting with "..." once swallowed this sentence.
if MANWIDTH=80 LC_ALL=C.UTF-8 man -l man/rtmphooks.conf.5 2>/dev/null | tr -s ' \n' '  ' \
     | grep -q "HE-AACv2, \.\.\.), sample_rate (what a decoder outputs"; then
  echo "ok 3 - codec_detected's audio fields are all in rtmphooks.conf(5)"
else
  echo "not ok 3 - codec_detected's audio fields are all in rtmphooks.conf(5)"
  failed=1
fi
exit $failed
