#!/usr/bin/env bash
# Checks that every #include "<folder>/…" in the library's folders points down the layer graph
# (README, "Layout"); prints each upward or sideways include and exits 1 if there is any.
# Run by CTest as the `layers` test, so a backward edge fails the build's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each folder, then the folders its files may include (itself included).
rules='
tensor   tensor
autograd tensor autograd
nn       tensor autograd nn
models   tensor autograd nn models
io       tensor autograd nn models io
data     tensor autograd nn models io data
optim    tensor autograd optim
dist     tensor autograd dist
train    tensor autograd nn models io data optim dist train
glue     tensor autograd nn models io data optim dist train glue
study    tensor autograd nn models io data optim dist train study
cli      tensor autograd nn models io data optim dist train glue study cli
'
folders=$(awk 'NF {print $1}' <<<"$rules")
# grep prints "folder/file:line:#include "target/…""; awk keeps the lines whose target is not allowed.
grep -rnE '^\s*#\s*include "[^/"]+/' $folders --include='*.h' --include='*.cpp' --include='*.cu' --include='*.cuh' |
  awk -v rules="$rules" '
    BEGIN { n = split(rules, lines, "\n"); for (i = 1; i <= n; i++) { k = split(lines[i], w, " ");
            for (j = 2; j <= k; j++) ok[w[1] " " w[j]] = 1 } }
    { split($0, p, "/"); from = p[1]; match($0, /#[ \t]*include "[^\/"]+\//);
      to = substr($0, RSTART, RLENGTH); sub(/.*"/, "", to); sub(/\/$/, "", to);
      if (!((from " " to) in ok)) { print "upward include: " $0; bad = 1 } }
    END { exit bad }' && echo "layers: every include points down"
