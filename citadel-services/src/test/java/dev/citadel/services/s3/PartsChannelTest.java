package dev.citadel.services.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.metadata.s3.S3Repository.StoredPart;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PartsChannelTest {
    /** Parts of the given sizes, each opened as an in-memory channel over its slice of {@code whole}. */
    private static PartsChannel channel(byte[] whole, int[] sizes, List<Integer> opened) {
        List<StoredPart> parts = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            parts.add(new StoredPart("u", i + 1, "b" + i, sizes[i]));
        }
        return new PartsChannel(parts, p -> {
            opened.add(p.partNumber());
            int start = 0;
            for (int i = 0; i < p.partNumber() - 1; i++) {
                start += sizes[i];
            }
            return dev.citadel.core.ReadOnlyChannel.of(Arrays.copyOfRange(whole, start, start + (int) p.size()));
        });
    }

    @Test
    void readsEveryRangeAcrossPartBoundaries() throws IOException {
        int[] sizes = {7, 0, 13, 1, 9};
        byte[] whole = new byte[30];
        new Random(1).nextBytes(whole);
        for (int from = 0; from < whole.length; from++) {
            for (int to = from; to <= whole.length; to++) {
                try (PartsChannel c = channel(whole, sizes, new ArrayList<>())) {
                    c.position(from);
                    ByteBuffer out = ByteBuffer.allocate(to - from);
                    while (out.hasRemaining() && c.read(out) >= 0) {
                        // keep reading
                    }
                    assertThat(out.array()).isEqualTo(Arrays.copyOfRange(whole, from, to));
                }
            }
        }
    }

    @Test
    void opensOnlyThePartsARangeTouches() throws IOException {
        int[] sizes = {10, 10, 10, 10};
        List<Integer> opened = new ArrayList<>();
        try (PartsChannel c = channel(new byte[40], sizes, opened)) {
            c.position(15);
            c.read(ByteBuffer.allocate(10));
            c.read(ByteBuffer.allocate(10));
        }
        assertThat(opened).containsExactly(2, 3);
    }

    @Test
    void endsAtItsSizeAndRefusesWrites() throws IOException {
        try (PartsChannel c = channel(new byte[5], new int[] {5}, new ArrayList<>())) {
            assertThat(c.size()).isEqualTo(5);
            c.position(5);
            assertThat(c.read(ByteBuffer.allocate(1))).isEqualTo(-1);
            assertThatThrownBy(() -> c.write(ByteBuffer.allocate(1))).isInstanceOf(java.nio.channels.NonWritableChannelException.class);
        }
    }

    @Test
    void aPartShorterThanRecordedIsAnError() {
        List<StoredPart> parts = List.of(new StoredPart("u", 1, "b", 10));
        PartsChannel c = new PartsChannel(parts, p -> dev.citadel.core.ReadOnlyChannel.of(new byte[4]));
        assertThatThrownBy(() -> {
            ByteBuffer out = ByteBuffer.allocate(10);
            while (out.hasRemaining()) {
                c.read(out);
            }
        }).isInstanceOf(IOException.class).hasMessageContaining("ended before");
    }
}
