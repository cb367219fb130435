package dev.citadel.pipeline;

import static java.util.Objects.requireNonNull;

import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ServiceDefinition;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The services Citadel answers and the operations of each. An operation is registered only with a
 * complete {@link OperationSpec} for a known service, and only once; the registry is frozen before
 * the listener starts.
 */
public final class OperationRegistry {
    private final Map<String, ServiceDefinition> services = new HashMap<>();
    private final Map<String, ServiceDefinition> byTargetPrefix = new HashMap<>();
    private final Map<String, List<ServiceDefinition>> bySigningName = new HashMap<>();
    private final Map<String, Map<String, Operation>> operations = new HashMap<>();
    private volatile boolean frozen;

    public OperationRegistry service(ServiceDefinition service) {
        requireNonNull(service, "service is null");
        checkOpen();
        if (services.putIfAbsent(service.id(), service) != null) {
            throw new IllegalArgumentException("service registered twice: " + service.id());
        }
        bySigningName.computeIfAbsent(service.signingName(), k -> new java.util.ArrayList<>()).add(service);
        if (!service.targetPrefix().isEmpty()) {
            byTargetPrefix.put(service.targetPrefix(), service);
        }
        operations.put(service.id(), new HashMap<>());
        return this;
    }

    public OperationRegistry register(Operation operation) {
        requireNonNull(operation, "operation is null");
        checkOpen();
        OperationSpec spec = operation.spec();
        if (spec == null) {
            throw new IllegalArgumentException(operation.getClass().getName() + " has no operation spec");
        }
        Map<String, Operation> ops = operations.get(spec.service());
        if (ops == null) {
            throw new IllegalArgumentException("operation " + spec.name() + " names unknown service " + spec.service());
        }
        for (String action : spec.actions()) {
            if (!action.startsWith(services.get(spec.service()).iamPrefix() + ":")) {
                throw new IllegalArgumentException(spec.name() + ": action " + action + " is not in the service's namespace");
            }
        }
        if (ops.putIfAbsent(spec.name(), operation) != null) {
            throw new IllegalArgumentException("operation registered twice: " + spec.service() + ":" + spec.name());
        }
        return this;
    }

    public OperationRegistry registerAll(Collection<? extends Operation> all) {
        all.forEach(this::register);
        return this;
    }

    public void freeze() {
        frozen = true;
    }

    public Optional<ServiceDefinition> service(String id) {
        return Optional.ofNullable(services.get(id));
    }

    /** The services that sign with this name, in registration order. */
    public List<ServiceDefinition> servicesSignedAs(String signingName) {
        return bySigningName.getOrDefault(signingName, List.of());
    }

    public Optional<ServiceDefinition> serviceByTargetPrefix(String prefix) {
        return Optional.ofNullable(byTargetPrefix.get(prefix));
    }

    public Optional<Operation> operation(String service, String name) {
        Map<String, Operation> ops = operations.get(service);
        return ops == null ? Optional.empty() : Optional.ofNullable(ops.get(name));
    }

    public List<Operation> operations() {
        return operations.values().stream().flatMap(m -> m.values().stream()).toList();
    }

    public Collection<ServiceDefinition> services() {
        return List.copyOf(services.values());
    }

    private void checkOpen() {
        if (frozen) {
            throw new IllegalStateException("the operation registry is frozen once the server starts");
        }
    }
}
