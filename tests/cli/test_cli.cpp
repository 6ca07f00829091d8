// The `noiseformer` command line, run as a separate process (the binary beside this test
// executable): --help everywhere, one-line errors with a non-zero exit and no crash for bad
// flags, corrupt or mismatched checkpoints and bad data, never a partly written checkpoint,
// --config files, and prepare -> train -> eval -> sample end to end; `prepare` also called
// in-process (cli/cmd_prepare.cpp).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpt.h"
#include "tensor/device_hooks.h"
#include "tensor/random.h"
#include "io/checkpoint.h"
#include "data/dataset.h"
#include "io/safetensors.h"
#include "train/trainer.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "data/tokenizer.h"
#include "tests/support.h"

namespace fs = std::filesystem;

using namespace nf::test;

namespace {

// What `--device cuda` says where CUDA cannot be used: this build's reason.
#ifdef NOISEFORMER_CUDA
const char* const kNoCuda = "no CUDA device found";
#else
const char* const kNoCuda = "built without CUDA";
#endif

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Result {
  bool signaled = false;  // killed by a signal (a crash), directly or as the shell reports it
  int code = -1;          // exit status when not signaled
  std::string out, err;
};

// Runs `noiseformer <args>` with stdout and stderr captured.
// `env_prefix` (e.g. "env -u OMP_WAIT_POLICY") goes before the binary.
Result run(const std::string& args, const std::string& env_prefix = "") {
  static int n = 0;
  const fs::path dir = fs::temp_directory_path() / ("nf_test_cli_io_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string out = (dir / ("out" + std::to_string(n))).string(), err = (dir / ("err" + std::to_string(n))).string();
  ++n;
  const std::string cmd = env_prefix + " " + quote(cli_binary()) + " " + args + " >" + quote(out) + " 2>" + quote(err) + " </dev/null";
  const int st = std::system(cmd.c_str());
  Result r;
  r.out = read_bytes(out);
  r.err = read_bytes(err);
  fs::remove(out);
  fs::remove(err);
  if (WIFSIGNALED(st)) {
    r.signaled = true;
  } else {
    r.code = WEXITSTATUS(st);
    r.signaled = r.code >= 128;  // sh reports a child killed by signal s as 128 + s
  }
  return r;
}

// A failed command: non-zero exit, no crash, exactly one line on stderr
// "noiseformer <cmd>: error: …" that contains `part`.
void check_error(const Result& r, const std::string& cmd, const std::string& part) {
  CAPTURE(r.err);
  CAPTURE(r.out);
  CHECK_FALSE(r.signaled);
  CHECK(r.code != 0);
  CHECK(r.code < 128);
  CHECK(r.err.rfind("noiseformer " + cmd + ": error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.back() == '\n');
  CHECK(r.err.find(part) != std::string::npos);
}

const char* kModel = "--n-layer 2 --n-head 2 --n-embd 16 --block-size 16 --batch-size 4 --eval-iters 2 --quiet";

// A prepared data dir and a short training run, shared by the tests that need a checkpoint.
struct Fixture {
  TempDir tmp;
  std::string data, run, ckpt;
  Fixture() {
    const std::string text = tmp.file("input.txt");
    write_bytes(text, nf::test::fixture_text(777, 4000));  // ~4 KB of pseudo-English
    data = tmp.file("data");
    run = tmp.file("run");
    ckpt = run + "/ckpt.safetensors";
    Result p = ::run("prepare --input " + quote(text) + " --out " + quote(data));
    REQUIRE_MESSAGE(p.code == 0, p.err);
    Result t = ::run("train --data " + quote(data) + " --out " + quote(run) + " " + kModel +
                     " --max-iters 4 --eval-interval 2 --lr 1e-2");
    REQUIRE_MESSAGE(t.code == 0, t.err);
  }
  // A copy of the data dir that tests may damage.
  std::string copy_data(const std::string& name) const {
    const std::string dst = tmp.file(name);
    fs::copy(data, dst, fs::copy_options::recursive);
    return dst;
  }
};

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

bool has_tmp_files(const std::string& dir) {
  if (!fs::exists(dir)) return false;
  for (auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().string().find(".tmp") != std::string::npos) return true;
  return false;
}

std::vector<uint16_t> read_tokens(const std::string& path) {
  const std::string b = read_bytes(path);
  std::vector<uint16_t> t(b.size() / 2);
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = static_cast<uint16_t>(static_cast<unsigned char>(b[2 * i]) | (static_cast<unsigned char>(b[2 * i + 1]) << 8));
  return t;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("--help works on every command (and lists them); no command or an unknown one fails") {
    Result top = run("--help");
    CHECK(top.code == 0);
    std::vector<std::string> cmds;
    bool in_list = false;
    for (const std::string& l : lines(top.out)) {
      if (l == "commands:") {
        in_list = true;
        continue;
      }
      if (in_list && l.size() > 2 && l.rfind("  ", 0) == 0) cmds.push_back(l.substr(2, l.find(' ', 2) - 2));
    }
    for (const char* c : {"prepare", "train", "eval", "sample", "gradcheck"})
      CHECK(std::find(cmds.begin(), cmds.end(), c) != cmds.end());
    for (const std::string& c : cmds) {
      CAPTURE(c);
      Result r = run(c + " --help");
      CHECK(r.code == 0);
      CHECK(r.out.find("noiseformer " + c) != std::string::npos);
      CHECK(r.out.find("--help") != std::string::npos);
      CHECK(r.err.empty());
    }
    Result none = run("");
    CHECK(none.code != 0);
    CHECK_FALSE(none.signaled);
    Result unknown = run("frobnicate");
    CHECK(unknown.code != 0);
    CHECK_FALSE(unknown.signaled);
    CHECK(unknown.err.find("frobnicate") != std::string::npos);
  }

  TEST_CASE("bad flags and values: one-line error, non-zero exit") {
    TempDir tmp;
    check_error(run("train --data x --out y --bogus-flag 3"), "train", "bogus-flag");
    check_error(run("eval --checkpoint a --data b --split test"), "eval", "split");
    check_error(run("train --data x --out y --attention quadratic"), "train", "quadratic");
    check_error(run("train --data x --out y --n-layer many"), "train", "n-layer");
    check_error(run("sample --checkpoint a --temperature -1"), "sample", "temperature");
    check_error(run("train --out y"), "train", "--data");  // a required flag is missing
    check_error(run("prepare --input " + quote(tmp.file("nope.txt")) + " --out " + quote(tmp.file("d"))), "prepare",
                "nope.txt");
    check_error(run("eval --checkpoint " + quote(tmp.file("none.safetensors")) + " --data " + quote(tmp.path.string())),
                "eval", "none.safetensors");
    // ALiBi on an attention that does not take it, or a position bias that does not exist.
    check_error(run("train --data x --out " + quote(tmp.file("r")) + " --attention selective --pos-bias alibi"), "train",
                "pos_bias alibi is for base, symmetric, noise-v1 and noise-v2, not selective");
    check_error(run("train --data x --out " + quote(tmp.file("r")) + " --pos-bias rope"), "train", "rope");
    check_error(run("noise-plot --log " + quote(tmp.file("none.jsonl")) + " --out " + quote(tmp.file("n.png"))),
                "noise-plot", "none.jsonl");
    check_error(run("kv-sweep --runs " + quote(tmp.file("no-runs")) + " --variants base"), "kv-sweep", "not a directory");
    check_error(run("kv-sweep --runs " + quote(tmp.path.string()) + " --variants base --budgets 8"), "kv-sweep",
                "must include 0");
    // A config value the model rejects (n_embd not divisible by n_head).
    check_error(run("train --data x --out " + quote(tmp.file("r")) + " --n-embd 10 --n-head 3"), "train", "n_embd");
    CHECK_FALSE(fs::exists(tmp.file("r") + "/ckpt.safetensors"));
  }

  TEST_CASE("prepare -> train -> eval -> sample end to end") {
    Fixture fx;
    CHECK(fs::exists(fx.data + "/train.bin"));
    CHECK(fs::exists(fx.data + "/val.bin"));
    nlohmann::json meta = nlohmann::json::parse(read_bytes(fx.data + "/meta.json"));
    CHECK(meta["tokenizer"] == "char");
    const int vocab = meta["vocab_size"].get<int>();
    CHECK(fs::exists(fx.ckpt));
    CHECK(fs::exists(fx.run + "/ckpt.state.safetensors"));
    CHECK_FALSE(has_tmp_files(fx.run));
    // log.jsonl: 4 iterations, evaluations at 1 and 3
    int iters = 0, evals = 0;
    for (const std::string& l : lines(read_bytes(fx.run + "/log.jsonl"))) {
      auto j = nlohmann::json::parse(l);
      (j.contains("val_loss") ? evals : iters)++;
    }
    CHECK(iters == 4);
    CHECK(evals == 2);

    // eval prints one JSON line: the mean over every non-overlapping window of val.bin.
    Result e = run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(fx.data));
    REQUIRE_MESSAGE(e.code == 0, e.err);
    REQUIRE(lines(e.out).size() == 1u);
    nlohmann::json r = nlohmann::json::parse(e.out);
    const size_t len = read_tokens(fx.data + "/val.bin").size();
    CHECK(r["tokens"].get<int64_t>() == static_cast<int64_t>((len - 1) / 16 * 16));
    nf::LoadedModel lm = nf::load_model(fx.ckpt);
    CHECK(lm.model->config().vocab_size == vocab);
    nf::TokenData val = nf::TokenData::load(fx.data + "/val.bin", vocab);
    CHECK(r["loss"].get<double>() == doctest::Approx(nf::evaluate_windows(*lm.model, val, 8).loss).epsilon(1e-6));
    CHECK(r["loss"].get<double>() < std::log(static_cast<double>(vocab)));  // it learned something
    Result et = run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(fx.data) + " --split train --batch-size 3");
    REQUIRE_MESSAGE(et.code == 0, et.err);
    CHECK(nlohmann::json::parse(et.out)["tokens"].get<int64_t>() ==
          static_cast<int64_t>((read_tokens(fx.data + "/train.bin").size() - 1) / 16 * 16));

    // sample: greedy is deterministic and continues the prompt; seeded sampling repeats.
    const std::string s = "sample --checkpoint " + quote(fx.ckpt) + " --prompt 'the king' --max-new-tokens 30";
    Result g1 = run(s + " --temperature 0"), g2 = run(s + " --temperature 0 --seed 5");
    REQUIRE_MESSAGE(g1.code == 0, g1.err);
    CHECK(g1.out == g2.out);
    CHECK(g1.out.rfind("the king", 0) == 0);
    CHECK(g1.out.size() >= 8 + 30);  // 30 new characters (char tokenizer) + newline
    Result s1 = run(s + " --temperature 1 --seed 11 --top-k 5"), s2 = run(s + " --temperature 1 --seed 11 --top-k 5");
    REQUIRE_MESSAGE(s1.code == 0, s1.err);
    CHECK(s1.out == s2.out);
    const std::string chars = meta["chars"].get<std::string>();
    for (char c : s1.out) CHECK((chars.find(c) != std::string::npos || c == '\n'));
  }

  TEST_CASE("corrupt, truncated and mismatched checkpoints: one-line error, no crash") {
    Fixture fx;
    const std::string bytes = read_bytes(fx.ckpt);
    const std::string eval = "eval --data " + quote(fx.data) + " --checkpoint ";
    // truncated
    const std::string trunc = fx.tmp.file("trunc.safetensors");
    write_bytes(trunc, bytes.substr(0, bytes.size() / 2));
    check_error(run(eval + quote(trunc)), "eval", "trunc.safetensors");
    write_bytes(trunc, bytes.substr(0, 5));
    check_error(run(eval + quote(trunc)), "eval", "trunc.safetensors");
    // corrupt header: garbage JSON, and a header length far past the end of the file
    std::string bad = bytes;
    for (size_t i = 8; i < 40; ++i) bad[i] = '#';
    const std::string corrupt = fx.tmp.file("corrupt.safetensors");
    write_bytes(corrupt, bad);
    check_error(run(eval + quote(corrupt)), "eval", "corrupt.safetensors");
    bad = bytes;
    bad[7] = '\x7f';
    write_bytes(corrupt, bad);
    check_error(run(eval + quote(corrupt)), "eval", "corrupt.safetensors");
    check_error(run("sample --checkpoint " + quote(corrupt)), "sample", "corrupt.safetensors");
    // a config that does not match the tensors (metadata edited through the safetensors API)
    nf::SafetensorsFile f = nf::load_safetensors(fx.ckpt);
    auto j = nlohmann::json::parse(f.metadata.at("config"));
    j["n_embd"] = 32;
    f.metadata["config"] = j.dump();
    const std::string mism = fx.tmp.file("mismatch.safetensors");
    nf::save_safetensors(mism, f.tensors, f.metadata);
    check_error(run(eval + quote(mism)), "eval", "does not match");
    check_error(run("sample --checkpoint " + quote(mism)), "sample", "does not match");
    // ... and used to start or resume training: error, and the run directory gets no checkpoint
    const std::string out = fx.tmp.file("from_bad");
    check_error(run("train --data " + quote(fx.data) + " --out " + quote(out) + " --init " + quote(mism) + " " + kModel +
                    " --max-iters 2"),
                "train", "does not match");
    CHECK_FALSE(fs::exists(out + "/ckpt.safetensors"));
    // a checkpoint for another vocabulary
    j["n_embd"] = 16;
    j["vocab_size"] = 5;
    f.metadata["config"] = j.dump();
    const std::string vocab = fx.tmp.file("vocab.safetensors");
    nf::save_safetensors(vocab, f.tensors, f.metadata);
    check_error(run(eval + quote(vocab)), "eval", "vocab.safetensors");
  }

  TEST_CASE("bad data: ids >= vocab_size, odd length, shorter than a block, missing meta.json") {
    Fixture fx;
    const std::string before = read_bytes(fx.ckpt);
    auto train_into = [&](const std::string& data, const std::string& out) {
      return run("train --data " + quote(data) + " --out " + quote(out) + " " + kModel + " --max-iters 2 --eval-interval 1");
    };
    auto no_checkpoint = [&](const std::string& out) {
      CHECK_FALSE(fs::exists(out + "/ckpt.safetensors"));
      CHECK_FALSE(fs::exists(out + "/ckpt.state.safetensors"));
      CHECK_FALSE(has_tmp_files(out));
    };
    const int vocab = nlohmann::json::parse(read_bytes(fx.data + "/meta.json"))["vocab_size"].get<int>();

    // a token id >= vocab_size
    std::string d = fx.copy_data("big_id");
    std::vector<uint16_t> toks = read_tokens(d + "/train.bin");
    toks[100] = static_cast<uint16_t>(vocab);
    nf::write_tokens(d + "/train.bin", toks);
    check_error(train_into(d, fx.tmp.file("o1")), "train", "token id");
    no_checkpoint(fx.tmp.file("o1"));
    toks = read_tokens(d + "/val.bin");
    toks[3] = 60000;
    nf::write_tokens(d + "/val.bin", toks);
    check_error(run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(d)), "eval", "60000");

    // odd length
    d = fx.copy_data("odd");
    write_bytes(d + "/train.bin", read_bytes(d + "/train.bin") + "x");
    check_error(train_into(d, fx.tmp.file("o2")), "train", "odd length");
    no_checkpoint(fx.tmp.file("o2"));
    write_bytes(d + "/val.bin", read_bytes(d + "/val.bin") + "x");
    check_error(run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(d)), "eval", "odd length");

    // shorter than one block (block 16: 17 tokens are needed for one window)
    d = fx.copy_data("short");
    nf::write_tokens(d + "/train.bin", std::vector<uint16_t>(16, 1));
    check_error(train_into(d, fx.tmp.file("o3")), "train", "block_size");
    no_checkpoint(fx.tmp.file("o3"));
    d = fx.copy_data("short_val");
    nf::write_tokens(d + "/val.bin", std::vector<uint16_t>(10, 1));
    check_error(train_into(d, fx.tmp.file("o4")), "train", "val.bin");
    no_checkpoint(fx.tmp.file("o4"));
    check_error(run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(d)), "eval", "val.bin");

    // missing meta.json
    d = fx.copy_data("nometa");
    fs::remove(d + "/meta.json");
    check_error(train_into(d, fx.tmp.file("o5")), "train", "meta.json");
    no_checkpoint(fx.tmp.file("o5"));
    check_error(run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(d)), "eval", "meta.json");

    // A failed run never damages the checkpoint already in its run directory.
    d = fx.copy_data("big_id2");
    toks = read_tokens(d + "/train.bin");
    toks[0] = static_cast<uint16_t>(vocab + 3);
    nf::write_tokens(d + "/train.bin", toks);
    check_error(train_into(d, fx.run), "train", "token id");
    check_error(run("train --data " + quote(d) + " --out " + quote(fx.run) + " --resume --max-iters 8 --quiet"), "train",
                "token id");
    CHECK(read_bytes(fx.ckpt) == before);
    CHECK_FALSE(has_tmp_files(fx.run));
  }

  TEST_CASE("--config JSON: keys mirror the flags, flags given on the command line override it") {
    Fixture fx;
    const std::string cfg = fx.tmp.file("cfg.json");
    write_bytes(cfg, R"({"attention": "symmetric", "n_layer": 1, "n_head": 2, "n_embd": 16, "block_size": 16,
                        "batch_size": 2, "max_iters": 2, "eval_interval": 100, "eval_iters": 1, "lr": 0.01,
                        "warmup_iters": 0, "quiet": true, "seed": 5})");
    const std::string out = fx.tmp.file("cfgrun");
    Result r = run("train --config " + quote(cfg) + " --data " + quote(fx.data) + " --out " + quote(out) +
                   " --max-iters 3 --n-embd 8");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(r.err.empty());  // quiet came from the file
    nf::GPTConfig c = nf::read_checkpoint_config(out + "/ckpt.safetensors");
    CHECK(c.attention == "symmetric");  // from the file
    CHECK(c.n_layer == 1);
    CHECK(c.n_embd == 8);  // the flag wins
    std::vector<double> lrs;
    for (const std::string& l : lines(read_bytes(out + "/log.jsonl"))) {
      auto j = nlohmann::json::parse(l);
      if (j.contains("lr")) lrs.push_back(j["lr"].get<double>());
    }
    REQUIRE(lrs.size() == 3u);  // --max-iters 3 beat "max_iters": 2
    CHECK(lrs[0] == 0.01);      // warmup_iters 0 from the file: iteration 0 gets exactly lr
    // An unknown key is a one-line error naming it.
    write_bytes(cfg, R"({"n_layers": 2})");
    check_error(run("train --config " + quote(cfg) + " --data " + quote(fx.data) + " --out " + quote(out)), "train",
                "n_layers");
    write_bytes(cfg, "{not json");
    check_error(run("eval --config " + quote(cfg) + " --checkpoint " + quote(fx.ckpt) + " --data " + quote(fx.data)),
                "eval", "cfg.json");
  }

  TEST_CASE("--resume continues the run to --max-iters") {
    Fixture fx;
    Result r = run("train --data " + quote(fx.data) + " --out " + quote(fx.run) +
                   " --resume --max-iters 6 --eval-interval 2 --quiet");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    std::vector<int64_t> iters;
    for (const std::string& l : lines(read_bytes(fx.run + "/log.jsonl"))) {
      auto j = nlohmann::json::parse(l);
      if (j.contains("loss")) iters.push_back(j["iter"].get<int64_t>());
    }
    CHECK(iters == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  }

  TEST_CASE("gradcheck --filter add prints PASS lines and the summary") {
    Result r = run("gradcheck --filter add");
    CHECK(r.code == 0);
    std::vector<std::string> ls = lines(r.out);
    REQUIRE(ls.size() >= 2u);
    std::smatch m;
    REQUIRE(std::regex_match(ls.back(), m, std::regex(R"((\d+) passed, 0 failed)")));
    CHECK(std::stoul(m[1]) == ls.size() - 1);
    CHECK(std::stoul(m[1]) > 0);
    for (size_t i = 0; i + 1 < ls.size(); ++i) {
      CHECK(ls[i].find("add") != std::string::npos);
      CHECK(ls[i].find("PASS") != std::string::npos);
    }
    Result none = run("gradcheck --filter no-such-check-xyz");
    CHECK(none.code == 0);
    CHECK(none.out == "0 passed, 0 failed\n");
  }

  TEST_CASE("graph and trace: the tiny model's picture and backward pass; bad flags are one-line errors") {
    TempDir tmp;
    const std::string out = quote(tmp.file("g.dot"));
    check_error(run("graph --attention quadratic --out " + out), "graph", "quadratic");
    check_error(run("graph --out " + quote(tmp.file("g.jpg"))), "graph", "must end in .svg, .png or .dot");
    check_error(run("graph --module h.9.attn --out " + out), "graph", "unknown module 'h.9.attn'");
    check_error(run("graph --n-layer 9 --out " + out), "graph", "n-layer");
    check_error(run("graph --attention diff --n-head 1 --out " + out), "graph", "even n_head");
    check_error(run("graph"), "graph", "--out");
    check_error(run("trace --attention quadratic"), "trace", "quadratic");
    CHECK_FALSE(fs::exists(tmp.file("g.dot")));
    // Without Graphviz on PATH a picture cannot be drawn; the DOT text still can.
    check_error(run("graph --out " + quote(tmp.file("g.svg")), "env PATH=" + quote(tmp.str())), "graph", "graphviz");
    CHECK_FALSE(fs::exists(tmp.file("g.svg")));
    Result ok = run("graph --attention diff --module h.0.attn --grads --out " + out, "env PATH=" + quote(tmp.str()));
    CHECK(ok.code == 0);
    CHECK(contains(read_bytes(tmp.file("g.dot")), "digraph autograd"));
    Result tr = run("trace --attention selective");
    CHECK(tr.code == 0);
    CHECK(contains(tr.out, "cumsum"));
    CHECK(contains(tr.out, "parameter gradients"));
  }

  TEST_CASE("--device cuda without a usable GPU is a one-line error naming why") {
    if (nf::device_hooks().available()) {
      MESSAGE("a CUDA device is available: skipped");
      return;
    }
    TempDir tmp;
    const std::string out = tmp.file("run");
    check_error(run("train --data " + quote(tmp.path.string()) + " --out " + quote(out) + " --device cuda"), "train",
                kNoCuda);
    CHECK_FALSE(fs::exists(out + "/ckpt.safetensors"));
    check_error(run("eval --checkpoint x --data y --device cuda"), "eval", kNoCuda);
    check_error(run("sample --checkpoint x --device cuda"), "sample", kNoCuda);
  }

  TEST_CASE("noiseformer prepare: end to end through the command") {
    TempDir tmp;
    write_bytes(tmp.file("in.txt"), kSample);
    std::string out = tmp.file("out");
    std::vector<std::string> args = {"prepare", "--input", tmp.file("in.txt"), "--out", out,
                                     "--tokenizer", "bpe", "--vocab-size", "300",
                                     "--val-fraction", "0.2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    CHECK(nf::cli::cmd_prepare(static_cast<int>(argv.size()), argv.data()) == 0);
    CHECK(nf::load_tokenizer(out + "/meta.json")->vocab_size() == 300);

    std::vector<std::string> bad = {"prepare", "--tokenizer", "wordpiece"};
    std::vector<char*> bargv;
    for (auto& a : bad) bargv.push_back(a.data());
    CHECK(nf::cli::cmd_prepare(static_cast<int>(bargv.size()), bargv.data()) != 0);
  }
}

// --version, help for every flag, the OpenMP wait policy, eval's split, --top-p, and
// prompts the char vocabulary cannot encode.
TEST_SUITE("cli") {
  TEST_CASE("--version: the CMake project version and a line of build facts") {
    Result r = run("--version");
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    const std::vector<std::string> l = lines(r.out);
    REQUIRE(l.size() == 2u);
    CHECK(l[0] == std::string("noiseformer ") + NOISEFORMER_VERSION);
    CHECK(contains(l[1], "OpenBLAS"));
    CHECK(contains(l[1], "OpenMP"));
#ifdef NOISEFORMER_CUDA
    CHECK(contains(l[1], "CUDA backend built in"));
#else
    CHECK(contains(l[1], "no CUDA backend"));
#endif
  }

  TEST_CASE("every option of every command has help text; compare's train flags are train's") {
    std::map<std::string, std::map<std::string, std::string>> types;  // command -> option -> type name
    std::string current;
    nf::cli::set_app_inspector([&](const CLI::App& app) {
      for (const CLI::Option* opt : app.get_options()) {
        const std::string name = opt->get_name();
        CAPTURE(current);
        CAPTURE(name);
        CHECK(opt->get_description().find_first_not_of(" \t") != std::string::npos);
        types[current][name] = opt->get_type_name();
      }
    });
    for (const nf::cli::Command& c : nf::cli::kCommands) {
      current = c.name;
      std::string arg0 = c.name;
      char* argv[] = {arg0.data(), nullptr};
      CHECK(c.run(1, argv) == 0);  // the inspector stops it before it parses or runs
      CHECK_MESSAGE(types.count(current) == 1, current << " never reached parse_or_exit");
    }
    nf::cli::set_app_inspector({});
    REQUIRE(types.count("train") == 1);
    REQUIRE(types.count("compare") == 1);
    // The flags compare passes through to every run: same names and types as in train.
    for (const char* f : {"--n-layer", "--lr", "--bias", "--optimizer", "--device", "--max-iters", "--eval-interval"}) {
      CAPTURE(f);
      REQUIRE(types["compare"].count(f) == 1);
      CHECK(types["compare"][f] == types["train"][f]);
    }
    CHECK(types["compare"]["--n-layer"] != "TEXT");
    Result h = run("compare --help");
    CHECK(h.code == 0);
    CHECK_FALSE(contains(h.out, "as for `noiseformer train`\n"));
  }

  TEST_CASE("compare checks the train flags it passes through as train does") {
    check_error(run("compare --out x --n-layer many"), "compare", "n-layer");
    check_error(run("compare --out x --optimizer adam"), "compare", "adam");
  }

  TEST_CASE("OpenMP waits passively unless the user chose a policy") {
    // libgomp prints its settings at load with OMP_DISPLAY_ENV=verbose: GOMP_SPINCOUNT is 0 when
    // passive, 300000 by default, 30000000000 when active.
    auto spincounts = [](const std::string& err) {
      std::vector<std::string> v;
      for (const std::string& l : lines(err))
        if (contains(l, "GOMP_SPINCOUNT = ")) v.push_back(l.substr(l.find('=') + 2));
      return v;
    };
    Result def = run("--version", "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose");
    CHECK(def.code == 0);
    const std::vector<std::string> d = spincounts(def.err);
    if (d.empty()) {
      MESSAGE("the OpenMP runtime is not libgomp: skipped");
      return;
    }
    CHECK(d.back() == "'0'");  // the restarted process: passive
    Result active = run("--version", "env -u GOMP_SPINCOUNT OMP_WAIT_POLICY=ACTIVE OMP_DISPLAY_ENV=verbose");
    CHECK(active.code == 0);
    const std::vector<std::string> a = spincounts(active.err);
    REQUIRE_FALSE(a.empty());
    CHECK(a.back() != "'0'");  // the user's choice stands
    Result spin = run("--version", "env -u OMP_WAIT_POLICY GOMP_SPINCOUNT=1000 OMP_DISPLAY_ENV=verbose");
    const std::vector<std::string> sp = spincounts(spin.err);
    REQUIRE_FALSE(sp.empty());
    CHECK(sp.back() == "'1000'");
  }

  TEST_CASE("cut_logits: top-k, then top-p keeps the smallest most probable set reaching p") {
    // probabilities 0.05 0.5 0.1 0.2 0.15 (ids 0..4): by rank 1, 3, 4, 2, 0
    const std::vector<double> probs{0.05, 0.5, 0.1, 0.2, 0.15};
    std::vector<double> logits;
    for (double p : probs) logits.push_back(std::log(p));
    auto kept = [&](int64_t k, double p) {
      std::vector<double> l = logits;
      nf::cut_logits(l, k, p);
      std::vector<int> ids;
      for (size_t i = 0; i < l.size(); ++i)
        if (l[i] != -INFINITY) ids.push_back(static_cast<int>(i));
      return ids;
    };
    CHECK(kept(0, 1.0) == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(kept(0, 0.4) == std::vector<int>{1});          // 0.5 alone reaches 0.4
    CHECK(kept(0, 0.5 + 1e-9) == std::vector<int>{1, 3});
    CHECK(kept(0, 0.69) == std::vector<int>{1, 3});      // 0.5 + 0.2 = 0.7 >= 0.69
    CHECK(kept(0, 0.71) == std::vector<int>{1, 3, 4});   // 0.85
    CHECK(kept(0, 0.9) == std::vector<int>{1, 2, 3, 4});  // 0.95; the last 0.05 is cut
    CHECK(kept(0, 1e-12) == std::vector<int>{1});        // always at least one
    // top-p renormalises over what top-k kept: 0.5/0.7 = 0.714 >= 0.7 alone.
    CHECK(kept(2, 0.7) == std::vector<int>{1});
    CHECK(kept(2, 0.72) == std::vector<int>{1, 3});
    // ties go to the lower id
    std::vector<double> flat(4, 0.0);
    nf::cut_logits(flat, 0, 0.5);
    CHECK(flat == std::vector<double>{0.0, 0.0, -INFINITY, -INFINITY});
    std::vector<double> l = logits;
    CHECK_THROWS_AS(nf::cut_logits(l, 0, 0.0), std::invalid_argument);
    CHECK_THROWS_AS(nf::cut_logits(l, 0, 1.5), std::invalid_argument);
    CHECK_THROWS_AS(nf::cut_logits(l, 0, std::nan("")), std::invalid_argument);
  }

  TEST_CASE("eval names its split; sample --top-p; a prompt with unseen characters is refused") {
    Fixture fx;
    for (const char* split : {"val", "train"}) {
      Result e = run("eval --checkpoint " + quote(fx.ckpt) + " --data " + quote(fx.data) + " --split " + split);
      REQUIRE_MESSAGE(e.code == 0, e.err);
      CHECK(nlohmann::json::parse(e.out)["split"] == split);
    }
    const std::string s = "sample --checkpoint " + quote(fx.ckpt) + " --max-new-tokens 20 --seed 3";
    // A tiny p keeps only the most probable token: greedy decoding.
    Result greedy = run(s + " --prompt 'the king' --temperature 0");
    Result nucleus = run(s + " --prompt 'the king' --temperature 1 --top-p 1e-9");
    REQUIRE_MESSAGE(greedy.code == 0, greedy.err);
    REQUIRE_MESSAGE(nucleus.code == 0, nucleus.err);
    CHECK(nucleus.out == greedy.out);
    Result full = run(s + " --prompt 'the king' --top-p 1"), plain = run(s + " --prompt 'the king'");
    CHECK(full.out == plain.out);  // p = 1 changes nothing
    check_error(run(s + " --top-p 0"), "sample", "top-p");
    check_error(run(s + " --top-p 1.5"), "sample", "top-p");
    check_error(run(s + " --top-p nan"), "sample", "top-p");
    // 'Q' and '€' never occur in the fixture's text.
    check_error(run(s + " --prompt 'the Queen'"), "sample", "'Q'");
    check_error(run(s + " --prompt 'the king€'"), "sample", "U+20AC");
    // The default prompt ("\n", which this corpus has) still works.
    CHECK(run(s).code == 0);
  }

  TEST_CASE("--device cuda without a usable GPU: the same one-line error in glue and compare") {
    if (nf::device_hooks().available()) {
      MESSAGE("a CUDA device is available: skipped");
      return;
    }
    check_error(run("glue --task RTE --glue-dir x --checkpoint y --device cuda"), "glue", kNoCuda);
    check_error(run("compare --out x --device cuda"), "compare", kNoCuda);
  }
}

// encode and decode: a file's exact bytes to ids and back, for every tokenizer, and GPT-2's
// tokenizer through prepare --tokenizer gpt2 --vocab-dir.
TEST_SUITE("cli") {
  TEST_CASE("encode prints one JSON array of ids; decode writes the bytes back exactly, for every tokenizer") {
    TempDir tmp;
    write_gpt2_vocab(tmp.path / "vocab", {{" ", "t"}, {"h", "e"}, {" t", "he"}, {"\xc3", "\xa9"}});
    const std::string corpus = tmp.file("corpus.txt");
    write_bytes(corpus, kSample + kUtf8);
    const std::vector<std::string> prepares = {
        "--tokenizer char", "--tokenizer byte", "--tokenizer bpe --vocab-size 300",
        "--tokenizer gpt2 --vocab-dir " + quote(tmp.file("vocab"))};
    for (const std::string& how : prepares) {
      CAPTURE(how);
      const std::string data = tmp.file("data");
      fs::remove_all(data);
      Result p = run("prepare --input " + quote(corpus) + " --out " + quote(data) + " " + how);
      REQUIRE_MESSAGE(p.code == 0, p.err);
      const std::string meta = quote(data + "/meta.json");
      // Text without a final newline, a blank line and trailing spaces; bytes that are not
      // UTF-8 for the tokenizers that take any bytes.
      const bool any_bytes = how.find("char") == std::string::npos;
      const std::string text = "the theme, the café  \n\n\tthe end" + (any_bytes ? std::string("\xff\x00\xc3", 3) : "");
      write_bytes(tmp.file("in.txt"), text);
      Result e = run("encode --meta " + meta + " --input " + quote(tmp.file("in.txt")));
      REQUIRE_MESSAGE(e.code == 0, e.err);
      CHECK(e.err.empty());
      REQUIRE(e.out.back() == '\n');
      CHECK(std::count(e.out.begin(), e.out.end(), '\n') == 1);
      const nlohmann::json ids = nlohmann::json::parse(e.out);
      REQUIRE(ids.is_array());
      CHECK(ids.get<std::vector<int>>() == nf::load_tokenizer(data + "/meta.json")->encode(text));
      write_bytes(tmp.file("ids.json"), e.out);
      Result d = run("decode --meta " + meta + " --input " + quote(tmp.file("ids.json")));
      REQUIRE_MESSAGE(d.code == 0, d.err);
      CHECK(d.out == text);
      // An empty file is an empty array, and back.
      write_bytes(tmp.file("empty.txt"), "");
      Result ee = run("encode --meta " + meta + " --input " + quote(tmp.file("empty.txt")));
      CHECK(ee.out == "[]\n");
      write_bytes(tmp.file("none.json"), "[]");
      Result de = run("decode --meta " + meta + " --input " + quote(tmp.file("none.json")));
      CHECK(de.code == 0);
      CHECK(de.out.empty());
    }
  }

  TEST_CASE("prepare --tokenizer gpt2, encode and decode: bad input is one line and a non-zero exit") {
    TempDir tmp;
    const std::string corpus = tmp.file("corpus.txt");
    write_bytes(corpus, kSample);
    const std::string prep = "prepare --input " + quote(corpus) + " --out " + quote(tmp.file("data")) + " ";
    check_error(run(prep + "--tokenizer gpt2"), "prepare", "--tokenizer gpt2 needs --vocab-dir");
    check_error(run(prep + "--tokenizer gpt2 --vocab-dir " + quote(tmp.file("nowhere"))), "prepare", "nowhere: not a directory");
    write_gpt2_vocab(tmp.path / "vocab", {{"t", "h"}});
    check_error(run(prep + "--tokenizer char --vocab-dir " + quote(tmp.file("vocab"))), "prepare",
                "--vocab-dir is for --tokenizer gpt2 only");
    write_bytes(tmp.file("vocab/encoder.json"), "{\"!\": 0,\n");
    check_error(run(prep + "--tokenizer gpt2 --vocab-dir " + quote(tmp.file("vocab"))), "prepare",
                "encoder.json: not valid JSON");
    CHECK_FALSE(fs::exists(tmp.file("data/meta.json")));
    write_gpt2_vocab(tmp.path / "vocab", {{"t", "h"}});
    Result p = run(prep + "--tokenizer gpt2 --vocab-dir " + quote(tmp.file("vocab")));
    REQUIRE_MESSAGE(p.code == 0, p.err);
    CHECK(contains(p.out, "tokenizer gpt2: vocab 257"));

    const std::string meta = quote(tmp.file("data/meta.json"));
    check_error(run("encode --meta " + meta + " --input " + quote(tmp.file("nope.txt"))), "encode", "nope.txt");
    check_error(run("encode --meta " + quote(tmp.file("none/meta.json")) + " --input " + quote(corpus)), "encode",
                "none/meta.json");
    check_error(run("encode --input " + quote(corpus)), "encode", "--meta");
    auto decode_error = [&](const std::string& ids, const std::string& part) {
      write_bytes(tmp.file("ids.json"), ids);
      Result r = run("decode --meta " + meta + " --input " + quote(tmp.file("ids.json")));
      check_error(r, "decode", part);
      CHECK(r.out.empty());  // nothing is written before every id is checked
    };
    decode_error("[116, 257]", "element 1 (257) is not a token id in [0, 257)");
    decode_error("[-1]", "element 0 (-1) is not a token id");
    decode_error("[4294967301]", "element 0 (4294967301) is not a token id");  // 2^32 + 5 is not 5
    decode_error("[1.5]", "element 0 (1.5) is not a token id");
    decode_error("[\"7\"]", "element 0 (\"7\") is not a token id");
    decode_error("{\"ids\": [1]}", "not a JSON array of token ids");
    decode_error("[1, 2", "not valid JSON");
    check_error(run("decode --meta " + meta + " --input " + quote(tmp.file("nope.json"))), "decode", "nope.json");

    // A char vocabulary refuses a character it lacks, by name and place.
    Result c = run("prepare --input " + quote(corpus) + " --out " + quote(tmp.file("char")));
    REQUIRE(c.code == 0);
    write_bytes(tmp.file("zebra.txt"), "a Zebra");
    check_error(run("encode --meta " + quote(tmp.file("char/meta.json")) + " --input " + quote(tmp.file("zebra.txt"))),
                "encode", "zebra.txt: character U+005A 'Z' at byte offset 2");
  }
}

TEST_SUITE("gpt2") {
  TEST_CASE("prepare --tokenizer gpt2 with GPT-2's files; encode prints GPT-2's ids, decode gives the text back") {
    NF_GPT2_VOCAB_OR_SKIP(vocab);
    TempDir tmp;
    Result p = run("prepare --input " + quote(gpt2_fixture_path("english.txt").string()) + " --out " + quote(tmp.file("data")) +
                   " --tokenizer gpt2 --vocab-dir " + quote(vocab));
    REQUIRE_MESSAGE(p.code == 0, p.err);
    CHECK(contains(p.out, "tokenizer gpt2: vocab 50257"));
    const std::string meta = quote(tmp.file("data/meta.json"));
    for (const std::string name : gpt2_fixture_names) {
      CAPTURE(name);
      Result e = run("encode --meta " + meta + " --input " + quote(gpt2_fixture_path(name + ".txt").string()));
      REQUIRE_MESSAGE(e.code == 0, e.err);
      CHECK(nlohmann::json::parse(e.out).get<std::vector<int>>() == gpt2_fixture_ids(name));
      Result d = run("decode --meta " + meta + " --input " + quote(gpt2_fixture_path(name + ".ids.json").string()));
      REQUIRE_MESSAGE(d.code == 0, d.err);
      CHECK(d.out == gpt2_fixture_text(name));
    }
  }
}
