// `noiseformer import-gpt2` and `export-gpt2`: Hugging Face GPT-2 weights into a checkpoint of
// this project, and a base checkpoint back out to Hugging Face's layout (io/gpt2_weights.h,
// docs/gpt2.md).
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/tokenizer.h"
#include "io/checkpoint.h"
#include "io/gpt2_weights.h"
#include "models/gpt.h"
#include "train/config_file.h"

namespace nf::cli {

namespace {

// How each attention is built from GPT-2's tensors, for --help (the rule of io/gpt2_weights.h).
const char* const kImportRules =
    "How each --attention is built from GPT-2's c_attn (q | k | v):\n"
    "  base, selective     every tensor as stored (q, k, v); selective adds no tensor\n"
    "  symmetric           keeps the query projection, which also serves as the keys; drops k\n"
    "  noise-v1, noise-v2  as symmetric, plus noise_mu = 0 and noise_logvar = 0 (the noise's\n"
    "                      initial values: its N(0, 1) prior)\n"
    "  diff, shared-diff   refused: their heads are pairs of softmax branches GPT-2's are not\n"
    "Only base reproduces GPT-2's outputs; the others are a pre-trained start to fine-tune\n"
    "(train --init). Sizes come from the tensors, n_head from config.json. Without --meta the\n"
    "checkpoint holds no tokenizer, and eval, sample and glue need one. docs/gpt2.md";

// The --meta file's tokenizer as the checkpoint stores it (as train stores the data's): it must
// describe a tokenizer of the model's vocabulary size.
std::string tokenizer_meta_of(const std::string& meta_path, int64_t vocab_size) {
  std::unique_ptr<Tokenizer> tok = load_tokenizer(meta_path);
  if (tok->vocab_size() != vocab_size)
    throw std::runtime_error(meta_path + ": its tokenizer has " + std::to_string(tok->vocab_size()) +
                             " tokens but the model's vocab_size is " + std::to_string(vocab_size));
  return tok->to_meta_json().dump();
}

}  // namespace

int cmd_import_gpt2(int argc, char** argv) {
  std::string from, out, config_json, meta;
  GPTConfig choices;
  choices.dropout = 0.0;
  CLI::App app = make_app("import-gpt2", "Convert Hugging Face GPT-2 weights (model.safetensors) into a checkpoint");
  app.footer(kImportRules);
  app.add_option("--from", from, "Hugging Face GPT-2 model.safetensors (GPT2LMHeadModel or GPT2Model names)")
      ->required();
  app.add_option("--out", out, "the checkpoint to write (.safetensors)")->required();
  app.add_option("--attention", choices.attention, "the attention to build (rules below)")
      ->check(CLI::IsMember(attention_names()))
      ->capture_default_str();
  app.add_option("--config-json", config_json, "GPT-2's config.json (n_head); default: config.json beside --from");
  app.add_option("--meta", meta, "a meta.json whose tokenizer the checkpoint stores (its vocab_size must match)");
  app.add_option("--dropout", choices.dropout, "the checkpoint's dropout, used when it is trained further; [0, 1)")
      ->capture_default_str();
  app.add_option("--kl-weight", choices.kl_weight, "noise: β of the KL term")->capture_default_str();
  app.add_option("--noise-mean", choices.noise_mean, "noise: scalar | relpos (μ, log σ² per distance)")
      ->check(CLI::IsMember({"scalar", "relpos"}))
      ->capture_default_str();
  app.add_option("--noise-at-eval", choices.noise_at_eval, "noise: mean | sample")
      ->check(CLI::IsMember({"mean", "sample"}))
      ->capture_default_str();
  app.add_option("--pairwise", choices.pairwise, "symmetric: a per-head diagonal c_h (ones: the same scores at start)")
      ->capture_default_str();
  app.add_option("--selective-mem-weight", choices.selective_mem_weight, "selective: ε of the optional L_mem term")
      ->capture_default_str();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  if (const std::string why = gpt2_import_problem(choices.attention); !why.empty()) throw std::runtime_error(why);
  std::unique_ptr<GPT> model = import_gpt2(from, config_json, choices);
  const GPTConfig& cfg = model->config();
  const std::string tokenizer = meta.empty() ? "" : tokenizer_meta_of(meta, cfg.vocab_size);
  save_model(out, *model, tokenizer);
  std::printf("wrote %s: %s attention, %lld layers, %lld heads, n_embd %lld, block_size %lld, vocab_size %lld, "
              "%lld parameters\n",
              out.c_str(), cfg.attention.c_str(), static_cast<long long>(cfg.n_layer),
              static_cast<long long>(cfg.n_head), static_cast<long long>(cfg.n_embd),
              static_cast<long long>(cfg.block_size), static_cast<long long>(cfg.vocab_size),
              static_cast<long long>(count_parameters(cfg)));
  if (tokenizer.empty()) std::printf("no tokenizer stored (--meta): eval, sample and glue need one\n");
  return 0;
}

int cmd_export_gpt2(int argc, char** argv) {
  std::string checkpoint, out;
  CLI::App app = make_app("export-gpt2", "Write a base checkpoint as Hugging Face GPT-2: config.json + model.safetensors");
  app.footer(
      "Only base models with biases and no position bias have a GPT-2 form. Conv1D weights are\n"
      "written transposed ([in, out]), every tensor float32, names as GPT2LMHeadModel saves them;\n"
      "the stored tokenizer, if any, goes to DIR/meta.json. docs/gpt2.md");
  app.add_option("--checkpoint", checkpoint, "model .safetensors of this project")->required();
  app.add_option("--out", out, "folder to write config.json, model.safetensors (and meta.json) into")->required();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  LoadedModel lm = load_model(checkpoint);
  if (const std::string why = gpt2_export_problem(lm.model->config()); !why.empty())
    throw std::runtime_error(checkpoint + ": " + why);
  export_gpt2(*lm.model, lm.tokenizer_meta, out);
  const std::filesystem::path dir(out);
  std::string wrote = (dir / "model.safetensors").string() + ", " + (dir / "config.json").string();
  if (!lm.tokenizer_meta.empty()) wrote += ", " + (dir / "meta.json").string();
  std::printf("wrote %s\n", wrote.c_str());
  return 0;
}

}  // namespace nf::cli
