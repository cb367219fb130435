package dev.citadel.wire;

/** The AWS wire protocols Citadel speaks. */
public enum Protocol {
    AWS_JSON_1_0("application/x-amz-json-1.0"),
    AWS_JSON_1_1("application/x-amz-json-1.1"),
    AWS_QUERY("text/xml"),
    REST_XML("application/xml"),
    REST_JSON_1("application/json"),
    /** The OCI Distribution API of the container registry (not an AWS protocol; errors are {@code {"errors":[…]}}). */
    OCI_DISTRIBUTION("application/json");

    private final String contentType;

    Protocol(String contentType) {
        this.contentType = contentType;
    }

    /** The content type of this protocol's responses. */
    public String contentType() {
        return contentType;
    }
}
