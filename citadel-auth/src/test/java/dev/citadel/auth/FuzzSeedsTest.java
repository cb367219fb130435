package dev.citadel.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The regression-corpus seeds named {@code valid-*} are accepted, so the fuzzers start from inputs that go all the way. */
class FuzzSeedsTest {
    private static Stream<Path> valid(String corpus) throws IOException, URISyntaxException {
        Path dir = Path.of(FuzzSeedsTest.class.getResource(corpus).toURI());
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().startsWith("valid-")).sorted().toList();
            assertThat(found).as(corpus).isNotEmpty();
            return found.stream();
        }
    }

    static Stream<Path> authorizationHeaderSeeds() throws Exception {
        return valid("AuthorizationHeaderFuzzTestInputs/parse");
    }

    static Stream<Path> presignedQuerySeeds() throws Exception {
        return valid("PresignedQueryFuzzTestInputs/parse");
    }

    static Stream<Path> rawBodySeeds() throws Exception {
        return valid("AwsChunkedDecoderFuzzTestInputs/rawBody");
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @MethodSource("authorizationHeaderSeeds")
    void validAuthorizationHeaderSeedVerifies(Path seed) {
        String[] f = FuzzInputs.fields(read(seed), 4);
        HttpRequestView view = new HttpRequestView("GET", "/", f[3],
                Map.of("authorization", List.of(f[0]), "x-amz-date", List.of(f[1]), "host", List.of(f[2])));
        assertThat(FuzzInputs.VERIFIER.verify(view, SigV4Parser.parse(view), FuzzInputs.SECRET, Optional.empty(), SigV4.EMPTY_SHA256, false))
                .isNotNull();
    }

    @ParameterizedTest
    @MethodSource("presignedQuerySeeds")
    void validPresignedQuerySeedVerifies(Path seed) {
        String[] f = FuzzInputs.fields(read(seed), 2);
        HttpRequestView view = new HttpRequestView("GET", f[0], f[1], Map.of("host", List.of("example.amazonaws.com")));
        assertThat(FuzzInputs.VERIFIER.verify(view, SigV4Parser.parse(view), FuzzInputs.SECRET, Optional.empty(), SigV4.EMPTY_SHA256, false))
                .isNotNull();
    }

    @ParameterizedTest
    @MethodSource("rawBodySeeds")
    void validRawBodySeedDecodes(Path seed) throws IOException {
        byte[] input = read(seed);
        String text = new String(input, StandardCharsets.ISO_8859_1);
        String[] head = text.substring(0, text.indexOf('\n')).split(" ");
        byte[] body = Arrays.copyOfRange(input, text.indexOf('\n') + 1, input.length);
        try (AwsChunkedDecoder in = new AwsChunkedDecoder(new ByteArrayInputStream(body), AwsChunkedDecoder.Mode.valueOf(head[0]),
                Optional.of(AwsChunkedDecoderFuzzTest.SEED), Optional.of(head[1]), Long.parseLong(head[2]))) {
            assertThat(in.readAllBytes()).hasSize(Integer.parseInt(head[2]));
        }
    }
}
