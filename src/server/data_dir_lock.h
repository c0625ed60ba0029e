// DataDirLock: one server per --data-dir. Two servers on one store would
// each think they alone assign its leads (the second re-assigns what the
// first already did, then the first fails every commit), so `serve` holds
// an exclusive lock on DIR/serve.lock for as long as it runs and writes its
// pid, host and start time in it; a second one is refused with a message
// naming the holder. The lock is flock(2): the kernel drops it when the
// process dies, kill -9 included, so no stale lock needs clearing. Readers
// (`leadroute state`, `report`) do not take it.
#ifndef LEADROUTE_SRC_SERVER_DATA_DIR_LOCK_H_
#define LEADROUTE_SRC_SERVER_DATA_DIR_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace leadroute {

class DataDirLock {
 public:
  static constexpr char kFileName[] = "serve.lock";

  // Takes the lock on `dir` (which exists), or FAILED_PRECONDITION naming
  // the process that holds it.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(
      const std::string& dir);
  ~DataDirLock();  // releases it

  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_DATA_DIR_LOCK_H_
