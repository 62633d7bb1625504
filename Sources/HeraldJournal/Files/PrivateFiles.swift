import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files herald writes hold phone numbers, spend and tokens: its folders are made 0700
/// and its files 0600, whatever the umask (a umask only takes bits away).
public enum PrivateFiles {
    public static let folderMode: mode_t = 0o700
    public static let fileMode: mode_t = 0o600

    /// Makes `path` and any missing parent folders, each 0700. Folders already there are
    /// left as they are (`herald doctor` reports loose ones).
    public static func makeFolder(_ path: String) throws {
        guard !path.isEmpty, !FileManager.default.fileExists(atPath: path) else { return }
        try makeFolder((path as NSString).deletingLastPathComponent)
        if mkdir(path, folderMode) != 0 && errno != EEXIST {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// Opens `path` for writing, created if need be (with its folder), emptied with
    /// `truncate`, appended to otherwise; mode 0600 even if it existed with another.
    public static func open(_ path: String, truncate: Bool = true) throws -> Int32 {
        try makeFolder((path as NSString).deletingLastPathComponent)
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), fileMode)
        guard fd >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: POSIXError(.init(rawValue: errno) ?? .EACCES)])
        }
        fchmod(fd, fileMode)
        return fd
    }

    /// A new or emptied file, 0600, for writing.
    public static func create(_ path: String) throws -> FileHandle {
        FileHandle(fileDescriptor: try open(path), closeOnDealloc: true)
    }

    /// Whether a file or folder at `path` can be read by other users (a mode with group or
    /// other bits), for `herald doctor`.
    public static func isLoose(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return info.st_mode & 0o077 != 0
    }

    /// The mode as `ls` would print its permission digits (`0644`).
    public static func mode(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return "?" }
        return "0" + String(info.st_mode & 0o777, radix: 8)
    }

    /// Takes group and other bits away (`herald doctor --repair`).
    public static func tighten(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let isFolder = info.st_mode & S_IFMT == S_IFDIR
        return chmod(path, isFolder ? folderMode : fileMode) == 0
    }
}
