// Command-line plumbing shared by the sub-commands (train/config_file.cpp): JSON config files
// whose keys mirror the flags (the command line wins), one-line errors for unknown keys and bad
// files, parse_or_exit's exit statuses, and the key <-> flag name mapping.
#include <doctest/doctest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "train/config_file.h"
#include "tests/support.h"

using namespace nf::test;

namespace {

// A command with one option of each kind, parsed as `noiseformer test ARGS…` would be.
struct TestCli {
  int n_layer = 6, max_iters = 100;
  double lr = 1e-3;
  bool bias = false;
  std::string attention = "base";
  std::vector<int> dims;
  CLI::App app{"test command", "noiseformer test"};
  TestCli() {
    app.add_option("--n-layer", n_layer);
    app.add_option("--max-iters", max_iters);
    app.add_option("--lr", lr);
    app.add_flag("--bias", bias);
    app.add_option("--attention", attention)->check(CLI::IsMember({"base", "diff"}));
    app.add_option("--dims", dims);
    nf::cli::add_config_option(app);
  }
  std::optional<int> parse(std::vector<std::string> args, std::string* out = nullptr,
                           std::string* err = nullptr) {
    args.insert(args.begin(), "test");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    std::ostringstream o, e;
    auto rc = nf::cli::parse_or_exit(app, static_cast<int>(argv.size()), argv.data(), o, e);
    if (out) *out = o.str();
    if (err) *err = e.str();
    return rc;
  }
};

}  // namespace

TEST_SUITE("train") {
  TEST_CASE("JSON config: keys with underscores set flags; the command line overrides the file") {
    TempDir tmp;
    const std::string cfg = tmp.file("cfg.json");
    write_bytes(cfg, R"({"n_layer": 4, "max_iters": 5000, "lr": 3e-4, "bias": true,
                         "attention": "diff", "dims": [1, 2, 3]})");
    TestCli cli;
    CHECK(!cli.parse({"--config", cfg, "--n-layer", "2"}).has_value());
    CHECK(cli.n_layer == 2);  // the flag wins
    CHECK(cli.max_iters == 5000);
    CHECK(cli.lr == doctest::Approx(3e-4));
    CHECK(cli.bias);
    CHECK(cli.attention == "diff");
    CHECK(cli.dims == std::vector<int>{1, 2, 3});

    // to_config writes JSON that reads back to the same settings.
    const std::string saved = cli.app.config_to_str(true, false);
    auto j = nlohmann::json::parse(saved);
    CHECK(j["n_layer"] == 2);
    CHECK(j["bias"] == true);
    CHECK(j["attention"] == "diff");
    write_bytes(tmp.file("saved.json"), saved);
    TestCli again;
    CHECK(!again.parse({"--config", tmp.file("saved.json")}).has_value());
    CHECK(again.n_layer == 2);
    CHECK(again.lr == doctest::Approx(3e-4));
    CHECK(again.dims == std::vector<int>{1, 2, 3});
  }

  TEST_CASE("JSON config: unknown keys and bad files are one-line errors") {
    TempDir tmp;
    const std::string cfg = tmp.file("cfg.json");
    write_bytes(cfg, R"({"n_layer": 4, "n_lyer": 5})");
    TestCli cli;
    std::string err;
    CHECK(cli.parse({"--config", cfg}, nullptr, &err) == 2);
    CHECK(err.rfind("noiseformer test: error: ", 0) == 0);
    CHECK(err.find("n_lyer") != std::string::npos);
    CHECK(err.find(cfg) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);

    // A key holding a carriage return or a line feed is quoted on the same one line.
    write_bytes(cfg, R"({"n_la\r\nyer": 4})");
    CHECK(TestCli().parse({"--config", cfg}, nullptr, &err) == 2);
    CHECK(err.find("n_la  yer") != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(err.find('\r') == std::string::npos);

    write_bytes(cfg, R"([1, 2])");
    CHECK(TestCli().parse({"--config", cfg}) == 2);
    write_bytes(cfg, R"({"lr": )");
    CHECK(TestCli().parse({"--config", cfg}, nullptr, &err) == 2);
    CHECK(err.find("not valid JSON") != std::string::npos);
    write_bytes(cfg, R"({"lr": "fast"})");
    CHECK(TestCli().parse({"--config", cfg}) == 2);
    CHECK(TestCli().parse({"--config", tmp.file("missing.json")}, nullptr, &err) == 2);
    CHECK(err.find("missing.json") != std::string::npos);
  }

  TEST_CASE("parse_or_exit: --help exits 0, bad flags give one line and a non-zero status") {
    std::string out, err;
    CHECK(TestCli().parse({"--help"}, &out, &err) == 0);
    CHECK(out.find("noiseformer test") != std::string::npos);
    CHECK(out.find("--n-layer") != std::string::npos);
    CHECK(err.empty());

    CHECK(TestCli().parse({"--n-layr", "3"}, &out, &err) == 2);
    CHECK(err.rfind("noiseformer test: error: ", 0) == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(TestCli().parse({"--n-layer", "three"}) == 2);
    CHECK(TestCli().parse({"--attention", "quantum"}) == 2);
    CHECK(!TestCli().parse({}).has_value());
  }

  TEST_CASE("config key <-> flag names") {
    CHECK(nf::cli::key_to_flag("lr_decay_iters") == "lr-decay-iters");
    CHECK(nf::cli::flag_to_key("lr-decay-iters") == "lr_decay_iters");
  }
}
