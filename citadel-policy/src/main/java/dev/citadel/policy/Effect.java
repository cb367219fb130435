package dev.citadel.policy;

/** A statement's effect. */
public enum Effect { ALLOW, DENY }
