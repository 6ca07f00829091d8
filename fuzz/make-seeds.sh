#!/usr/bin/env bash
# Writes valid seed inputs for every fuzz target into OUT_DIR/<target>/, using only this
# repository and the `noiseformer` binary given (a tiny prepared corpus, tiny checkpoints from
# `train --max-iters 0` of every attention variant, the meta.json of each tokenizer (gpt2's from
# a small vocabulary in GPT-2's file format), small GLUE
# TSVs in each task's layout, JSON configs). Nothing here is committed: scripts/fuzz.sh runs it
# into the build directory.
#   usage: fuzz/make-seeds.sh NOISEFORMER_BINARY OUT_DIR
set -euo pipefail
nf=$(realpath "$1")
out=$2
src=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# The binary may be the sanitizer build; seeds are made from valid inputs, so leaks at exit
# are not this script's concern.
export ASAN_OPTIONS=detect_leaks=0
rm -rf "$out"
mkdir -p "$out"/{safetensors,load_model,gpt_config,tokenizer,glue_tsv,train_config,token_bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ---- a small corpus, prepared with each tokenizer --------------------------------------------
corpus=$work/corpus.txt
for i in 1 2 3 4 5 6; do
  cat >>"$corpus" <<'TXT'
In the beginning God created the heaven and the earth.
And the earth was without form, and void; and darkness was upon the face of the deep.
It's 1611: they'll say "we've" and I'd go -- 3 times, 42 ways!
TXT
done
# A small vocabulary in GPT-2's file format for --tokenizer gpt2: encoder.json spells each byte in
# GPT-2's byte alphabet (a printable Latin-1 byte stands for itself, the k-th other byte is
# U+0100 + k), written as JSON \u escapes; then four merged tokens and their merges.
gpt2=$work/gpt2-vocab
mkdir -p "$gpt2"
{
  printf '{'
  k=0
  for b in $(seq 0 255); do
    if { [ "$b" -ge 33 ] && [ "$b" -le 126 ]; } || { [ "$b" -ge 161 ] && [ "$b" -le 172 ]; } || [ "$b" -ge 174 ]; then
      c=$b
    else
      c=$((256 + k)); k=$((k + 1))
    fi
    printf '"\\u%04x": %d, ' "$c" "$b"
  done
  printf '"\\u0120t": 256, "he": 257, "\\u0120the": 258, "in": 259}'
} >"$gpt2/encoder.json"
printf '#version: 0.2\n\xc4\xa0 t\nh e\n\xc4\xa0t he\ni n\n' >"$gpt2/vocab.bpe"
for tok in char byte bpe gpt2; do
  args=(--tokenizer "$tok")
  [ "$tok" = bpe ] && args+=(--vocab-size 300)
  [ "$tok" = gpt2 ] && args+=(--vocab-dir "$gpt2")
  "$nf" prepare --input "$corpus" --out "$work/data-$tok" "${args[@]}" --val-fraction 0.2 >/dev/null
  cp "$work/data-$tok/meta.json" "$out/tokenizer/meta-$tok.json"
  { cat "$work/data-$tok/meta.json"; printf '\0It'"'"'s a  test\nof\ttext \xc3\xa9\xff'; } >"$out/tokenizer/meta-$tok-text"
done

# ---- token files: 5 header bytes (vocab_size LE, batch, block, mode) + train.bin ------------
vocab_of() { grep -o '"vocab_size":[0-9]*' "$1/meta.json" | cut -d: -f2; }
for tok in char bpe; do
  v=$(vocab_of "$work/data-$tok")
  hdr=$(printf '\\x%02x\\x%02x\\x02\\x07\\x%02x' $((v & 255)) $((v >> 8)) 0)
  { printf "$hdr"; head -c 600 "$work/data-$tok/train.bin"; } >"$out/token_bin/train-$tok.bin"
  { printf '\x00\x00\x03\x3f\x01'; head -c 200 "$work/data-$tok/val.bin"; } >"$out/token_bin/val-$tok-unchecked.bin"
done

# ---- checkpoints of every attention variant (tiny: n_layer 1, n_embd 8) ----------------------
variants=("base" "symmetric" "symmetric --pairwise true" "noise-v1" "noise-v2 --noise-mean relpos"
          "diff" "shared-diff --lowrank 2" "selective")
i=0
for v in "${variants[@]}"; do
  # shellcheck disable=SC2086  # the variant's extra flags are meant to split
  "$nf" train --data "$work/data-char" --out "$work/run$i" --attention $v --n-layer 1 --n-head 2 \
    --n-embd 8 --block-size 8 --batch-size 2 --max-iters 0 --quiet --device cpu >/dev/null
  name=$(printf '%s' "$v" | tr -c 'a-z0-9-' '_')
  cp "$work/run$i/ckpt.safetensors" "$out/load_model/$name.safetensors"
  cp "$work/run$i/ckpt.safetensors" "$out/safetensors/$name.safetensors"
  i=$((i + 1))
done
cp "$work/run0/ckpt.state.safetensors" "$out/safetensors/state.safetensors"
"$nf" train --data "$work/data-bpe" --out "$work/run-bpe" --n-layer 1 --n-head 1 --n-embd 4 \
  --block-size 4 --batch-size 1 --max-iters 0 --quiet --device cpu >/dev/null
cp "$work/run-bpe/ckpt.safetensors" "$out/load_model/bpe.safetensors"
# Hand-made containers: empty, metadata only, one scalar.
hdr='{}      '
{ printf '\x08\0\0\0\0\0\0\0'; printf '%s' "$hdr"; } >"$out/safetensors/empty.safetensors"
hdr='{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}'
while [ $(((8 + ${#hdr}) % 8)) -ne 0 ]; do hdr="$hdr "; done
{ printf "$(printf '\\x%02x' $((${#hdr} & 255)))"'\0\0\0\0\0\0\0'; printf '%s' "$hdr"; printf '\0\0\x80\x3f'; } \
  >"$out/safetensors/scalar.safetensors"

# ---- model configs as a checkpoint stores them ------------------------------------------------
for a in base symmetric noise-v1 noise-v2 diff shared-diff selective; do
  printf '{"n_layer":2,"n_head":2,"n_embd":8,"block_size":8,"vocab_size":40,"bias":true,"dropout":0.0,"attention":"%s","kl_weight":0.001,"noise_mean":"relpos","noise_at_eval":"sample","lowrank":2,"pairwise":true,"selective_mem_weight":0.1}' \
    "$a" >"$out/gpt_config/$a.json"
done
printf '{"n_layer":1,"n_head":1,"n_embd":1,"block_size":1,"vocab_size":1}' >"$out/gpt_config/minimal.json"

# ---- train --config files: the repository's presets and one with every key -------------------
cp "$src"/configs/*.json "$out/train_config/"
cat >"$out/train_config/all-keys.json" <<'JSON'
{"data": "d", "out": "o", "attention": "noise-v2", "n_layer": 2, "n_head": 2, "n_embd": 16,
 "block_size": 32, "bias": false, "dropout": 0.1, "kl_weight": 0.01, "noise_mean": "relpos",
 "noise_at_eval": "sample", "pairwise": true, "lowrank": 4, "selective_mem_weight": 0.5,
 "batch_size": 4, "grad_accum": 2, "max_iters": 10, "lr": 1e-3, "min_lr": 1e-4,
 "warmup_iters": 2, "lr_decay_iters": 8, "weight_decay": 0.1, "beta1": 0.9, "beta2": 0.95,
 "grad_clip": 1.0, "eval_interval": 5, "eval_iters": 2, "log_interval": 1, "seed": 7,
 "optimizer": "sgd", "sampling": "sequential", "device": "cpu", "init": "x.safetensors",
 "resume": false, "keep_best": true, "quiet": true}
JSON

# ---- GLUE: one small file per task and layout, after a byte naming the task ------------------
glue() {  # glue TASK_INDEX NAME  (file text on stdin)
  { printf "$(printf '\\x%02x' "$1")"; cat; } >"$out/glue_tsv/$2.tsv"
}
glue 0 cola-train <<'TSV'
gj04	1		Our friends won't buy this analysis, let alone the next one we propose.
gj04	0	*	They drank the pub "dry.
TSV
printf 'index\tsentence\n0\tBill whistled past the house.\n' | glue 0 cola-test
printf 'sentence\tlabel\nhide new secretions from the parental units \t0\nit '"'"'s a " charming " journey . \t1\n' | glue 1 sst2
printf 'index\tsentence\n0\tuneasy mishmash .\n' | glue 1 sst2-test
printf '\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1355540\t1355592\tHe said the pie business does n'"'"'t fit .\tThe pie business does not fit .\n0\t20\t21\tA .\tB .\r\n' | glue 2 mrpc
printf 'id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n133273\t213221\t213222\tHow is the life of a math student?\tWhich level of "prepration" is enough?\t0\n4\t5\t6\tWhy?\tWhy not?\t1\n' | glue 3 qqp
printf 'index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man is dancing.\tA man dances.\t5.000\n1\tmain-news\theadlines\t2013\t0001\tnone\tnone\tA.\tB.\t0.25\n' | glue 4 stsb
printf 'index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n0\t1\t1n\tslate\t( x )\t( y )\t(ROOT)\t(ROOT)\tThe cat sat.\tA cat sat.\tentailment\tentailment\n1\t2\t2c\tslate\t( x )\t( y )\t(ROOT)\t(ROOT)\tIt rains.\tIt is dry.\tcontradiction\tcontradiction\n2\t3\t3e\tfiction\t( x )\t( y )\t(ROOT)\t(ROOT)\tHe ran.\tHe moved.\tneutral\tneutral\n' | glue 5 mnli
printf 'index\tquestion\tsentence\tlabel\n0\tWhat is it?\tIt is a test.\tentailment\n1\tWho?\tNobody.\tnot_entailment\n' | glue 6 qnli
printf 'index\tsentence1\tsentence2\tlabel\n0\tNo weapons were found.\tWeapons were found.\tnot_entailment\n1\tA.\tA.\tentailment\n' | glue 7 rte
printf 'index\tsentence1\tsentence2\tlabel\n0\tI stuck a pin through a carrot.\tThe carrot had a hole.\t1\n1\tX.\tY.\t0\n' | glue 8 wnli

for d in "$out"/*/; do echo "seeds: $(ls "$d" | wc -l) in $d"; done
