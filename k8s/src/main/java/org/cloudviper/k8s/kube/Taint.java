package org.cloudviper.k8s.kube;

/**
 * A taint as {@code kubectl taint} spells it, {@code KEY[=VALUE]:EFFECT}; worker pods get the matching
 * toleration.
 */
public record Taint(String key, String value, String effect) {

    public static Taint parse(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("taint: " + s + " (expected: KEY[=VALUE]:EFFECT)");
        }
        String kv = s.substring(0, colon);
        String effect = s.substring(colon + 1);
        if (!effect.equals("NoSchedule") && !effect.equals("PreferNoSchedule") && !effect.equals("NoExecute")) {
            throw new IllegalArgumentException("taint effect: " + effect
                    + " (expected: NoSchedule, PreferNoSchedule or NoExecute)");
        }
        int eq = kv.indexOf('=');
        return eq < 0 ? new Taint(kv, null, effect) : new Taint(kv.substring(0, eq), kv.substring(eq + 1), effect);
    }

    @Override
    public String toString() {
        return key + (value == null ? "" : "=" + value) + ":" + effect;
    }
}
