package dev.citadel.pipeline;

import org.slf4j.MDC;

/**
 * The logging context of one request: while the pipeline works on a request, the thread's MDC
 * holds {@value #REQUEST_ID} (the id the answer carries as x-amzn-RequestId / x-amz-request-id),
 * and, once known, {@value #SERVICE}, {@value #OPERATION} and {@value #ACCOUNT_ID}; every log line
 * written meanwhile carries them. Only these four keys are ever set, and only with values Citadel
 * made or looked up (its generated id, a registered service id and operation name, the
 * authenticated principal's 12-digit account), never with bytes from the request, so nothing a
 * client sends and no secret reaches a log line through it. Closing restores what the thread's
 * MDC held before, so a call made as a role from inside another request leaves the outer
 * request's context intact.
 */
public final class RequestLogContext implements AutoCloseable {
    public static final String REQUEST_ID = "requestId";
    public static final String SERVICE = "service";
    public static final String OPERATION = "operation";
    public static final String ACCOUNT_ID = "accountId";
    private static final String[] KEYS = {REQUEST_ID, SERVICE, OPERATION, ACCOUNT_ID};

    private final String[] previous = new String[KEYS.length];

    private RequestLogContext(String requestId) {
        for (int i = 0; i < KEYS.length; i++) {
            previous[i] = MDC.get(KEYS[i]);
            if (i > 0 && previous[i] != null) {
                MDC.remove(KEYS[i]);
            }
        }
        MDC.put(REQUEST_ID, requestId);
    }

    /** Starts the context of a request on the current thread. */
    public static RequestLogContext open(String requestId) {
        return new RequestLogContext(requestId);
    }

    void service(String serviceId) {
        MDC.put(SERVICE, serviceId);
    }

    void operation(String name) {
        MDC.put(OPERATION, name);
    }

    void account(String accountId) {
        MDC.put(ACCOUNT_ID, accountId);
    }

    @Override
    public void close() {
        for (int i = 0; i < KEYS.length; i++) {
            if (previous[i] == null) {
                MDC.remove(KEYS[i]);
            } else {
                MDC.put(KEYS[i], previous[i]);
            }
        }
    }
}
