#pragma once
// The three stages of a streaming pass over a text, as one function:
//
//   read (calling thread) -> work (`threads` worker threads, any order) -> consume (calling
//   thread, chunk order)
//
// Chunk k's result is consumed only after chunk k-1's, whatever finished first, so a file
// written by `consume` is the same for any number of threads. At most 2·threads chunks are read
// and not yet consumed at any time: memory is bounded by that many chunks and their results.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "data/chunk_reader.h"

namespace nf {

// Runs work(const TextChunk&) -> Result on every chunk of `reader` and consume(TextChunk&&,
// Result&&) on the results in chunk order. The first exception, in chunk order, that work or
// consume throws (or any the reader throws) stops the pass and is rethrown here, after every
// worker has stopped.
template <class Result, class Work, class Consume>
void for_each_chunk_in_order(ChunkReader& reader, int threads, Work work, Consume consume) {
  threads = std::max(threads, 1);
  const uint64_t max_in_flight = 2 * static_cast<uint64_t>(threads);

  struct Done {
    TextChunk chunk;
    Result result;
    std::exception_ptr error;
  };
  std::mutex m;
  std::condition_variable have_work, have_result;
  std::deque<std::pair<uint64_t, TextChunk>> todo;
  std::map<uint64_t, Done> done;
  bool no_more_work = false;  // set once the reader is used up, or the pass stops early

  auto worker = [&] {
    for (;;) {
      std::pair<uint64_t, TextChunk> job;
      {
        std::unique_lock<std::mutex> lock(m);
        have_work.wait(lock, [&] { return !todo.empty() || no_more_work; });
        if (todo.empty()) return;
        job = std::move(todo.front());
        todo.pop_front();
      }
      Done d;
      try {
        d.result = work(static_cast<const TextChunk&>(job.second));
      } catch (...) {
        d.error = std::current_exception();
      }
      d.chunk = std::move(job.second);
      {
        std::lock_guard<std::mutex> lock(m);
        done.emplace(job.first, std::move(d));
      }
      have_result.notify_all();
    }
  };

  std::vector<std::thread> pool;
  auto stop_workers = [&](bool drop_queued) {
    {
      std::lock_guard<std::mutex> lock(m);
      if (drop_queued) todo.clear();
      no_more_work = true;
    }
    have_work.notify_all();
    for (std::thread& t : pool) t.join();
    pool.clear();
  };

  try {
    for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
    uint64_t next_read = 0, next_consume = 0;
    bool reader_done = false;
    for (;;) {
      while (!reader_done && next_read - next_consume < max_in_flight) {
        TextChunk chunk;
        if (!reader.next(chunk)) {
          reader_done = true;
          break;
        }
        {
          std::lock_guard<std::mutex> lock(m);
          todo.emplace_back(next_read++, std::move(chunk));
        }
        have_work.notify_one();
      }
      if (next_consume == next_read) break;  // every chunk read has been consumed
      Done d;
      {
        std::unique_lock<std::mutex> lock(m);
        have_result.wait(lock, [&] { return done.count(next_consume) > 0; });
        auto it = done.find(next_consume);
        d = std::move(it->second);
        done.erase(it);
      }
      if (d.error) std::rethrow_exception(d.error);
      consume(std::move(d.chunk), std::move(d.result));
      ++next_consume;
    }
  } catch (...) {
    stop_workers(true);
    throw;
  }
  stop_workers(false);
}

}  // namespace nf
