// A SQLite VFS over the system's default one that gathers a commit's
// writes to the write-ahead log into one write. SQLite writes each WAL
// frame with two system calls (its 24-byte header, then the page), so a
// commit of 17 pages makes 34; on this project's virtual machines that is
// several times the cost of one write of the same bytes
// (docs/performance.md, "Gathering the WAL's writes").
//
// The bytes are held only between SQLite's writes to the WAL and the next
// operation on that file that needs them on disk or could read them back:
// the commit's sync, a read, a size, a truncate or the close write them
// first (in order, at their offsets). A write that
// does not continue the held bytes writes those first. So the file holds
// what SQLite wrote by the time it syncs, and a commit becomes visible to
// other connections only after that sync (SQLite updates the WAL index
// after syncing the commit's frames, with synchronous=FULL as SqliteStore
// sets it). A write error surfaces from the operation that wrote the
// bytes (the sync, for a commit), which fails the commit as it would have.
// Held bytes go out in writes of at most 124 KiB (the unix VFS takes a
// write's size modulo 128 KiB), and at most 1 MiB is held.
// Every other file (the database, journals) goes straight through.
#ifndef LEADROUTE_RUNTIME_SQLITE_GATHER_VFS_H_
#define LEADROUTE_RUNTIME_SQLITE_GATHER_VFS_H_

namespace leadroute::runtime {

// The VFS's name for sqlite3_open_v2, registered (not as the default) on
// the first call; null if SQLite has no default VFS to wrap.
const char* GatheringVfs();

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_SQLITE_GATHER_VFS_H_
