#pragma once
// Command-line plumbing shared by the sub-commands: JSON config files for CLI11 and a parse
// helper that turns --help and bad flags into an exit status instead of an exception.
//
// A config file is one JSON object whose keys are flag names with underscores for dashes:
//   {"n_layer": 6, "max_iters": 5000, "lr": 1e-3, "bias": true}   ≡ --n-layer 6 --max-iters 5000 …
// Values may be numbers, strings, booleans (for flags too) or arrays (multi-value options).
// Flags given on the command line win over the file (CLI11 only fills options still unset).
// A key that names no flag is an error naming the key.
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace nf::cli {

// "n_layer" -> "n-layer" and back.
std::string key_to_flag(std::string key);
std::string flag_to_key(std::string flag);

// CLI11's Config interface for JSON files (the lookalike of its built-in INI/TOML reader).
class JsonConfig : public CLI::Config {
 public:
  // With `app`, from_config() rejects keys that name none of its options (CLI11 itself would
  // only say "INI was not able to parse …"). The App must outlive this formatter.
  explicit JsonConfig(const CLI::App* app = nullptr) : app_(app) {}

  // The options that were given (all of them with default_also) as one JSON object, so a run
  // can store the exact configuration it used; feeding it back reproduces the settings.
  std::string to_config(const CLI::App* app, bool default_also, bool write_description,
                        std::string prefix) const override;
  // Throws CLI::ConfigError (a ParseError) on invalid JSON, a non-object, nested objects, null
  // values or unknown keys.
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::App* app_;
};

// Adds `--config FILE.json` to the app and installs JsonConfig as its config reader.
void add_config_option(CLI::App& app);

// A CLI11 App for `noiseformer <cmd>`, named so that help and errors read "noiseformer <cmd>".
// The command's flags are added by the caller.
CLI::App make_app(const std::string& cmd, const std::string& description);

// Parses argv (argv[0] = the command name, skipped). Returns std::nullopt when the command
// should run, otherwise the exit status the command must return at once:
//   --help           prints the help to `out`, returns 0;
//   any parse error  prints one line "<app name>: error: <what> (see --help)" to `err`,
//                    returns 2 — unknown flags, bad values, missing or bad config files alike.
// Usage:  if (auto rc = nf::cli::parse_or_exit(app, argc, argv)) return *rc;
std::optional<int> parse_or_exit(CLI::App& app, int argc, char** argv);
std::optional<int> parse_or_exit(CLI::App& app, int argc, char** argv, std::ostream& out,
                                 std::ostream& err);

// For checks that must cover every command's flags (tests: each flag has help text). While an
// inspector is set, parse_or_exit hands it the command's App, fully built, and returns 0 without
// parsing: the command returns before it reads or runs anything. An empty function unsets it.
// Not thread-safe: set it only while no command runs on another thread.
void set_app_inspector(std::function<void(const CLI::App&)> inspect);

}  // namespace nf::cli
