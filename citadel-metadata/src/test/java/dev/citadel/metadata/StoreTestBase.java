package dev.citadel.metadata;

import dev.citadel.metadata.accounts.Account;
import dev.citadel.metadata.accounts.AccountRepository;
import dev.citadel.metadata.iam.AccessKey;
import dev.citadel.metadata.iam.IamRole;
import dev.citadel.metadata.iam.IamUser;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh store for each test on one dialect, holding the management account {@value #MGMT}.
 * A test class states its behaviours once, in an abstract contract, and runs them on both
 * dialects through two {@code @Nested} subclasses that choose {@link #sqlite} or {@link #postgres}.
 */
public abstract class StoreTestBase {
    public static final Instant T = Instant.parse("2026-11-22T10:00:00.123Z");
    public static final String MGMT = "111111111111";
    private static final AtomicLong IDS = new AtomicLong(1_000_000);

    @TempDir
    protected Path tempDir;
    protected MetadataConfig config;
    protected MetadataStore store;

    protected abstract MetadataConfig newConfig(Path dir);

    protected static MetadataConfig sqlite(Path dir) {
        return MetadataConfig.embedded(dir);
    }

    protected static MetadataConfig postgres() {
        return PostgresServer.shared().createDatabase();
    }

    @BeforeEach
    protected void openStore() {
        config = newConfig(tempDir);
        store = MetadataStore.open(config);
        store.useTransaction(h -> new AccountRepository(h).insertAccount(account(MGMT, "management@example.com")));
    }

    @AfterEach
    protected void closeStore() {
        store.close();
    }

    public static Account account(String id, String email) {
        return new Account(id, "arn:aws:organizations::" + MGMT + ":account/o-abcdefghij/" + id, "account " + id, email, "ACTIVE",
                "CREATED", T);
    }

    public static IamUser user(String accountId, String name, String path) {
        return new IamUser(accountId, name, uniqueId("AIDA"), path, "arn:aws:iam::" + accountId + ":user" + path + name, T);
    }

    public static IamRole role(String accountId, String name, String path) {
        return new IamRole(accountId, name, uniqueId("AROA"), path, "arn:aws:iam::" + accountId + ":role" + path + name,
                "{\"Version\":\"2012-10-17\",\"Statement\":[]}", "role " + name, 3600, T);
    }

    public static AccessKey accessKey(String accountId, String userName, byte[] sealed, Instant createdAt) {
        return new AccessKey(uniqueId("AKIA"), accountId, IamUser.nameKey(userName), sealed, "Active", createdAt);
    }

    public static String uniqueId(String prefix) {
        return prefix + String.format("%016d", IDS.incrementAndGet());
    }
}
