// `noiseformer train`: flags (or a --config JSON with the same keys) -> TrainOptions -> the loop.
#include <cstdio>

#include "dist/world.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "train/train_flags.h"
#include "train/trainer.h"

namespace nf::cli {

int cmd_train(int argc, char** argv) {
  TrainOptions o;
  CLI::App app = make_app("train", "Train a GPT on a prepared data directory");
  add_train_command_flags(app, o);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  // What the user set (flags or --config): with --resume everything else is the run's own.
  for (const CLI::Option* op : app.get_options())
    if (op->count() > 0 && !op->get_lnames().empty()) o.given.insert(flag_to_key(op->get_lnames().front()));
  // Under mpirun (docs/distributed.md) every rank runs this; rank 0 alone prints.
  Communicator& comm = world();
  const bool lead = comm.rank() == 0;
  TrainResult r;
  try {
    r = run_training(o, comm);
  } catch (const TrainingInterrupted& e) {
    if (lead) std::fprintf(stderr, "noiseformer train: %s\n", e.what());
    return 130;  // the shell's convention for a run ended by SIGINT
  }
  if (o.max_iters > 0 && !o.quiet && lead)
    std::fprintf(stderr, "done: %lld iterations, train loss %.4f, val loss %.4f, %.0f tok/s\n",
                 static_cast<long long>(r.iterations), r.final_train_loss, r.final_val_loss, r.tokens_per_second);
  return 0;
}

}  // namespace nf::cli
