package dev.citadel.services.sandbox;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The seccomp filter of every container ({@code linux.seccomp} of the OCI runtime configuration):
 * a system call not named here fails with EPERM. The allowlist is what ordinary programs (a C
 * library, a shell, Python, NumPy, threads, sockets, files) use; what it leaves out is what a
 * job never needs and an attacker wants: mounting and namespaces ({@code mount}, {@code umount2},
 * {@code pivot_root}, {@code chroot}, {@code unshare}, {@code setns}, the new mount API, and
 * {@code clone} with any {@code CLONE_NEW*} flag), other processes' memory ({@code ptrace},
 * {@code process_vm_readv}/{@code writev}, {@code kcmp}, {@code pidfd_getfd}), the kernel's
 * keyring, BPF, perf events, {@code userfaultfd}, {@code io_uring}, modules, {@code kexec},
 * {@code reboot}, swap, clocks, {@code open_by_handle_at} and packet sockets ({@code socket} with
 * {@code AF_PACKET}).
 *
 * <p>{@code clone3} fails with ENOSYS rather than EPERM: its flags are in memory a filter cannot
 * read, so it cannot be allowed safely, and ENOSYS makes the C library fall back to {@code clone},
 * whose flags are checked. The filter covers x86-64 with its 32-bit and x32 ABIs and AArch64 (a
 * name unknown on one architecture is skipped there by libseccomp). On 32-bit x86
 * {@code socketcall} multiplexes the socket calls past the {@code AF_PACKET} check; packet and raw
 * sockets still need {@code CAP_NET_RAW}, which no container has.
 */
final class SeccompProfile {
    static final int EPERM = 1;
    static final int ENOSYS = 38;
    /** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
    static final long CLONE_NAMESPACE_FLAGS = 0x00020000L | 0x02000000L | 0x04000000L | 0x08000000L | 0x10000000L | 0x20000000L
            | 0x40000000L;
    static final int AF_PACKET = 17;

    /** Allowed with any arguments. */
    static final List<String> ALLOWED = List.of(
            // files and directories
            "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat", "dup", "dup2",
            "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fchdir", "fchmod", "fchmodat", "fchown",
            "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fremovexattr", "fsetxattr",
            "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futimesat", "getcwd",
            "getdents", "getdents64", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
            "ioctl", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listxattr", "llistxattr", "_llseek", "lremovexattr",
            "lseek", "lsetxattr", "lstat", "lstat64", "memfd_create", "mkdir", "mkdirat", "mknod", "mknodat", "newfstatat", "open",
            "openat", "openat2", "pipe", "pipe2", "pread64", "preadv", "preadv2", "pwrite64", "pwritev", "pwritev2", "read",
            "readahead", "readlink", "readlinkat", "readv", "removexattr", "rename", "renameat", "renameat2", "rmdir",
            "sendfile", "sendfile64", "setxattr", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
            "symlinkat", "sync", "sync_file_range", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat",
            "utime", "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev",
            // asynchronous I/O and waiting
            "epoll_create", "epoll_create1", "epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2",
            "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "io_setup", "io_submit", "poll",
            "ppoll", "ppoll_time64", "pselect6", "pselect6_time64", "select", "_newselect", "signalfd", "signalfd4",
            "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64",
            // memory
            "brk", "get_mempolicy", "madvise", "membarrier", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
            "mprotect", "mremap", "msync", "munlock", "munlockall", "munmap", "pkey_alloc", "pkey_free", "pkey_mprotect",
            "remap_file_pages",
            // processes, threads, signals, scheduling
            "arch_prctl", "capget", "capset", "execve", "execveat", "exit", "exit_group", "fork", "futex", "futex_time64",
            "futex_waitv", "getcpu", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
            "getgroups32", "getitimer", "getpgid", "getpgrp", "getpid", "getppid", "getpriority", "getresgid", "getresgid32",
            "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid", "get_thread_area", "gettid",
            "getuid", "getuid32", "ioprio_get", "ioprio_set", "kill", "pause", "pidfd_open", "pidfd_send_signal", "prctl",
            "prlimit64", "restart_syscall", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
            "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
            "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
            "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
            "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "setfsgid", "setfsgid32",
            "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority",
            "setregid", "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
            "setrlimit", "set_robust_list", "setsid", "set_thread_area", "set_tid_address", "setuid", "setuid32",
            "sigaltstack", "sigprocmask", "sigreturn", "tgkill", "tkill", "ugetrlimit", "vfork", "wait4", "waitid", "waitpid",
            // time
            "alarm", "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
            "clock_nanosleep_time64", "gettimeofday", "nanosleep", "time", "timer_create", "timer_delete", "timer_getoverrun",
            "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64", "times",
            // system information and randomness
            "getrandom", "sysinfo", "uname",
            // System V and POSIX IPC (the container has its own IPC namespace)
            "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
            "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
            "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
            // sockets (the network namespace has only loopback; socket itself is filtered below)
            "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recv", "recvfrom",
            "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "shutdown",
            "socketcall", "socketpair");

    /** Named here only to document them: everything not allowed is denied, these especially. */
    static final List<String> DENIED = List.of("mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen",
            "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "ptrace", "process_vm_readv",
            "process_vm_writev", "kcmp", "pidfd_getfd", "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "keyctl",
            "add_key", "request_key", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff",
            "open_by_handle_at", "name_to_handle_at", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
            "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "syslog", "quotactl", "iopl", "ioperm",
            "lookup_dcookie", "uselib", "vhangup", "mbind", "set_mempolicy", "move_pages", "migrate_pages", "fanotify_init",
            "modify_ldt", "memfd_secret", "process_madvise");

    private SeccompProfile() {
    }

    static ObjectNode json() {
        ObjectNode seccomp = JsonNodeFactory.instance.objectNode();
        seccomp.put("defaultAction", "SCMP_ACT_ERRNO");
        seccomp.put("defaultErrnoRet", EPERM);
        ArrayNode architectures = seccomp.putArray("architectures");
        for (String arch : List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM")) {
            architectures.add(arch);
        }
        ArrayNode syscalls = seccomp.putArray("syscalls");
        ObjectNode allowed = syscalls.addObject();
        ArrayNode names = allowed.putArray("names");
        ALLOWED.forEach(names::add);
        allowed.put("action", "SCMP_ACT_ALLOW");

        // clone's flags are its first argument on x86 and ARM: allowed without a namespace flag.
        ObjectNode clone = syscalls.addObject();
        clone.putArray("names").add("clone");
        clone.put("action", "SCMP_ACT_ALLOW");
        clone.putArray("args").addObject().put("index", 0).put("value", CLONE_NAMESPACE_FLAGS).put("valueTwo", 0)
                .put("op", "SCMP_CMP_MASKED_EQ");

        ObjectNode clone3 = syscalls.addObject();
        clone3.putArray("names").add("clone3");
        clone3.put("action", "SCMP_ACT_ERRNO");
        clone3.put("errnoRet", ENOSYS);

        ObjectNode socket = syscalls.addObject();
        socket.putArray("names").add("socket");
        socket.put("action", "SCMP_ACT_ALLOW");
        socket.putArray("args").addObject().put("index", 0).put("value", AF_PACKET).put("valueTwo", 0).put("op", "SCMP_CMP_NE");

        // personality(2) only to ask (0xffffffff) or to set the default Linux personality.
        for (long persona : List.of(0L, 0xffffffffL)) {
            ObjectNode personality = syscalls.addObject();
            personality.putArray("names").add("personality");
            personality.put("action", "SCMP_ACT_ALLOW");
            personality.putArray("args").addObject().put("index", 0).put("value", persona).put("valueTwo", 0)
                    .put("op", "SCMP_CMP_EQ");
        }
        return seccomp;
    }
}
