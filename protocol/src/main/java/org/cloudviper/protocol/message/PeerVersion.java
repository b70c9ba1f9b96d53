package org.cloudviper.protocol.message;

import java.util.Map;

/**
 * The distributed version a peer states in a {@code versions} structure (register-client,
 * register-worker, a {@code versions} reply) and the line cloudviper speaks with it, read once per
 * peer. A peer that states no version (not a Dask release: cloudviper's own scheduler, test
 * doubles) is spoken to in the 2022 line; one that states a version outside every line, or one
 * that cannot be read, has no line and is refused with {@link #refusal}.
 *
 * @param stated     the string the peer sent, null when it sent none
 * @param version    {@code stated} read, null when absent or unreadable
 * @param generation the line, null when the peer is refused
 */
public record PeerVersion(String stated, DaskVersion version, Generation generation) {

    /**
     * The package cloudviper's own peers (the Java worker, JavaClient) add to the versions they
     * state, so that a cloudviper scheduler knows them: they read every line's task form, and their
     * tasks are Java tasks, whatever line they speak.
     */
    public static final String CLOUDVIPER_PACKAGE = "cloudviper";

    /** A peer that states no distributed version. */
    public static final PeerVersion UNSTATED = new PeerVersion(null, null, Generation.DASK_2022);

    public static PeerVersion of(Object versions) {
        String s = DaskVersion.statedIn(versions);
        if (s == null) {
            return UNSTATED;
        }
        DaskVersion v;
        try {
            v = DaskVersion.parse(s);
        } catch (IllegalArgumentException e) {
            return new PeerVersion(s, null, null);
        }
        return new PeerVersion(s, v, Generation.forVersion(v).orElse(null));
    }

    /** Whether a {@code versions} structure is a cloudviper peer's ({@link #CLOUDVIPER_PACKAGE}). */
    public static boolean isCloudviper(Object versions) {
        return versions instanceof Map<?, ?> v && Fields.map(v, "packages").containsKey(CLOUDVIPER_PACKAGE);
    }

    /** The version cloudviper's peers state as theirs ({@link #CLOUDVIPER_PACKAGE}). */
    public static String cloudviperVersion() {
        String v = PeerVersion.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    /** Whether cloudviper speaks a line that includes this peer's release. */
    public boolean supported() {
        return generation != null;
    }

    /** The peer's line, or {@code otherwise} when it has none. */
    public Generation generationOr(Generation otherwise) {
        return generation != null ? generation : otherwise;
    }

    /**
     * Why {@code who} (e.g. "client Client-1a2b", "worker tcp://10.0.0.7:40123") is refused, naming
     * its version and the supported ones; null when it is not.
     */
    public String refusal(String who) {
        if (supported()) {
            return null;
        }
        String what = version == null ? "an unreadable distributed version '" + stated + "'"
                : "distributed " + stated;
        return who + " runs " + what + ", which cloudviper does not speak: it speaks distributed "
                + Generation.supportedRanges() + " (docs/dask-protocol.md, section 4.4)";
    }

    @Override
    public String toString() {
        return stated == null ? "no distributed version" : "distributed " + stated;
    }
}
