// libFuzzer target: a whole checkpoint file -> load_model (io/checkpoint.h): the safetensors
// container, the config in its metadata, building the GPT, loading the weights; then, as
// `sample` does, the tokenizer stored beside it and a two-token forward pass.
//
// load_model checks the file's tensor list against the config before it builds the model, so a
// config asking for 10^12 parameters in a small file is refused at once; nothing here bounds it.
#include <algorithm>
#include <exception>

#include "data/tokenizer.h"
#include "fuzz/fuzz_util.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nf::fuzz::ScratchFile file;
  const std::string& path = file.write(data, size);
  nf::LoadedModel m;
  try {
    m = nf::load_model(path);
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("load_model", e);
    return 0;
  }
  const nf::GPTConfig& cfg = m.model->config();
  try {
    if (!m.tokenizer_meta.empty()) {
      auto tok = nf::load_tokenizer_from_json(nlohmann::json::parse(m.tokenizer_meta));
      (void)tok->decode({0});
    }
  } catch (const std::exception&) {
  }
  try {
    const int64_t T = std::min<int64_t>(cfg.block_size, 2);
    std::vector<int64_t> ids(T, cfg.vocab_size - 1);
    m.model->eval();
    (void)m.model->forward(nf::from_vector(ids, {1, T}));
  } catch (const std::exception& e) {
    nf::fuzz::invariant_failed("load_model", std::string("a loaded model fails to run: ") + e.what());
  }
  return 0;
}
