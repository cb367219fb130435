package dev.citadel.pipeline.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.core.AwsException;
import dev.citadel.core.Ids;
import dev.citadel.pipeline.IncomingRequest;
import dev.citadel.pipeline.ProtocolAdapter;
import dev.citadel.pipeline.spec.ServiceDefinition;
import dev.citadel.wire.AwsJson;
import dev.citadel.wire.AwsQuery;
import dev.citadel.wire.EncodedResponse;
import dev.citadel.wire.Protocol;
import dev.citadel.wire.RestJson;
import dev.citadel.wire.RestXml;
import java.util.Map;
import java.util.Optional;

/** The adapter of each protocol, binding the codecs of {@code citadel-wire} to the pipeline. */
public final class ProtocolAdapters {
    private ProtocolAdapters() {
    }

    public static Map<Protocol, ProtocolAdapter> all() {
        return Map.of(
                Protocol.AWS_JSON_1_0, new Json(Protocol.AWS_JSON_1_0),
                Protocol.AWS_JSON_1_1, new Json(Protocol.AWS_JSON_1_1),
                Protocol.AWS_QUERY, new Query(),
                Protocol.REST_XML, new Rest(Protocol.REST_XML),
                Protocol.REST_JSON_1, new Rest(Protocol.REST_JSON_1),
                Protocol.OCI_DISTRIBUTION, new Oci());
    }

    /** awsJson: the operation is in {@code X-Amz-Target}, the input is the JSON body. */
    static final class Json implements ProtocolAdapter {
        private final Protocol protocol;

        Json(Protocol protocol) {
            this.protocol = protocol;
        }

        @Override
        public Optional<String> operationFromHeaders(ServiceDefinition service, IncomingRequest request) {
            return Optional.of(AwsJson.operation(request.header("x-amz-target"), service.targetPrefix()));
        }

        @Override
        public Call decode(ServiceDefinition service, IncomingRequest request, byte[] body) {
            if (!request.method().equals("POST")) {
                throw new AwsException("UnknownOperationException", 400, "Requests to this service must be POST.");
            }
            return new Call(AwsJson.operation(request.header("x-amz-target"), service.targetPrefix()), AwsJson.decode(body));
        }

        @Override
        public EncodedResponse encode(ServiceDefinition service, String operation, JsonNode output, String requestId) {
            return AwsJson.encode(protocol, output, requestId);
        }

        @Override
        public EncodedResponse encodeError(ServiceDefinition service, AwsException error, String requestId, boolean headRequest) {
            return AwsJson.encodeError(protocol, error, requestId, false);
        }

        @Override
        public AwsException unknownOperation(ServiceDefinition service, String operation) {
            return new AwsException("UnknownOperationException", 400, "Unknown operation " + operation + ".");
        }
    }

    /** awsQuery: the operation is the form's {@code Action}, which must come with the service's {@code Version}. */
    static final class Query implements ProtocolAdapter {
        @Override
        public Optional<String> operationFromHeaders(ServiceDefinition service, IncomingRequest request) {
            return Optional.empty();
        }

        @Override
        public Call decode(ServiceDefinition service, IncomingRequest request, byte[] body) {
            AwsQuery.Request q;
            if (request.method().equals("POST")) {
                String type = Optional.ofNullable(request.header("content-type")).orElse("");
                if (!type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
                    throw new AwsException("InvalidParameterValue", 400, "The request must be application/x-www-form-urlencoded.");
                }
                // Parameters may sit in the query string as well as the body; the body must be UTF-8.
                q = AwsQuery.decode(stripSignature(request.rawQuery()), body);
            } else if (request.method().equals("GET")) {
                q = AwsQuery.decode(stripSignature(request.rawQuery()));
            } else {
                throw new AwsException("InvalidAction", 400, "Requests to this service must be GET or POST.");
            }
            if (!q.version().equals(service.apiVersion())) {
                throw new AwsException("InvalidAction", 400,
                        "Could not find operation " + q.action() + " for version " + (q.version().isEmpty() ? "NO_VERSION_SPECIFIED" : q.version()));
            }
            return new Call(q.action(), q.input());
        }

        /** A presigned GET carries the X-Amz-* parameters in the same query; they are not input. */
        private static String stripSignature(String rawQuery) {
            StringBuilder sb = new StringBuilder(rawQuery.length());
            for (String pair : rawQuery.split("&")) {
                if (!pair.startsWith("X-Amz-") && !pair.isEmpty()) {
                    if (!sb.isEmpty()) {
                        sb.append('&');
                    }
                    sb.append(pair);
                }
            }
            return sb.toString();
        }

        @Override
        public EncodedResponse encode(ServiceDefinition service, String operation, JsonNode output, String requestId) {
            return AwsQuery.encode(operation, service.xmlNamespace(), output, requestId);
        }

        @Override
        public EncodedResponse encodeError(ServiceDefinition service, AwsException error, String requestId, boolean headRequest) {
            return AwsQuery.encodeError(service.xmlNamespace(), error, requestId);
        }

        @Override
        public AwsException unknownOperation(ServiceDefinition service, String operation) {
            return new AwsException("InvalidAction", 400, "Could not find operation " + operation + " for version " + service.apiVersion());
        }
    }

    /**
     * The REST protocols encode errors here; their operations (S3, SageMaker Runtime) route by
     * method and path and are bound by the issues that add those services.
     */
    static final class Rest implements ProtocolAdapter {
        private final Protocol protocol;

        Rest(Protocol protocol) {
            this.protocol = protocol;
        }

        @Override
        public Optional<String> operationFromHeaders(ServiceDefinition service, IncomingRequest request) {
            return switch (service.id()) {
                case "s3" -> Optional.of(S3Routes.route(request).operation());
                case "sagemaker-runtime" -> Optional.of(RuntimeRoutes.operation(request));
                default -> Optional.empty();
            };
        }

        @Override
        public Call decode(ServiceDefinition service, IncomingRequest request, byte[] body) {
            if (service.id().equals("sagemaker-runtime")) {
                return new Call(RuntimeRoutes.operation(request), RuntimeRoutes.input(request, body));
            }
            if (!service.id().equals("s3")) {
                throw notImplemented();
            }
            S3Routes.Route route = S3Routes.route(request);
            return new Call(route.operation(), S3Routes.input(route, request, body));
        }

        /**
         * A REST operation answers with an {@link EncodedResponse} of its own (status, headers and
         * body are the operation's), carried in the output as {@code __encoded}; the request id is
         * added here.
         */
        @Override
        public EncodedResponse encode(ServiceDefinition service, String operation, JsonNode output, String requestId) {
            JsonNode encoded = output.get(S3Routes.ENCODED);
            if (encoded == null || !encoded.isPojo() || !(((com.fasterxml.jackson.databind.node.POJONode) encoded).getPojo()
                    instanceof EncodedResponse response)) {
                throw notImplemented();
            }
            java.util.Map<String, String> headers = new java.util.LinkedHashMap<>(response.headers());
            if (protocol == Protocol.REST_JSON_1) {
                headers.put("x-amzn-RequestId", requestId);
            } else {
                headers.put("x-amz-request-id", requestId);
                headers.put("x-amz-id-2", Ids.requestId());
            }
            return new EncodedResponse(response.status(), response.contentType(), headers, response.body(), response.stream());
        }

        @Override
        public EncodedResponse encodeError(ServiceDefinition service, AwsException error, String requestId, boolean headRequest) {
            return protocol == Protocol.REST_XML
                    ? RestXml.encodeError(error, requestId, Ids.requestId(), headRequest)
                    : RestJson.encodeError(error, requestId);
        }

        @Override
        public AwsException unknownOperation(ServiceDefinition service, String operation) {
            return notImplemented();
        }

        private static AwsException notImplemented() {
            return new AwsException("NotImplemented", 501, "A header you provided implies functionality that is not implemented.");
        }
    }

    /**
     * The OCI Distribution API: the route names the operation; the operation answers with its own
     * {@link EncodedResponse} ({@code __encoded}, as the REST protocols); errors are the
     * registry's {@code {"errors":[{"code","message","detail"}]}}, and a 401 carries the Basic
     * challenge that makes Docker clients send the ECR token.
     */
    static final class Oci implements ProtocolAdapter {
        private static final java.util.Map<String, String> API_VERSION = java.util.Map.of("Docker-Distribution-API-Version", "registry/2.0");

        @Override
        public Optional<String> operationFromHeaders(ServiceDefinition service, IncomingRequest request) {
            return Optional.of(OciRoutes.route(request).operation());
        }

        @Override
        public Call decode(ServiceDefinition service, IncomingRequest request, byte[] body) {
            OciRoutes.Route route = OciRoutes.route(request);
            com.fasterxml.jackson.databind.node.ObjectNode in = OciRoutes.input(route, request);
            if (body.length > 0) {
                in.put("body", body);
            }
            return new Call(route.operation(), in);
        }

        @Override
        public EncodedResponse encode(ServiceDefinition service, String operation, JsonNode output, String requestId) {
            JsonNode encoded = output.get(S3Routes.ENCODED);
            if (encoded == null || !encoded.isPojo() || !(((com.fasterxml.jackson.databind.node.POJONode) encoded).getPojo()
                    instanceof EncodedResponse response)) {
                throw new AwsException("UNSUPPORTED", 405, "The operation is unsupported.");
            }
            java.util.Map<String, String> headers = new java.util.LinkedHashMap<>(response.headers());
            headers.putAll(API_VERSION);
            headers.put("x-amzn-RequestId", requestId);
            return new EncodedResponse(response.status(), response.contentType(), headers, response.body(), response.stream());
        }

        @Override
        public EncodedResponse encodeError(ServiceDefinition service, AwsException error, String requestId, boolean headRequest) {
            com.fasterxml.jackson.databind.node.ObjectNode body = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            String code = error.httpStatus() >= 500 ? "UNKNOWN" : error.code();
            body.putArray("errors").addObject().put("code", code).put("message", error.getMessage()).putObject("detail");
            java.util.Map<String, String> headers = new java.util.LinkedHashMap<>(API_VERSION);
            headers.put("x-amzn-RequestId", requestId);
            if (error.httpStatus() == 401) {
                headers.put("WWW-Authenticate", "Basic realm=\"Citadel container registry\",service=\"ecr.amazonaws.com\"");
            }
            byte[] bytes = headRequest ? new byte[0] : body.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return new EncodedResponse(error.httpStatus(), "application/json; charset=utf-8", headers, bytes);
        }

        @Override
        public AwsException unknownOperation(ServiceDefinition service, String operation) {
            return new AwsException("UNSUPPORTED", 405, "The operation is unsupported.");
        }
    }
}
