#if canImport(Glibc)
import Glibc
#endif

/// The C allocator's settings that bound what a long send keeps resident. glibc gives
/// each thread that meets a busy allocator an arena of its own (up to eight per core)
/// and keeps freed memory in each; a sender's threads (event loops, the concurrency
/// pool, the journal's) then hold several megabytes apiece that they no longer use.
/// Measured at 1M rows on PostgreSQL (`herald-bench pg-e2e`): 72-80 MB peak with glibc's
/// defaults, 61-65 MB with two arenas, 55-60 MB with large blocks mapped on their own too.
/// `malloc.h` is not in Swift's Glibc module: the functions are looked up by name, and
/// where they are missing (another C library) nothing is done.
public enum ProcessMemory {
    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    private typealias MallocTrim = @convention(c) (Int) -> Int32

    /// glibc's `M_ARENA_MAX` and `M_MMAP_THRESHOLD`.
    private static let arenaMax: Int32 = -8
    private static let mmapThreshold: Int32 = -3

    /// At most `arenas` arenas for the whole process, and blocks of `mappedFrom` bytes or
    /// more mapped on their own, so that freeing one gives its pages back at once (by
    /// default glibc raises that threshold as large blocks are freed, up to 32 MB, after
    /// which an import's or a result's megabyte buffers stay in the arenas). Called first
    /// thing in `main`, before threads start.
    public static func configureAllocator(arenas: Int32 = 2, mappedFrom: Int32 = 256 << 10) {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(arenaMax, arenas)
        _ = mallopt(mmapThreshold, mappedFrom)
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
