package dev.citadel.pipeline.protocol;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;
import dev.citadel.core.AwsException;
import dev.citadel.pipeline.IncomingRequest;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SageMaker Runtime's REST routes (restJson1, signed as {@code sagemaker}): {@code POST
 * /endpoints/{EndpointName}/invocations} is InvokeEndpoint. Its input is the endpoint's name, the
 * members SageMaker carries in headers (ContentType, Accept, CustomAttributes, TargetVariant,
 * TargetModel, InferenceId) and the body as {@link S3Routes#BODY}; the operation answers with its
 * own encoded response ({@link S3Routes#ENCODED}).
 */
public final class RuntimeRoutes {
    private static final Pattern INVOCATIONS = Pattern.compile("/endpoints/([^/]{1,200})/invocations");

    private RuntimeRoutes() {
    }

    /** The operation a request names, or UnknownOperationException. */
    public static String operation(IncomingRequest request) {
        if (request.method().equals("POST") && INVOCATIONS.matcher(request.rawPath()).matches()) {
            return "InvokeEndpoint";
        }
        throw new AwsException("UnknownOperationException", 404, "No operation is routed at " + request.method() + " "
                + (request.rawPath().length() > 100 ? request.rawPath().substring(0, 100) : request.rawPath()).replaceAll("[^\\x20-\\x7e]", "?")
                + ".");
    }

    public static ObjectNode input(IncomingRequest request, byte[] body) {
        operation(request);
        Matcher m = INVOCATIONS.matcher(request.rawPath());
        if (!m.matches()) {
            throw new IllegalStateException("not routed");
        }
        ObjectNode in = JsonNodeFactory.instance.objectNode();
        String name;
        try {
            name = URLDecoder.decode(m.group(1).replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new AwsException("ValidationError", 400, "The endpoint name is not correctly percent-encoded.");
        }
        in.put("EndpointName", name);
        header(in, request, "content-type", "ContentType");
        header(in, request, "accept", "Accept");
        header(in, request, "x-amzn-sagemaker-custom-attributes", "CustomAttributes");
        header(in, request, "x-amzn-sagemaker-target-variant", "TargetVariant");
        header(in, request, "x-amzn-sagemaker-target-model", "TargetModel");
        header(in, request, "x-amzn-sagemaker-target-container-hostname", "TargetContainerHostname");
        header(in, request, "x-amzn-sagemaker-inference-id", "InferenceId");
        header(in, request, "x-amzn-sagemaker-enable-explanations", "EnableExplanations");
        header(in, request, "x-amzn-sagemaker-session-id", "SessionId");
        in.set(S3Routes.BODY, new POJONode(body));
        return in;
    }

    private static void header(ObjectNode in, IncomingRequest request, String header, String member) {
        String v = request.header(header);
        if (v != null) {
            in.put(member, v);
        }
    }
}
