#include "dist/mpi_communicator.h"

#include <mpi.h>

#include <climits>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace nf {

namespace {

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(call) + ": " + std::string(text, static_cast<size_t>(len)));
}

int count_of(size_t n) {
  if (n > static_cast<size_t>(INT_MAX)) throw std::invalid_argument("MPI: a buffer of more than 2^31-1 elements");
  return static_cast<int>(n);
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    // Errors come back as return codes (turned into exceptions above) instead of aborting at once.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    for (MPI_Request& r : requests_)
      if (r != MPI_REQUEST_NULL) MPI_Wait(&r, MPI_STATUS_IGNORE);
    MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* name() const override { return "mpi"; }

  void allreduce_sum(double* data, size_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, count_of(n), MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
  }
  void broadcast(std::string& s, int root) override {
    unsigned long long len = s.size();
    check(MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, root, comm_), "MPI_Bcast");
    s.resize(static_cast<size_t>(len));
    if (len) check(MPI_Bcast(s.data(), count_of(s.size()), MPI_CHAR, root, comm_), "MPI_Bcast");
  }

  Device buffer_device() const override { return Device::CPU; }
  int start_allreduce_sum(float* data, size_t n) override {
    // A handle is an index into requests_; a finished one is reused.
    size_t h = 0;
    while (h < requests_.size() && requests_[h] != MPI_REQUEST_NULL) ++h;
    if (h == requests_.size()) requests_.push_back(MPI_REQUEST_NULL);
    check(MPI_Iallreduce(MPI_IN_PLACE, data, count_of(n), MPI_FLOAT, MPI_SUM, comm_, &requests_[h]),
          "MPI_Iallreduce");
    in_flight_.push_back(h);
    return static_cast<int>(h);
  }
  void progress() override {
    // MPI_Test on each sum in flight gives MPI the chance to move its next round of messages.
    for (size_t i = 0; i < in_flight_.size();) {
      int done = 0;
      check(MPI_Test(&requests_[in_flight_[i]], &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (done) in_flight_.erase(in_flight_.begin() + static_cast<long>(i));
      else ++i;
    }
  }
  void wait(int handle) override {
    const size_t h = static_cast<size_t>(handle);
    if (h >= requests_.size()) throw std::logic_error("MPI: wait on an unknown handle");
    check(MPI_Wait(&requests_[h], MPI_STATUS_IGNORE), "MPI_Wait");
    for (size_t i = 0; i < in_flight_.size(); ++i)
      if (in_flight_[i] == h) {
        in_flight_.erase(in_flight_.begin() + static_cast<long>(i));
        break;
      }
  }

  void copy(float* dst, const float* src, size_t n) override {
    if (n) std::memcpy(dst, src, n * sizeof(float));
  }
  void zero(float* dst, size_t n) override {
    if (n) std::memset(dst, 0, n * sizeof(float));
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<MPI_Request> requests_;
  std::vector<size_t> in_flight_;
};

}  // namespace

std::unique_ptr<Communicator> mpi_init_world() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    if (provided < MPI_THREAD_FUNNELED)
      throw std::runtime_error("MPI: this MPI library does not support MPI_THREAD_FUNNELED");
  }
  return std::make_unique<MpiCommunicator>();
}

void mpi_finalize() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void mpi_abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

}  // namespace nf
