package dev.citadel.services.sagemaker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.services.ecr.JobImages.ScanVerdict;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ImageScanStatusTest {
    private static ImageScanStatus.Scanned scan(String where, String status, int critical) {
        return new ImageScanStatus.Scanned(where, Optional.of(new ScanVerdict(status, critical)));
    }

    private static String statuses(ImageScanStatus.Scanned... scans) {
        return ImageScanStatus.statuses("logistic", List.of(scans)).toString();
    }

    @Test
    void everyImageScannedWithoutACriticalFindingIsCompleted() {
        assertThat(statuses(scan("a@sha256:1", "COMPLETE", 0), scan("b@sha256:2", "COMPLETE", 0)))
                .isEqualTo("[{\"Name\":\"logistic\",\"Status\":\"Completed\"}]");
    }

    @Test
    void anImageNeverScannedIsNotStartedEvenWhileAnotherScanRuns() {
        assertThat(statuses(scan("a@sha256:1", "IN_PROGRESS", 0), scan("b@sha256:2", "", 0)))
                .isEqualTo("[{\"Name\":\"logistic\",\"Status\":\"NotStarted\"}]");
        assertThat(statuses(scan("a@sha256:1", "COMPLETE", 0), scan("b@sha256:2", "IN_PROGRESS", 0)))
                .isEqualTo("[{\"Name\":\"logistic\",\"Status\":\"InProgress\"}]");
    }

    @Test
    void aCriticalFindingAFailedScanOrAMissingImageFailsNamingTheImage() {
        assertThat(statuses(scan("a@sha256:1", "", 0), scan("b@sha256:2", "COMPLETE", 2))).isEqualTo(
                "[{\"Name\":\"logistic\",\"Status\":\"Failed\",\"FailureReason\":\"The image b@sha256:2 has 2 unresolved CRITICAL findings.\"}]");
        assertThat(statuses(scan("a@sha256:1", "FAILED", 0))).contains("\"Failed\"", "The scan of the image a@sha256:1 failed");
        assertThat(statuses(scan("a@sha256:1", "UNSUPPORTED_IMAGE", 0))).contains("\"Failed\"", "cannot scan the image a@sha256:1");
        assertThat(statuses(new ImageScanStatus.Scanned("a@sha256:1", Optional.empty()))).contains("\"Failed\"",
                "The image a@sha256:1 is no longer in the registry.");
    }

    @Test
    void aProductWithoutImagesHasNoStatus() {
        assertThat(ImageScanStatus.statuses("logistic", List.of()).toString()).isEqualTo("[]");
    }
}
