#if canImport(Glibc)
    import Glibc
#endif

/// Names the calling thread for the operating system (`top -H`, `ps -L`, perf, /proc), as
/// Foundation's `Thread.name` does not on Linux: writes `/proc/thread-self/comm` (what
/// `pthread_setname_np` does, which Swift's Glibc module does not export). At most 15 bytes
/// are kept; where /proc is not there, nothing happens.
public func nameCurrentThread(_ name: String) {
    #if canImport(Glibc)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    #endif
}
