// The WAL-gathering VFS; see the header.
#include "runtime/sqlite_gather_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <string>

namespace leadroute::runtime {
namespace {

// Held bytes past this are written at once: a bound on the memory a
// commit's frames take here (a commit of 64 leads is about 200 KB).
constexpr size_t kMaxHeld = size_t{1} << 20;
// The most one write passes on: the unix VFS takes a write's size modulo
// 128 KiB (SQLite's own are a page at most, 64 KiB).
constexpr size_t kMaxWrite = 124 * 1024;

sqlite3_vfs* root = nullptr;  // the default VFS, wrapped

// What SQLite allocates per open file (szOsFile): this, then the wrapped
// VFS's own file.
struct GatherFile {
  sqlite3_file base;
  sqlite3_file* real;
  // The WAL only: bytes written by SQLite, not yet by us, from `held_at`.
  std::string* held;
  sqlite3_int64 held_at;
};

GatherFile* Of(sqlite3_file* f) { return reinterpret_cast<GatherFile*>(f); }
const sqlite3_io_methods* Real(GatherFile* f) { return f->real->pMethods; }

// Writes what is held; held bytes of a failed write are dropped (the
// commit they belong to fails, and SQLite writes its frames again).
int WriteHeld(GatherFile* f) {
  if (f->held == nullptr || f->held->empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  for (size_t done = 0; done < f->held->size() && rc == SQLITE_OK;) {
    const size_t n = std::min(kMaxWrite, f->held->size() - done);
    rc = Real(f)->xWrite(f->real, f->held->data() + done, static_cast<int>(n),
                         f->held_at + static_cast<sqlite3_int64>(done));
    done += n;
  }
  f->held->clear();
  return rc;
}

int Close(sqlite3_file* p) {
  GatherFile* f = Of(p);
  const int written = WriteHeld(f);
  const int rc = Real(f)->xClose(f->real);
  delete f->held;
  f->held = nullptr;
  return written != SQLITE_OK ? written : rc;
}

int Read(sqlite3_file* p, void* out, int n, sqlite3_int64 at) {
  GatherFile* f = Of(p);
  if (const int rc = WriteHeld(f); rc != SQLITE_OK) return rc;
  return Real(f)->xRead(f->real, out, n, at);
}

int Write(sqlite3_file* p, const void* in, int n, sqlite3_int64 at) {
  GatherFile* f = Of(p);
  if (f->held == nullptr) return Real(f)->xWrite(f->real, in, n, at);
  if (!f->held->empty() &&
      at != f->held_at + static_cast<sqlite3_int64>(f->held->size())) {
    if (const int rc = WriteHeld(f); rc != SQLITE_OK) return rc;
  }
  if (f->held->empty()) f->held_at = at;
  f->held->append(static_cast<const char*>(in), static_cast<size_t>(n));
  return f->held->size() >= kMaxHeld ? WriteHeld(f) : SQLITE_OK;
}

int Truncate(sqlite3_file* p, sqlite3_int64 size) {
  GatherFile* f = Of(p);
  if (const int rc = WriteHeld(f); rc != SQLITE_OK) return rc;
  return Real(f)->xTruncate(f->real, size);
}

int Sync(sqlite3_file* p, int flags) {
  GatherFile* f = Of(p);
  if (const int rc = WriteHeld(f); rc != SQLITE_OK) return rc;
  return Real(f)->xSync(f->real, flags);
}

int FileSize(sqlite3_file* p, sqlite3_int64* size) {
  GatherFile* f = Of(p);
  if (const int rc = WriteHeld(f); rc != SQLITE_OK) return rc;
  return Real(f)->xFileSize(f->real, size);
}

int Lock(sqlite3_file* p, int level) {
  return Real(Of(p))->xLock(Of(p)->real, level);
}
int Unlock(sqlite3_file* p, int level) {
  return Real(Of(p))->xUnlock(Of(p)->real, level);
}
int CheckReservedLock(sqlite3_file* p, int* out) {
  return Real(Of(p))->xCheckReservedLock(Of(p)->real, out);
}

// Passed on without writing what is held: none reads the file, and SQLite
// ignores what some return (size hints), which would lose an error.
int FileControl(sqlite3_file* p, int op, void* arg) {
  return Real(Of(p))->xFileControl(Of(p)->real, op, arg);
}

int SectorSize(sqlite3_file* p) {
  return Real(Of(p))->xSectorSize(Of(p)->real);
}
int DeviceCharacteristics(sqlite3_file* p) {
  return Real(Of(p))->xDeviceCharacteristics(Of(p)->real);
}

// Shared memory and memory mapping: the database file's, passed on when
// the wrapped VFS has them.
int ShmMap(sqlite3_file* p, int page, int size, int extend,
           void volatile** out) {
  const sqlite3_io_methods* m = Real(Of(p));
  if (m->iVersion < 2 || m->xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return m->xShmMap(Of(p)->real, page, size, extend, out);
}
int ShmLock(sqlite3_file* p, int offset, int n, int flags) {
  const sqlite3_io_methods* m = Real(Of(p));
  if (m->iVersion < 2 || m->xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
  return m->xShmLock(Of(p)->real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* p) {
  const sqlite3_io_methods* m = Real(Of(p));
  if (m->iVersion >= 2 && m->xShmBarrier != nullptr) {
    m->xShmBarrier(Of(p)->real);
  }
}
int ShmUnmap(sqlite3_file* p, int remove) {
  const sqlite3_io_methods* m = Real(Of(p));
  if (m->iVersion < 2 || m->xShmUnmap == nullptr) return SQLITE_OK;
  return m->xShmUnmap(Of(p)->real, remove);
}
int Fetch(sqlite3_file* p, sqlite3_int64 at, int n, void** out) {
  const sqlite3_io_methods* m = Real(Of(p));
  if (m->iVersion < 3 || m->xFetch == nullptr) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return m->xFetch(Of(p)->real, at, n, out);
}
int Unfetch(sqlite3_file* p, sqlite3_int64 at, void* mapped) {
  const sqlite3_io_methods* m = Real(Of(p));
  if (m->iVersion < 3 || m->xUnfetch == nullptr) return SQLITE_OK;
  return m->xUnfetch(Of(p)->real, at, mapped);
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs*, const char* name, sqlite3_file* p, int flags,
         int* out_flags) {
  GatherFile* f = Of(p);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->held = nullptr;
  f->held_at = 0;
  const int rc = root->xOpen(root, name, f->real, flags, out_flags);
  // SQLite calls xClose after a failed open only when pMethods is set.
  if (f->real->pMethods == nullptr) {
    f->base.pMethods = nullptr;
    return rc;
  }
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) {
    f->held = new (std::nothrow) std::string;  // none: writes go through
  }
  f->base.pMethods = &kMethods;
  return rc;
}

// The rest of the VFS is the wrapped one's.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return root->xDelete(root, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return root->xAccess(root, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return root->xFullPathname(root, name, n, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) {
  return root->xDlOpen(root, name);
}
void DlError(sqlite3_vfs*, int n, char* out) { root->xDlError(root, n, out); }
void (*DlSym(sqlite3_vfs*, void* lib, const char* symbol))(void) {
  return root->xDlSym(root, lib, symbol);
}
void DlClose(sqlite3_vfs*, void* lib) { root->xDlClose(root, lib); }
int Randomness(sqlite3_vfs*, int n, char* out) {
  return root->xRandomness(root, n, out);
}
int Sleep(sqlite3_vfs*, int micros) { return root->xSleep(root, micros); }
int CurrentTime(sqlite3_vfs*, double* out) {
  return root->xCurrentTime(root, out);
}
int GetLastError(sqlite3_vfs*, int n, char* out) {
  return root->xGetLastError != nullptr ? root->xGetLastError(root, n, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  if (root->iVersion >= 2 && root->xCurrentTimeInt64 != nullptr) {
    return root->xCurrentTimeInt64(root, out);
  }
  double days = 0;
  const int rc = root->xCurrentTime(root, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

sqlite3_vfs vfs;

}  // namespace

const char* GatheringVfs() {
  static std::once_flag once;
  static const char* name = nullptr;
  std::call_once(once, [] {
    root = sqlite3_vfs_find(nullptr);
    if (root == nullptr) return;
    vfs = sqlite3_vfs{};
    vfs.iVersion = 2;
    vfs.szOsFile = static_cast<int>(sizeof(GatherFile)) + root->szOsFile;
    vfs.mxPathname = root->mxPathname;
    vfs.zName = "leadroute-gather";
    vfs.xOpen = Open;
    vfs.xDelete = Delete;
    vfs.xAccess = Access;
    vfs.xFullPathname = FullPathname;
    vfs.xDlOpen = DlOpen;
    vfs.xDlError = DlError;
    vfs.xDlSym = DlSym;
    vfs.xDlClose = DlClose;
    vfs.xRandomness = Randomness;
    vfs.xSleep = Sleep;
    vfs.xCurrentTime = CurrentTime;
    vfs.xGetLastError = GetLastError;
    vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    if (sqlite3_vfs_register(&vfs, 0) == SQLITE_OK) name = vfs.zName;
  });
  return name;
}

}  // namespace leadroute::runtime
