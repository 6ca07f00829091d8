// libFuzzer target: a `--config FILE.json` for `noiseformer train` (train/config_file.h
// JsonConfig::from_config, through CLI11), on the App of cli/cmd_train.cpp
// (add_train_command_flags), then TrainOptions::validate() as the training run starts with it.
//
// Invariants: a refused file gives exit status 2 and exactly one line on stderr; an accepted
// one, written back by to_config (what a run stores) and parsed again, gives the same settings.
#include <exception>
#include <sstream>

#include "fuzz/fuzz_util.h"
#include "train/config_file.h"
#include "train/train_flags.h"
#include "train/trainer.h"

namespace {

struct Parsed {
  std::optional<int> rc;
  std::string err, dump;
};

Parsed parse(const std::string& path) {
  nf::TrainOptions o;
  CLI::App app = nf::cli::make_app("train", "Train a GPT on a prepared data directory");
  nf::cli::add_train_command_flags(app, o);
  std::string arg0 = "train", arg1 = "--config", arg2 = path;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data()};
  std::ostringstream out, err;
  Parsed p;
  p.rc = nf::cli::parse_or_exit(app, 3, argv, out, err);
  p.err = err.str();
  if (!p.rc) {
    try {
      o.validate();
    } catch (const std::exception& e) {
      nf::fuzz::check_one_line("train_config", e);
      p.rc = 1;  // cmd_train's caller prints e.what() and exits 1
      return p;
    }
    p.dump = app.config_to_str(/*default_also=*/true, /*write_description=*/false);
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nf::fuzz::ScratchFile file;
  Parsed p = parse(file.write(data, size));
  if (p.rc) {
    if (*p.rc == 2) {  // parse_or_exit printed "<app>: error: <what> (see --help)\n"
      if (p.err.empty() || p.err.back() != '\n')
        nf::fuzz::invariant_failed("train_config", "a refused config gave no error line");
      nf::fuzz::check_one_line_text("train_config", p.err.substr(0, p.err.size() - 1));
    }
    return 0;
  }
  // The configuration a run stores must reproduce itself.
  Parsed q = parse(file.write(p.dump));
  if (q.rc || q.dump != p.dump)
    nf::fuzz::invariant_failed("train_config", "to_config output does not parse back to the same settings:\n" +
                                                   p.dump + "\n---\n" + q.dump + "\n" + q.err);
  return 0;
}
