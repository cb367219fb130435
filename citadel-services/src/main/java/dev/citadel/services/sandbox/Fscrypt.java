package dev.citadel.services.sandbox;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * Linux file-system encryption (fscrypt, v2 policies) on a directory of an ext4 file system made
 * with the {@code encrypt} feature: what makes a run's volume ciphertext on the host's disk.
 *
 * <p>The kernel holds the master key in the file system's own keyring from
 * {@link #addKey} until the file system is unmounted (or the key removed); every file created
 * below a directory given a policy by {@link #encrypt} has its contents encrypted with AES-256-XTS
 * and its name with AES-256-CTS, under a key derived (HKDF-SHA512) from the master key and a
 * per-file nonce. Sizes, counts, timestamps and permissions stay visible on disk; contents and
 * names do not.
 *
 * <p>There is no program for this on the hosts Citadel supports ({@code fscryptctl} is not
 * packaged for Debian 12), so the three ioctls are called directly through the foreign function
 * API; the key never leaves this process except into the kernel, and the native copy is zeroed.
 * The structures are those of {@code <linux/fscrypt.h>} (Linux 5.4 and later).
 */
final class Fscrypt {
    /** The master key's length: the longest fscrypt accepts, as long as AES-256-XTS's key. */
    static final int KEY_BYTES = 64;
    static final int IDENTIFIER_BYTES = 16;

    // _IOWR('f', 23, struct fscrypt_add_key_arg), _IOR('f', 19, struct fscrypt_policy_v1) (the size in
    // the number is v1's; the kernel reads the policy's version first), _IOWR('f', 24, struct fscrypt_remove_key_arg).
    private static final long FS_IOC_ADD_ENCRYPTION_KEY = 0xC0506617L;
    private static final long FS_IOC_SET_ENCRYPTION_POLICY = 0x800C6613L;
    private static final long FS_IOC_REMOVE_ENCRYPTION_KEY = 0xC0406618L;
    private static final int KEY_SPEC_TYPE_IDENTIFIER = 2;
    private static final byte POLICY_V2 = 2;
    private static final byte MODE_AES_256_XTS = 1;
    private static final byte MODE_AES_256_CTS = 4;
    /** FSCRYPT_POLICY_FLAGS_PAD_32: names padded to 32 bytes, so their lengths show less. */
    private static final byte FLAGS_PAD_32 = 3;
    private static final int O_RDONLY = 0;
    private static final int O_DIRECTORY = 0200000;
    private static final int O_CLOEXEC = 02000000;
    private static final int O_NOFOLLOW = 0400000;

    /** struct fscrypt_key_specifier: type, reserved, and a 32-byte union (the identifier is its first 16). */
    private static final StructLayout KEY_SPEC = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("type"),
            ValueLayout.JAVA_INT.withName("reserved"), MemoryLayout.sequenceLayout(32, ValueLayout.JAVA_BYTE).withName("u"));
    /** struct fscrypt_add_key_arg without its trailing raw[] (the key follows it). */
    private static final StructLayout ADD_KEY = MemoryLayout.structLayout(KEY_SPEC.withName("key_spec"),
            ValueLayout.JAVA_INT.withName("raw_size"), ValueLayout.JAVA_INT.withName("key_id"),
            MemoryLayout.sequenceLayout(8, ValueLayout.JAVA_INT).withName("reserved"));
    /** struct fscrypt_remove_key_arg. */
    private static final StructLayout REMOVE_KEY = MemoryLayout.structLayout(KEY_SPEC.withName("key_spec"),
            ValueLayout.JAVA_INT.withName("removal_status_flags"), MemoryLayout.sequenceLayout(5, ValueLayout.JAVA_INT).withName("reserved"));
    /** struct fscrypt_policy_v2. */
    private static final StructLayout POLICY = MemoryLayout.structLayout(ValueLayout.JAVA_BYTE.withName("version"),
            ValueLayout.JAVA_BYTE.withName("contents_encryption_mode"), ValueLayout.JAVA_BYTE.withName("filenames_encryption_mode"),
            ValueLayout.JAVA_BYTE.withName("flags"), ValueLayout.JAVA_BYTE.withName("log2_data_unit_size"),
            MemoryLayout.sequenceLayout(3, ValueLayout.JAVA_BYTE).withName("reserved"),
            MemoryLayout.sequenceLayout(IDENTIFIER_BYTES, ValueLayout.JAVA_BYTE).withName("master_key_identifier"));
    private static final long IDENTIFIER_OFFSET = ADD_KEY.byteOffset(MemoryLayout.PathElement.groupElement("key_spec"),
            MemoryLayout.PathElement.groupElement("u"));
    private static final VarHandle RAW_SIZE = ADD_KEY.varHandle(MemoryLayout.PathElement.groupElement("raw_size"));
    private static final VarHandle SPEC_TYPE = KEY_SPEC.varHandle(MemoryLayout.PathElement.groupElement("type"));

    private static final StructLayout ERRNO = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE = ERRNO.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN;
    private static final MethodHandle IOCTL;
    private static final MethodHandle CLOSE;
    private static final MethodHandle STRERROR;

    static {
        Linker linker = Linker.nativeLinker();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        OPEN = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
        IOCTL = linker.downcallHandle(linker.defaultLookup().find("ioctl").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), errno,
                Linker.Option.firstVariadicArg(2));
        CLOSE = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        STRERROR = linker.downcallHandle(linker.defaultLookup().find("strerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }

    private Fscrypt() {
    }

    /**
     * Gives the master key to the file system that holds {@code directory} (which needs
     * CAP_SYS_ADMIN) and returns the key's identifier, which {@link #encrypt} and
     * {@link #removeKey} name it by.
     */
    static byte[] addKey(Path directory, byte[] key) throws IOException {
        if (key.length != KEY_BYTES) {
            throw new IllegalArgumentException("a volume key has " + KEY_BYTES + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(ADD_KEY.byteSize() + KEY_BYTES, 8);
            try {
                SPEC_TYPE.set(arg, 0L, KEY_SPEC_TYPE_IDENTIFIER);
                RAW_SIZE.set(arg, 0L, KEY_BYTES);
                MemorySegment.copy(key, 0, arg, ValueLayout.JAVA_BYTE, ADD_KEY.byteSize(), KEY_BYTES);
                ioctl(arena, directory, FS_IOC_ADD_ENCRYPTION_KEY, arg, "add the volume's key to its file system");
                return arg.asSlice(IDENTIFIER_OFFSET, IDENTIFIER_BYTES).toArray(ValueLayout.JAVA_BYTE);
            } finally {
                arg.fill((byte) 0);
            }
        }
    }

    /**
     * Sets the v2 policy naming key {@code identifier} on {@code directory}, which must be empty:
     * everything made below it from now on is encrypted.
     */
    static void encrypt(Path directory, byte[] identifier) throws IOException {
        if (identifier.length != IDENTIFIER_BYTES) {
            throw new IllegalArgumentException("a key identifier has " + IDENTIFIER_BYTES + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment policy = arena.allocate(POLICY);
            policy.set(ValueLayout.JAVA_BYTE, 0, POLICY_V2);
            policy.set(ValueLayout.JAVA_BYTE, 1, MODE_AES_256_XTS);
            policy.set(ValueLayout.JAVA_BYTE, 2, MODE_AES_256_CTS);
            policy.set(ValueLayout.JAVA_BYTE, 3, FLAGS_PAD_32);
            MemorySegment.copy(identifier, 0, policy, ValueLayout.JAVA_BYTE, POLICY.byteOffset(
                    MemoryLayout.PathElement.groupElement("master_key_identifier")), IDENTIFIER_BYTES);
            ioctl(arena, directory, FS_IOC_SET_ENCRYPTION_POLICY, policy, "encrypt the volume's directory");
        }
    }

    /**
     * Takes the key back from the file system and evicts what the kernel has cached in plaintext
     * of the files it encrypts. Files still open stay readable until closed (the kernel's rule).
     */
    static void removeKey(Path directory, byte[] identifier) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment arg = arena.allocate(REMOVE_KEY);
            SPEC_TYPE.set(arg, 0L, KEY_SPEC_TYPE_IDENTIFIER);
            MemorySegment.copy(identifier, 0, arg, ValueLayout.JAVA_BYTE, IDENTIFIER_OFFSET, IDENTIFIER_BYTES);
            ioctl(arena, directory, FS_IOC_REMOVE_ENCRYPTION_KEY, arg, "remove the volume's key");
        }
    }

    private static void ioctl(Arena arena, Path directory, long request, MemorySegment arg, String what) throws IOException {
        MemorySegment state = arena.allocate(ERRNO);
        int fd;
        try {
            fd = (int) OPEN.invokeExact(state, arena.allocateFrom(directory.toString()), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (fd < 0) {
            throw new IOException("cannot open " + directory + " to " + what + ": " + error(state));
        }
        try {
            int r = (int) IOCTL.invokeExact(state, fd, request, arg);
            if (r != 0) {
                throw new IOException("cannot " + what + " (" + directory + "): " + error(state)
                        + " (volumes are encrypted with fscrypt: ext4 and a kernel built with CONFIG_FS_ENCRYPTION are needed)");
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            try {
                int ignored = (int) CLOSE.invokeExact(fd);
            } catch (Throwable t) {
                // nothing more to do with a descriptor that would not close
            }
        }
    }

    private static String error(MemorySegment state) {
        int errno = (int) ERRNO_VALUE.get(state, 0L);
        try {
            MemorySegment message = (MemorySegment) STRERROR.invokeExact(errno);
            return message.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
