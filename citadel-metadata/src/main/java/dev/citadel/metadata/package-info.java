/**
 * Citadel's relational metadata: accounts, the organization, IAM identities, and later every
 * service's resources, on SQLite (embedded, the default) or PostgreSQL (shared by several nodes),
 * with the same SQL and the same migrations on both.
 *
 * <h2>Using it</h2>
 * {@link dev.citadel.metadata.MetadataStore#open} connects, migrates and returns the store.
 * Repositories ({@code accounts.AccountRepository}, {@code iam.IamRepository}) are constructed on a
 * Jdbi {@code Handle}, so that one transaction spans several of them:
 * <pre>{@code
 * store.useTransaction(h -> {
 *     new AccountRepository(h).insertAccount(account);
 *     new IamRepository(h).insertRole(role);
 * });
 * }</pre>
 * Rows are records whose compact constructors validate them. A uniqueness violation throws
 * {@link dev.citadel.metadata.DuplicateKeyException}, whose {@code constraint()} names the rule
 * the same way on both dialects (constants on the repositories). Listings return a
 * {@link dev.citadel.metadata.Page} with an opaque next-page token; a token the listing did not
 * produce throws {@link java.lang.IllegalArgumentException}.
 *
 * <h2>Portable migrations</h2>
 * Flyway runs {@code classpath:db/migration/V<n>__<what>.sql} on both dialects. The SQL is the
 * common subset (TEXT, CHECK, named PRIMARY KEY and UNIQUE constraints, foreign keys,
 * {@code INSERT … ON CONFLICT DO NOTHING}, {@code substr}); the few differences are placeholders,
 * filled in by {@link dev.citadel.metadata.Dialect}:
 * <table>
 * <caption>Flyway placeholders</caption>
 * <tr><th>placeholder</th><th>SQLite</th><th>PostgreSQL</th><th>use</th></tr>
 * <tr><td>{@code ${int64}}</td><td>{@code INTEGER}</td><td>{@code BIGINT}</td>
 *     <td>integers, and timestamps as epoch milliseconds</td></tr>
 * <tr><td>{@code ${blob}}</td><td>{@code BLOB}</td><td>{@code BYTEA}</td><td>sealed secrets and other bytes</td></tr>
 * <tr><td>{@code ${strict}}</td><td>{@code STRICT}</td><td>(empty)</td>
 *     <td>after the closing parenthesis of every {@code CREATE TABLE}: SQLite then refuses a value
 *     of the wrong type instead of storing it</td></tr>
 * <tr><td>{@code ${binary}}</td><td>(empty)</td><td>{@code COLLATE "C"}</td>
 *     <td>after {@code TEXT} on the keys listings are ordered and paginated by, so both order by bytes</td></tr>
 * </table>
 * Timestamps are epoch milliseconds ({@code ${int64}}) mapped to {@link java.time.Instant}; the
 * row records truncate instants to the millisecond, so what is read back equals what was written.
 * Constraint names follow PostgreSQL's convention ({@code <table>_pkey},
 * {@code <table>_<columns>_key}) and are declared explicitly.
 *
 * <h2>Durability and concurrency</h2>
 * SQLite: WAL, {@code synchronous=FULL}, foreign keys on, a busy timeout, and transactions that
 * begin {@code IMMEDIATE}, so concurrent writers queue rather than deadlock; the database files
 * are {@code 0600} in a {@code 0700} directory. PostgreSQL: READ COMMITTED; rules that count rows
 * before inserting lock a parent row first ({@code IamRepository.lockUser}).
 */
package dev.citadel.metadata;
