#include "train/config_file.h"
#include "tensor/one_line.h"

#include <algorithm>
#include <iostream>
#include <istream>

#include <nlohmann/json.hpp>

namespace nf::cli {

std::string key_to_flag(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

std::string flag_to_key(std::string flag) {
  std::replace(flag.begin(), flag.end(), '-', '_');
  return flag;
}

namespace {

// The config file(s) given, for error messages ("" when unknown).
std::string config_file_name(const CLI::App* app) {
  if (app == nullptr || app->get_config_ptr() == nullptr) return "";
  const auto& res = app->get_config_ptr()->results();
  return res.size() == 1 ? res.front() : "";
}

CLI::ConfigError config_error(const CLI::App* app, const std::string& msg) {
  const std::string file = config_file_name(app);
  return CLI::ConfigError((file.empty() ? "config file" : "config " + file) + ": " + msg);
}

// CLI11 takes every value as text; a JSON scalar's text is what a user would type.
std::string scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();  // numbers: integers exactly, floats in shortest round-trip form
}

// The inverse for to_config: numbers and booleans stay typed, everything else is a string.
nlohmann::ordered_json typed_value(const std::string& text) {
  if (!text.empty()) {
    try {
      auto v = nlohmann::ordered_json::parse(text);
      if (v.is_number() || v.is_boolean()) return v;
    } catch (const nlohmann::json::exception&) {
    }
  }
  return text;
}

}  // namespace

std::vector<CLI::ConfigItem> JsonConfig::from_config(std::istream& input) const {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(input);
  } catch (const nlohmann::json::exception& e) {
    throw config_error(app_, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw config_error(app_, "expected a JSON object of flag names to values");

  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, value] : j.items()) {
    CLI::ConfigItem item;
    item.name = key_to_flag(key);
    if (app_ != nullptr && app_->get_option_no_throw("--" + item.name) == nullptr)
      throw config_error(app_, "unknown key '" + one_line(key) + "' (no --" + one_line(item.name) + " flag)");
    if (value.is_object())
      throw config_error(app_, "key '" + one_line(key) + "': nested objects are not supported");
    if (value.is_null()) throw config_error(app_, "key '" + one_line(key) + "': null is not a value");
    if (value.is_array()) {
      for (const auto& v : value) {
        if (v.is_object() || v.is_array() || v.is_null())
          throw config_error(app_, "key '" + one_line(key) + "': arrays may hold only scalars");
        item.inputs.push_back(scalar_text(v));
      }
    } else {
      item.inputs.push_back(scalar_text(value));
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::string JsonConfig::to_config(const CLI::App* app, bool default_also, bool /*write_description*/,
                                  std::string /*prefix*/) const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const CLI::Option* opt : app->get_options({})) {
    if (!opt->get_configurable() || opt->get_lnames().empty()) continue;
    const std::string key = flag_to_key(opt->get_lnames().front());
    if (opt->get_expected_min() == 0) {  // a flag: true/false
      if (opt->count() > 0 || default_also) j[key] = opt->count() > 0 && opt->as<bool>();
      continue;
    }
    std::vector<std::string> vals = opt->reduced_results();
    if (vals.empty() && default_also && !opt->get_default_str().empty())
      vals.push_back(opt->get_default_str());
    if (vals.empty()) continue;
    if (vals.size() == 1) {
      j[key] = typed_value(vals.front());
    } else {
      nlohmann::ordered_json arr = nlohmann::ordered_json::array();
      for (const auto& v : vals) arr.push_back(typed_value(v));
      j[key] = std::move(arr);
    }
  }
  return j.dump(2) + "\n";
}

void add_config_option(CLI::App& app) {
  app.config_formatter(std::make_shared<JsonConfig>(&app));
  app.set_config("--config", "",
                 "JSON file of settings: keys are flag names with '_' for '-'; flags override it");
}

CLI::App make_app(const std::string& cmd, const std::string& description) {
  return CLI::App(description, "noiseformer " + cmd);
}

namespace {
std::function<void(const CLI::App&)>& app_inspector() {
  static std::function<void(const CLI::App&)> f;
  return f;
}
}  // namespace

void set_app_inspector(std::function<void(const CLI::App&)> inspect) { app_inspector() = std::move(inspect); }

std::optional<int> parse_or_exit(CLI::App& app, int argc, char** argv, std::ostream& out,
                                 std::ostream& err) {
  if (const auto& inspect = app_inspector()) {
    inspect(app);
    return 0;
  }
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::Success& e) {  // e.g. a version flag: not an error
    if (e.get_name() == "CallForVersion") out << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    err << app.get_name() << ": error: " << one_line(e.what(), std::string::npos) << " (see --help)\n";
    return 2;
  }
}

std::optional<int> parse_or_exit(CLI::App& app, int argc, char** argv) {
  return parse_or_exit(app, argc, argv, std::cout, std::cerr);
}

}  // namespace nf::cli
