#if canImport(Glibc)
import Glibc
#endif

/// The C allocator's settings that bound what a long send keeps resident. glibc gives
/// each thread that meets a busy allocator an arena of its own (up to eight per core)
/// and keeps freed memory in each; a sender's threads (event loops, the concurrency
/// pool, the journal's) then hold several megabytes apiece that they no longer use
/// (measured at 1M rows on PostgreSQL: 74 MB peak with the default, 65 MB with two).
/// `malloc.h` is not in Swift's Glibc module: the functions are looked up by name, and
/// where they are missing (another C library) nothing is done.
public enum ProcessMemory {
    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    private typealias MallocTrim = @convention(c) (Int) -> Int32

    /// glibc's `M_ARENA_MAX`.
    private static let arenaMax: Int32 = -8

    /// At most `count` arenas for the whole process. Called first thing in `main`, before
    /// threads start.
    public static func limitArenas(to count: Int32 = 2) {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMax, count)
        #endif
    }

    /// Gives the pages of freed memory back to the system (after an import, whose
    /// buffers the send does not reuse).
    public static func returnFreedMemory() {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
