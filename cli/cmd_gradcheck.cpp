// `noiseformer gradcheck`: runs every registered float64 gradient check (autograd/gradcheck.h),
// one line each, then "N passed, M failed"; exit status 1 if any failed.
#include <cstdio>
#include <string>

#include "models/gradchecks.h"
#include "train/config_file.h"
#include "cli/commands.h"

namespace nf::cli {

int cmd_gradcheck(int argc, char** argv) {
  std::string filter;
  CLI::App app = make_app("gradcheck", "Check every op's and module's backward against float64 central differences");
  app.add_option("--filter", filter, "run only checks whose name contains this text");
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  int passed = 0, failed = 0;
  for (const GradcheckCase& c : all_gradchecks()) {
    if (!filter.empty() && c.name.find(filter) == std::string::npos) continue;
    GradcheckResult r;
    try {
      r = c.run();
    } catch (const std::exception& e) {
      r.passed = false;
      r.message = std::string("threw: ") + e.what();
    }
    std::printf("%-40s max_abs %.2e  max_rel %.2e  %s%s%s\n", c.name.c_str(), r.max_abs_err, r.max_rel_err,
                r.passed ? "PASS" : "FAIL", r.message.empty() ? "" : "  ", r.message.c_str());
    (r.passed ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

}  // namespace nf::cli
