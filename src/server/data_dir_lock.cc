// The --data-dir lock; see data_dir_lock.h.
#include "src/server/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/log.h"

namespace leadroute {

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(
    const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / kFileName).string();
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--data-dir ", dir, ": cannot open ", path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    // Who holds it: what that server wrote (bounded, one line).
    char buffer[512];
    const ssize_t n = pread(fd, buffer, sizeof buffer - 1, 0);
    close(fd);
    if (error != EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--data-dir ", dir, ": cannot lock ", path, ": ", strerror(error)));
    }
    std::string holder(buffer, n > 0 ? static_cast<size_t>(n) : 0);
    holder = absl::StrReplaceAll(absl::StripTrailingAsciiWhitespace(holder),
                                 {{"\n", ", "}});
    return absl::FailedPreconditionError(absl::StrCat(
        "--data-dir ", dir, " is in use by another leadroute serve (",
        holder.empty() ? "holder unknown" : holder,
        "); stop it first, or give this one another --data-dir"));
  }
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  const std::string text =
      absl::StrCat("pid ", getpid(), "\nhost ", host, "\nsince ",
                   Rfc3339Micros(absl::Now()), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) !=
                                   static_cast<ssize_t>(text.size())) {
    // The lock holds without the note; a second server is refused anyway.
    LogWarn("cannot write the data dir lock's holder",
            {{"path", path}, {"error", strerror(errno)}});
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { close(fd_); }

}  // namespace leadroute
