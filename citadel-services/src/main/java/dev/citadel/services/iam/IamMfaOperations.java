package dev.citadel.services.iam;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.citadel.core.AwsException;
import dev.citadel.core.SecretBytes;
import dev.citadel.metadata.DuplicateKeyException;
import dev.citadel.metadata.iam.IamRepository;
import dev.citadel.metadata.iam.IamUser;
import dev.citadel.metadata.iam.MfaDeviceRepository;
import dev.citadel.pipeline.Operation;
import dev.citadel.pipeline.RequestContext;
import dev.citadel.pipeline.spec.OperationSpec;
import dev.citadel.pipeline.spec.ResourceResolver;
import dev.citadel.services.Inputs;
import dev.citadel.services.accounts.AccountDirectory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * IAM virtual MFA devices: created with a random 160-bit seed (returned once, Base32, with the
 * otpauth URI an authenticator app takes, and stored sealed), enabled for a user with two
 * consecutive codes, deactivated, deleted, listed.
 */
final class IamMfaOperations {
    private static final Pattern SERIAL = Pattern.compile("[\\w+=/:,.@-]+");
    private static final int MAX_DEVICES_PER_USER = 8;

    private final AccountDirectory directory;
    private final MfaVerifier verifier;
    private final java.security.SecureRandom random = new java.security.SecureRandom();

    IamMfaOperations(AccountDirectory directory, MfaVerifier verifier) {
        this.directory = directory;
        this.verifier = verifier;
    }

    List<Operation> operations() {
        return List.of(
                Operation.of(OperationSpec.builder("iam", "CreateVirtualMFADevice").maxBodyBytes(64 * 1024)
                        .sensitive("Base32StringSeed", "QRCodePNG")
                        .conditionKeys(IamPolicyOperations.requestTags())
                        .resources((ctx, in) -> List.of("arn:aws:iam::" + ctx.principal().account() + ":mfa" + in.path("Path").asText("/")
                                + in.path("VirtualMFADeviceName").asText(""))).build(), this::create),
                Operation.of(userSpec("EnableMFADevice").build(), this::enable),
                Operation.of(userSpec("DeactivateMFADevice").build(), this::deactivate),
                Operation.of(userSpec("ListMFADevices").readOnly().build(), this::listForUser),
                Operation.of(OperationSpec.builder("iam", "DeleteVirtualMFADevice").maxBodyBytes(64 * 1024)
                        .resources((ctx, in) -> List.of(in.path("SerialNumber").asText(""))).build(), this::delete),
                Operation.of(OperationSpec.builder("iam", "ListVirtualMFADevices").resources(ResourceResolver.ALL).readOnly().build(),
                        this::listVirtual));
    }

    /** The resource is the named user, or the caller. */
    private static OperationSpec.Builder userSpec(String name) {
        return OperationSpec.builder("iam", name).maxBodyBytes(64 * 1024).resources((ctx, input) -> {
            JsonNode user = input.get("UserName");
            String userName = user != null && user.isTextual() ? user.textValue() : ctx.principal().name();
            return List.of("arn:aws:iam::" + ctx.principal().account() + ":user/" + userName);
        });
    }

    JsonNode create(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        String name = in.requiredString("VirtualMFADeviceName", 1, 226, IamPolicyOperations.NAME);
        String path = in.optionalString("Path", 1, 512, IamPolicyOperations.PATH).orElse("/");
        IamPolicyOperations.tags(input);
        String account = ctx.principal().account().value();
        String serial = "arn:aws:iam::" + account + ":mfa" + path + name;
        byte[] seed = new byte[20];
        random.nextBytes(seed);
        SecretBytes secret = SecretBytes.copyOf(seed);
        String base32 = Totp.base32(seed).replace("=", "");
        java.util.Arrays.fill(seed, (byte) 0);
        byte[] sealed = verifier.seal(secret, serial);
        try {
            directory.store().useTransaction(h -> new MfaDeviceRepository(h).insert(serial, account, (path + name).toLowerCase(Locale.ROOT),
                    sealed, directory.now()));
        } catch (DuplicateKeyException e) {
            throw new AwsException("EntityAlreadyExists", 409, "MFADevice entity at the same path and name already exists.");
        }
        String uri = "otpauth://totp/" + URLEncoder.encode("Citadel:" + name + "@" + account, StandardCharsets.UTF_8).replace("+", "%20")
                + "?secret=" + base32 + "&issuer=Citadel&algorithm=SHA1&digits=6&period=30";
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode d = out.putObject("VirtualMFADevice");
        d.put("SerialNumber", serial);
        // Blobs on the wire are Base64: clients decode this to the Base32 seed's ASCII bytes.
        d.put("Base32StringSeed", Base64.getEncoder().encodeToString(base32.getBytes(StandardCharsets.US_ASCII)));
        d.put("QRCodePNG", Base64.getEncoder().encodeToString(QrPng.of(uri)));
        return out;
    }

    JsonNode enable(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        String userName = in.requiredString("UserName", 1, 64, IamPolicyOperations.NAME);
        String serial = in.requiredString("SerialNumber", 9, 256, SERIAL);
        String code1 = in.requiredString("AuthenticationCode1", 6, 6, MfaVerifier.CODE);
        String code2 = in.requiredString("AuthenticationCode2", 6, 6, MfaVerifier.CODE);
        String account = ctx.principal().account().value();
        IamUser user = directory.store().read(h -> new IamRepository(h).user(account, userName))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The user with name " + userName + " cannot be found."));
        var device = directory.store().read(h -> new MfaDeviceRepository(h).device(account, serial))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "VirtualMFADevice with serial number " + serial + " doesn't exist."));
        if (device.userName().isPresent()) {
            throw new AwsException("EntityAlreadyExists", 409, "MFA Device is already in use.");
        }
        byte[] seed = verifier.seed(device).revealBytes();
        long now = Totp.step(directory.now());
        long accepted = Long.MIN_VALUE;
        // Two consecutive codes: the second of the current step or one either side.
        for (long second = now - 1; second <= now + 1; second++) {
            boolean first = java.security.MessageDigest.isEqual(Totp.code(seed, second - 1).getBytes(StandardCharsets.US_ASCII),
                    code1.getBytes(StandardCharsets.US_ASCII));
            boolean next = java.security.MessageDigest.isEqual(Totp.code(seed, second).getBytes(StandardCharsets.US_ASCII),
                    code2.getBytes(StandardCharsets.US_ASCII));
            if (first && next) {
                accepted = second;
            }
        }
        java.util.Arrays.fill(seed, (byte) 0);
        if (accepted == Long.MIN_VALUE) {
            throw new AwsException("InvalidAuthenticationCode", 403, "Authentication code for device is not valid.");
        }
        long step = accepted;
        directory.store().useTransaction(h -> {
            new IamRepository(h).lockUser(account, user.userName());
            MfaDeviceRepository repo = new MfaDeviceRepository(h);
            if (repo.devicesOfUser(account, user.userName()).size() >= MAX_DEVICES_PER_USER) {
                throw new AwsException("LimitExceeded", 409, "Cannot exceed quota for MFADevicesPerUser: " + MAX_DEVICES_PER_USER);
            }
            if (!repo.enable(account, serial, user.userName(), step, directory.now())) {
                throw new AwsException("EntityAlreadyExists", 409, "MFA Device is already in use.");
            }
        });
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode deactivate(RequestContext ctx, ObjectNode input) {
        Inputs in = new Inputs(input, "ValidationError");
        String userName = in.optionalString("UserName", 1, 64, IamPolicyOperations.NAME).orElse(ctx.principal().name());
        String serial = in.requiredString("SerialNumber", 9, 256, SERIAL);
        String account = ctx.principal().account().value();
        boolean done = directory.store().inTransaction(h -> new MfaDeviceRepository(h).deactivate(account, serial, userName));
        if (!done) {
            throw new AwsException("NoSuchEntity", 404, "MFA Device with serial number " + serial + " does not exist.");
        }
        directory.identityChanged();
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode delete(RequestContext ctx, ObjectNode input) {
        String serial = new Inputs(input, "ValidationError").requiredString("SerialNumber", 9, 256, SERIAL);
        String account = ctx.principal().account().value();
        directory.store().useTransaction(h -> {
            MfaDeviceRepository repo = new MfaDeviceRepository(h);
            var device = repo.device(account, serial)
                    .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "VirtualMFADevice with serial number " + serial + " doesn't exist."));
            if (device.userName().isPresent()) {
                throw new AwsException("DeleteConflict", 409, "MFA VirtualDevice in use. Must deactivate first.");
            }
            repo.delete(account, serial);
        });
        return JsonNodeFactory.instance.objectNode();
    }

    JsonNode listForUser(RequestContext ctx, ObjectNode input) {
        String userName = new Inputs(input, "ValidationError").optionalString("UserName", 1, 64, IamPolicyOperations.NAME)
                .orElse(ctx.principal().name());
        String account = ctx.principal().account().value();
        IamUser user = directory.store().read(h -> new IamRepository(h).user(account, userName))
                .orElseThrow(() -> new AwsException("NoSuchEntity", 404, "The user with name " + userName + " cannot be found."));
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("MFADevices");
        for (var d : directory.store().read(h -> new MfaDeviceRepository(h).devicesOfUser(account, user.userName()))) {
            list.addObject().put("UserName", user.userName()).put("SerialNumber", d.serialNumber())
                    .put("EnableDate", d.enabledAt().orElseThrow().truncatedTo(ChronoUnit.SECONDS).toString());
        }
        out.put("IsTruncated", false);
        return out;
    }

    JsonNode listVirtual(RequestContext ctx, ObjectNode input) {
        String status = new Inputs(input, "ValidationError").optionalString("AssignmentStatus", 3, 10,
                Pattern.compile("Assigned|Unassigned|Any")).orElse("Any");
        Optional<Boolean> assigned = switch (status) {
            case "Assigned" -> Optional.of(true);
            case "Unassigned" -> Optional.of(false);
            default -> Optional.empty();
        };
        String account = ctx.principal().account().value();
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ArrayNode list = out.putArray("VirtualMFADevices");
        directory.store().read(h -> {
            IamRepository iam = new IamRepository(h);
            for (var d : new MfaDeviceRepository(h).devices(account, assigned)) {
                ObjectNode n = list.addObject().put("SerialNumber", d.serialNumber());
                if (d.userName().isPresent()) {
                    iam.user(account, d.userName().get()).ifPresent(u -> n.putObject("User").put("Path", u.path()).put("UserName", u.userName())
                            .put("UserId", u.userId()).put("Arn", u.arn()).put("CreateDate", u.createdAt().truncatedTo(ChronoUnit.SECONDS).toString()));
                    d.enabledAt().ifPresent(at -> n.put("EnableDate", at.truncatedTo(ChronoUnit.SECONDS).toString()));
                }
            }
            return null;
        });
        out.put("IsTruncated", false);
        return out;
    }
}
