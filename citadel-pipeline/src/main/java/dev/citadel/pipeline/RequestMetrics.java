package dev.citadel.pipeline;

/**
 * What the pipeline tells the operator's metrics about each request it answered. Every label it
 * passes comes from Citadel's own tables (registered service ids and operation names, AWS error
 * codes raised by Citadel's code), never from the request's bytes, so the number of series stays
 * bounded whatever clients send. Implementations are called on the request's thread: they must be
 * cheap (no allocation in the steady state) and must not throw.
 */
public interface RequestMetrics {
    /**
     * One request answered (or, for {@link RequestPipeline#invokeAs}, one call made as a role).
     *
     * @param serviceId  the service the request addressed, or was taken to address when it could not be routed
     * @param operation  the registered operation's name, or "" when the request named none that exists
     * @param status     the HTTP status of the answer
     * @param errorCode  the AWS error code of the answer, or "" when it succeeded
     * @param nanos      from the request's arrival until its answer was ready (audit included)
     */
    void requestCompleted(String serviceId, String operation, int status, String errorCode, long nanos);

    /** The audit event of a request was made durable; {@code nanos} is how long that took after the request's end. */
    void auditRecorded(long nanos);

    /** Records nothing. */
    RequestMetrics NONE = new RequestMetrics() {
        @Override
        public void requestCompleted(String serviceId, String operation, int status, String errorCode, long nanos) {
        }

        @Override
        public void auditRecorded(long nanos) {
        }
    };
}
