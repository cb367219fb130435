/**
 * Implementation details of the metadata module shared by its repositories: SQL error
 * translation, pagination tokens, and the validation used by the row records. Not for use outside
 * {@code dev.citadel.metadata}.
 */
package dev.citadel.metadata.internal;
