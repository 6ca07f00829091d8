#include "dist/collective.h"

#include <new>
#include <vector>

namespace nf {

std::string describe(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::bad_alloc&) {
    return "out of memory (the model, batch or data is too large for this machine)";
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown error";
  }
}

void agree(Communicator& comm, const std::exception_ptr& failure) {
  if (comm.size() == 1) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  // Slot r holds 1 when rank r failed: one sum tells every rank who did.
  std::vector<double> failed(static_cast<size_t>(comm.size()), 0.0);
  if (failure) failed[static_cast<size_t>(comm.rank())] = 1.0;
  comm.allreduce_sum(failed.data(), failed.size());
  for (int r = 0; r < comm.size(); ++r) {
    if (failed[static_cast<size_t>(r)] == 0.0) continue;
    std::string message = r == comm.rank() ? describe(failure) : std::string();
    comm.broadcast(message, r);
    throw CollectiveError("rank " + std::to_string(r) + ": " + message);
  }
}

void fail_together(Communicator& comm, const std::string& message) {
  if (comm.size() == 1) throw std::runtime_error(message);
  throw CollectiveError(message);
}

}  // namespace nf
