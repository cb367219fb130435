package dev.citadel.services.ecr.scan;

/**
 * An image the scanner cannot read: a layer that is not a tar archive (plain or gzip), one that is
 * compressed in a way the scanner does not read, one that breaks a limit. The message is safe to
 * show the image's owner (it names the layer by its position, never a server path) and fits the
 * {@code description} of an ECR {@code imageScanStatus} whose status is {@code FAILED}.
 */
public final class ImageScanException extends Exception {
    private static final long serialVersionUID = 1L;

    public ImageScanException(String message) {
        super(message);
    }

    public ImageScanException(String message, Throwable cause) {
        super(message, cause);
    }
}
