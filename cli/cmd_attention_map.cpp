// `noiseformer attention-map`: every head's attention map of one layer for a prompt, as a PNG
// (study/attention_map.h).
#include <cstdio>

#include "study/attention_map.h"
#include "train/config_file.h"
#include "cli/commands.h"

namespace nf::cli {

int cmd_attention_map(int argc, char** argv) {
  AttentionMapOptions o;
  o.prompt = "In the beginning God created the heaven and the earth.";
  CLI::App app = make_app("attention-map", "Draw the attention maps of every head of one layer for a prompt (PNG)");
  app.add_option("--checkpoint", o.checkpoint, "model .safetensors (holds its tokenizer)")->required();
  app.add_option("--prompt", o.prompt, "text to run through the model (its last block_size tokens)")->capture_default_str();
  app.add_option("--layer", o.layer, "layer, 0-based")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--out", o.out, "PNG file to write")->required();
  app.add_option("--cell", o.cell, "pixels per map entry (0: chosen from the prompt length)")
      ->check(CLI::Range(0, 64))->capture_default_str();
  app.add_option("--seed", o.seed, "noise variants: seed of the sampled map")->capture_default_str();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  AttentionMaps m = write_attention_map(o);
  if (m.prompt_tokens > m.T)
    std::fprintf(stderr, "attention-map: the prompt is %lld tokens; used its last %lld (block_size)\n",
                 static_cast<long long>(m.prompt_tokens), static_cast<long long>(m.T));
  std::fprintf(stderr, "attention-map: %s, layer %lld, %lld tokens, %zu row(s) of maps -> %s\n", m.attention.c_str(),
               static_cast<long long>(m.layer), static_cast<long long>(m.T), m.rows.size(), o.out.c_str());
  return 0;
}

}  // namespace nf::cli
