// Bad input never crashes and is never taken for something it is not: sizes that would overflow,
// checkpoints whose header and data disagree, non-finite weights, configs with wrong types or
// sizes beyond the limits. Each case is one clear error, before anything large is allocated.
#include <doctest/doctest.h>
#include <limits.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "data/tokenizer.h"
#include "models/gpt.h"
#include "tests/support.h"
#include "train/train_state.h"
#include "train/trainer.h"

using namespace nf;
using nf::test::contains;
using nf::test::error_of;
using nf::test::TempDir;

namespace {
// length prefix + header (padded with `pad` spaces, then to 8 bytes) + data, with the length
// field off by `shift` bytes.
std::string safetensors_bytes(const std::string& header, const std::string& data, size_t pad, int64_t shift) {
  std::string h = header + std::string(pad, ' ');
  while ((8 + h.size()) % 8) h += ' ';
  const uint64_t len = static_cast<uint64_t>(static_cast<int64_t>(h.size()) + shift);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(len >> (8 * i));
  return out + h + data;
}

std::string load_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("f.safetensors");
  write_file_atomic(path, bytes);
  return error_of([&] { load_safetensors(path); });
}

// A small run on the fixture corpus; lr_decay_iters fixed so runs of different lengths share one
// schedule and can be compared step for step.
TrainOptions small_run(const std::string& data, const std::string& out, int64_t max_iters) {
  TrainOptions o;
  o.data_dir = data;
  o.out_dir = out;
  o.model = test::tiny_gpt("noise-v2", 16, 16);
  o.model.dropout = 0.1;
  o.batch_size = 4;
  o.max_iters = max_iters;
  o.lr_decay_iters = 12;
  o.warmup_iters = 2;
  o.eval_interval = 4;
  o.eval_iters = 2;
  o.quiet = true;
  return o;
}

// The weights of a model file, name -> bytes.
std::map<std::string, std::vector<uint8_t>> weights_of(const std::string& path) {
  std::map<std::string, std::vector<uint8_t>> w;
  for (auto& [name, raw] : load_safetensors(path).tensors) w[name] = raw.bytes;
  return w;
}

std::vector<nlohmann::json> log_lines(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
  return lines;
}

const char* kTwoTensors =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
}  // namespace

TEST_SUITE("reliability") {
  TEST_CASE("sizes whose element or byte count would overflow are refused, not allocated") {
    const int64_t huge = int64_t(1) << 62;
    CHECK(contains(error_of([&] { shape_numel({huge, 4}); }), "more elements than a 64-bit count"));
    CHECK(contains(error_of([&] { empty({huge}); }), "more bytes than a 64-bit size"));
    CHECK(contains(error_of([&] { empty({huge, huge}); }), "more elements"));
    CHECK(contains(error_of([&] { shape_numel({3, -1}); }), "negative size"));
    CHECK(shape_numel({}) == 1);
    CHECK(shape_numel({4, 0, huge}) == 0);
  }

  TEST_CASE("safetensors: the tensors must tile the data section exactly") {
    TempDir dir;
    const std::string data(12, '\0');
    CHECK(load_error(dir, safetensors_bytes(kTwoTensors, data, 0, 0)) == "");
    // A header length 4 short still parses (the header ends in spaces) but shifts every value.
    CHECK(contains(load_error(dir, safetensors_bytes(kTwoTensors, data, 8, -4)), "cover 12 of the 16 bytes"));
    // Bytes after the last tensor.
    CHECK(contains(load_error(dir, safetensors_bytes(kTwoTensors, data + "xyzw", 0, 0)), "cover 12 of the 16 bytes"));
    // A gap between two tensors.
    const char* gap =
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK(contains(load_error(dir, safetensors_bytes(gap, data, 0, 0)), "tensor 'b' starts at byte 8"));
    // The first tensor not at 0.
    const char* late = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    CHECK(contains(load_error(dir, safetensors_bytes(late, std::string(8, '\0'), 0, 0)), "starts at byte 4"));
  }

  TEST_CASE("a checkpoint with a NaN or infinite weight is refused at load, naming the tensor") {
    TempDir dir;
    Generator gen(3);
    GPTConfig c = test::tiny_gpt("base", 8, 4);
    for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
      GPT m(c);
      Tensor w = m.named_parameters().front().second;
      const std::string name = m.named_parameters().front().first;
      w.data<float>()[1] = static_cast<float>(bad);
      const std::string path = dir.file("nan.safetensors");
      save_model(path, m, "");
      const std::string err = error_of([&] { load_model(path); });
      CHECK(contains(err, "tensor '" + name + "' holds a non-finite value"));
      CHECK(contains(err, "at element 1"));
    }
  }

  TEST_CASE("config values must have their key's type exactly; sizes have upper bounds") {
    auto err = [](const std::string& json) {
      return error_of([&] { GPTConfig::from_json(nlohmann::json::parse(json)); });
    };
    CHECK(contains(err(R"({"n_layer": 1.5})"), "key 'n_layer' must be an integer, got 1.5"));
    CHECK(contains(err(R"({"n_layer": "2"})"), "must be an integer"));
    CHECK(contains(err(R"({"n_embd": 18446744073709551615})"), "must be an integer"));
    CHECK(contains(err(R"({"bias": 0})"), "key 'bias' must be true or false"));
    CHECK(contains(err(R"({"dropout": "0.1"})"), "key 'dropout' must be a number"));
    CHECK(contains(err(R"({"attention": 3})"), "key 'attention' must be a string"));
    CHECK(contains(err(R"({"n_embd": 4611686018427387904, "n_head": 1})"), "n_embd = 4611686018427387904 is above the limit"));
    CHECK(contains(err(R"({"n_layer": 1000000})"), "n_layer = 1000000 is above the limit 4096"));
    CHECK(contains(err(R"({"block_size": 2000000})"), "block_size"));
    CHECK(contains(err(R"({"n_layer": -1})"), "must be positive"));
    CHECK(contains(err(R"({"attention": "shared-diff", "lowrank": 100000})"), "lowrank must be at most n_embd"));
    CHECK(contains(err(R"({"kl_weight": -1})"), "kl_weight"));
    CHECK(err(R"({"n_layer": 2, "n_embd": 64, "n_head": 4})") == "");
  }

  TEST_CASE("a checkpoint whose config does not describe its tensors is refused before the model is built") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    GPT m(test::tiny_gpt("base", 8, 4));
    save_model(path, m, "");
    SafetensorsFile f = load_safetensors(path);
    nlohmann::json cfg = nlohmann::json::parse(f.metadata.at("config"));
    cfg["n_layer"] = 4000;  // within the limit: only the tensor count can tell
    cfg["n_embd"] = 4096;
    cfg["n_head"] = 4;
    f.metadata["config"] = cfg.dump();
    save_safetensors(path, f.tensors, f.metadata);
    const std::string err = error_of([&] { load_model(path); });
    CHECK(contains(err, "does not match its config: the config describes"));
    CHECK(contains(err, "the file holds"));
  }

  TEST_CASE("a BPE meta.json cannot ask for unbounded work or wrap its ids") {
    auto err = [](const nlohmann::json& merges) {
      nlohmann::json meta{{"tokenizer", "bpe"}, {"vocab_size", 256 + merges.size()}, {"merges", merges}};
      return error_of([&] { load_tokenizer_from_json(meta); });
    };
    // 97 'a' -> 256 'aa' -> 257 'aaaa' -> ... doubling: the eleventh merge would pass 1024 bytes.
    nlohmann::json doubling = nlohmann::json::array({{97, 97}});
    for (int i = 0; i < 40; ++i) doubling.push_back({256 + i, 256 + i});
    CHECK(contains(err(doubling), "bpe merge 10 makes a token of 2048 bytes, more than 1024"));
    CHECK(contains(err(nlohmann::json::array({{int64_t(1) << 40, 97}})),
                   "bpe merge 0 [1099511627776,97] refers to a token not yet defined (< 256 required)"));
    CHECK(contains(err(nlohmann::json::array({{-1, 97}})), "not a pair of non-negative integers"));
    CHECK(contains(err(nlohmann::json::array({{97, 1.5}})), "not a pair of non-negative integers"));
    CHECK(err(nlohmann::json::array({{97, 98}, {256, 99}})) == "");
  }

  TEST_CASE("BPE training never learns a token the loader would refuse") {
    const std::string run(5000, '=');  // one pre-tokenization chunk of 5000 identical bytes
    BpeTokenizer tok = train_bpe(run + " " + run, 300);
    for (int id = 0; id < tok.vocab_size(); ++id) CHECK(tok.decode({id}).size() <= kMaxBpeTokenBytes);
    CHECK(tok.decode(tok.encode(run)) == run);
  }

  TEST_CASE("every numeric training setting is range-checked before anything runs") {
    TempDir dir;
    auto err = [&](auto change) {
      TrainOptions o = small_run(dir.str(), dir.file("out"), 4);
      change(o);
      return error_of([&] { o.validate(); });
    };
    CHECK(contains(err([](TrainOptions& o) { o.lr = std::nan(""); }), "--lr must be a finite number"));
    CHECK(contains(err([](TrainOptions& o) { o.beta1 = -1; }), "--beta1 must be in [0, 1)"));
    CHECK(contains(err([](TrainOptions& o) { o.beta2 = 1.5; }), "--beta2 must be in [0, 1)"));
    CHECK(contains(err([](TrainOptions& o) { o.weight_decay = -0.1; }), "--weight-decay"));
    CHECK(contains(err([](TrainOptions& o) { o.log_interval = 0; }), "--log-interval must be >= 1"));
    CHECK(contains(err([](TrainOptions& o) { o.eval_iters = 0; }), "--eval-iters must be >= 1"));
    CHECK(contains(err([](TrainOptions& o) { o.batch_size = 0; }), "--batch-size"));
    CHECK(contains(err([](TrainOptions& o) { o.grad_clip = std::numeric_limits<double>::infinity(); }), "--grad-clip"));
    CHECK(contains(err([](TrainOptions& o) { o.sampling = "shuffled"; }), "shuffled"));
    CHECK(err([](TrainOptions&) {}) == "");
  }

  TEST_CASE("a kill between the two writes of a save resumes to exactly the uninterrupted result") {
    TempDir dir;
    const std::string data = test::fixture_data(dir, 5, 6000);
    // Uninterrupted: 12 iterations.
    run_training(small_run(data, dir.file("a"), 12));
    // Interrupted: 4 iterations, then resumed to 8; then the model file of the save at 4 is put
    // back beside the state of the save at 8 (a kill after the state's rename, before the model's),
    // and the log gets two lines past the state and half a line.
    const std::string b = dir.file("b");
    run_training(small_run(data, b, 4));
    std::filesystem::copy_file(b + "/ckpt.safetensors", dir.file("m4.safetensors"));
    TrainOptions more = small_run(data, b, 8);
    more.resume = true;
    more.given = {"max_iters"};
    run_training(more);
    std::filesystem::copy_file(dir.file("m4.safetensors"), b + "/ckpt.safetensors",
                               std::filesystem::copy_options::overwrite_existing);
    {
      std::ofstream log(b + "/log.jsonl", std::ios::app);
      log << R"({"iter":8,"loss":1.0})" << "\n" << R"({"iter":9,"loss":1.0})" << "\n" << R"({"iter":10,"lo)";
    }
    TrainOptions rest = small_run(data, b, 12);
    rest.resume = true;
    rest.given = {"max_iters"};
    run_training(rest);
    CHECK(weights_of(b + "/ckpt.safetensors") == weights_of(dir.file("a") + "/ckpt.safetensors"));
    // The log holds each iteration once, in order, as the uninterrupted run's does.
    std::vector<int64_t> iters_a, iters_b;
    std::vector<double> loss_a, loss_b;
    for (auto& j : log_lines(dir.file("a") + "/log.jsonl"))
      if (j.contains("loss")) { iters_a.push_back(j["iter"]); loss_a.push_back(j["loss"]); }
    for (auto& j : log_lines(b + "/log.jsonl"))
      if (j.contains("loss")) { iters_b.push_back(j["iter"]); loss_b.push_back(j["loss"]); }
    CHECK(iters_b == iters_a);
    CHECK(loss_b == loss_a);
  }

  TEST_CASE("--resume restores the run's settings; a flag that would change the run is refused") {
    TempDir dir;
    const std::string data = test::fixture_data(dir, 6, 6000);
    TrainOptions first = small_run(data, dir.file("r"), 4);
    first.batch_size = 3;
    run_training(first);
    TrainOptions again = small_run(data, dir.file("r"), 8);  // batch_size 4 here, but not "given"
    again.resume = true;
    again.given = {"max_iters"};
    run_training(again);
    CHECK(read_train_state(state_path_for(dir.file("r") + "/ckpt.safetensors")).state.settings["batch_size"] == 3);
    TrainOptions clash = again;
    clash.given.insert("batch_size");
    CHECK(contains(error_of([&] { run_training(clash); }), "--batch-size 4 differs from the run's 3"));
    TrainOptions arch = again;
    arch.model.n_layer = 3;
    arch.given.insert("n_layer");
    CHECK(contains(error_of([&] { run_training(arch); }), "--n-layer 3 differs from the run's 2"));
    // pos_bias, which a run's stored settings leave out when it is "none" (as every run made before
    // the key existed): a given --pos-bias alibi still differs from it, and a given none matches.
    CHECK_FALSE(read_train_state(state_path_for(dir.file("r") + "/ckpt.safetensors")).state.settings["model"].contains("pos_bias"));
    TrainOptions alibi = again;
    alibi.model.pos_bias = "alibi";
    alibi.given.insert("pos_bias");
    CHECK(contains(error_of([&] { run_training(alibi); }), "--pos-bias \"alibi\" differs from the run's \"none\""));
    TrainOptions none = again;
    none.given.insert("pos_bias");
    CHECK_NOTHROW(run_training(none));
  }

  TEST_CASE("a run that diverges never writes a non-finite checkpoint") {
    TempDir dir;
    const std::string data = test::fixture_data(dir, 7, 6000);
    run_training(small_run(data, dir.file("good"), 4));
    TrainOptions wild = small_run(data, dir.file("wild"), 8);
    wild.init = dir.file("good") + "/ckpt.safetensors";
    wild.optimizer = "sgd";
    wild.lr = 1e30;
    wild.warmup_iters = 0;
    wild.eval_interval = 1;
    const std::string err = error_of([&] { run_training(wild); });
    CHECK(contains(err, "training diverged"));
    CHECK_FALSE(std::filesystem::exists(dir.file("wild") + "/ckpt.safetensors"));
    CHECK_FALSE(std::filesystem::exists(dir.file("wild") + "/ckpt.state.safetensors"));
  }

  TEST_CASE("SIGINT: the run finishes its step, saves, exits 130 saying how to resume, and resumes exactly") {
    TempDir dir;
    const std::string data = test::fixture_data(dir, 8, 6000);
    const std::string bin = test::cli_binary();
    const std::string out = dir.file("int"), err_path = dir.file("stderr.txt");
    const std::string flags = "--data " + data +
                              " --attention noise-v2 --n-layer 2 --n-head 2 --n-embd 16 --block-size 16 --lowrank 2"
                              " --dropout 0.1 --batch-size 4 --lr-decay-iters 12 --warmup-iters 2 --eval-interval 0"
                              " --eval-iters 2 --quiet";
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      ::execl(bin.c_str(), bin.c_str(), "train", "--data", data.c_str(), "--out", out.c_str(), "--attention", "noise-v2",
              "--n-layer", "2", "--n-head", "2", "--n-embd", "16", "--block-size", "16", "--lowrank", "2",
              "--dropout", "0.1", "--batch-size", "4", "--max-iters", "100000", "--lr-decay-iters", "12",
              "--warmup-iters", "2", "--eval-interval", "0", "--eval-iters", "2", "--quiet", (char*)nullptr);
      ::_exit(127);
    }
    // Wait until a few steps are logged, then interrupt.
    for (int i = 0; i < 600 && (!std::filesystem::exists(out + "/log.jsonl") || log_lines(out + "/log.jsonl").size() < 3); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    std::ifstream in(err_path);
    const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(contains(said, "interrupted (SIGINT) after iteration"));
    CHECK(contains(said, "noiseformer train --out " + out + " --resume"));
    const int64_t stopped = read_train_state(state_path_for(out + "/ckpt.safetensors")).state.next_iter;
    CHECK(stopped >= 3);
    CHECK(static_cast<int64_t>(log_lines(out + "/log.jsonl").size()) == stopped);
    // Resumed to stopped+3 == an uninterrupted run of that length. Both through the binary: it
    // picks its own BLAS kernels, whose rounding may differ from this test process's.
    const std::string total = std::to_string(stopped + 3);
    CHECK(std::system((bin + " train " + flags + " --out " + dir.file("whole") + " --max-iters " + total).c_str()) == 0);
    CHECK(std::system((bin + " train --data " + data + " --out " + out + " --resume --quiet --max-iters " + total).c_str()) == 0);
    CHECK(weights_of(out + "/ckpt.safetensors") == weights_of(dir.file("whole") + "/ckpt.safetensors"));
  }

  TEST_CASE("counters in a state file are plain digits: -1 or 1.5 are refused, not wrapped") {
    CHECK(parse_u64("42", "s", "next_iter") == 42);
    for (const char* bad : {"-1", "1.5", " 7", "", "7x", "99999999999999999999999"})
      CHECK(contains(error_of([&] { parse_u64(bad, "s", "next_iter"); }), "metadata 'next_iter' is not an unsigned integer"));
  }

  TEST_CASE("a model with a context of one token samples without running dry") {
    GPTConfig c = test::tiny_gpt("base", 8, 1);
    GPT m(c);
    Generator sampler(1);
    const std::vector<int64_t> out = m.generate({1}, 5, 1.0, 0, sampler);
    CHECK(out.size() == 6u);
  }

  TEST_CASE("sample refuses a temperature that is not a finite number >= 0") {
    const std::string bin = test::cli_binary();
    for (const char* t : {"nan", "inf", "-1"}) {
      const int st = std::system((bin + " sample --checkpoint none.safetensors --temperature " + t + " 2>/dev/null").c_str());
      CHECK(WEXITSTATUS(st) == 2);  // a bad flag value: status 2, before the checkpoint is read
    }
  }
}
