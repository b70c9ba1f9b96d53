package org.cloudviper.imaging.affinity;

import java.util.BitSet;

/**
 * A set of CPU ids in the kernel's two spellings: lists ({@code 0-3,8,10-11}, as in sysfs and
 * {@code Cpus_allowed_list}) and hex masks ({@code ff,ffffffff}, as in {@code Cpus_allowed}).
 */
public final class CpuSet {
    private CpuSet() {
    }

    /** Parses a CPU list; an empty string is the empty set. */
    public static BitSet parseList(String list) {
        BitSet set = new BitSet();
        String s = list.trim();
        if (s.isEmpty()) {
            return set;
        }
        for (String part : s.split(",")) {
            String p = part.trim();
            try {
                int dash = p.indexOf('-');
                if (dash < 0) {
                    set.set(Integer.parseInt(p));
                } else {
                    int from = Integer.parseInt(p.substring(0, dash));
                    int to = Integer.parseInt(p.substring(dash + 1));
                    if (to < from) {
                        throw new IllegalArgumentException("cpu list: " + list + " (range " + p + " runs backwards)");
                    }
                    set.set(from, to + 1);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cpu list: " + list + " (expected: ids and ranges like 0-3,8)", e);
            }
        }
        return set;
    }

    /** Parses a hex mask, comma-separated 32-bit words, most significant first. */
    public static BitSet parseMask(String mask) {
        String hex = mask.trim().replace(",", "");
        BitSet set = new BitSet();
        for (int i = 0; i < hex.length(); i++) {
            int digit = Character.digit(hex.charAt(hex.length() - 1 - i), 16);
            if (digit < 0) {
                throw new IllegalArgumentException("cpu mask: " + mask + " (expected: hex words like ff,ffffffff)");
            }
            for (int b = 0; b < 4; b++) {
                if ((digit & (1 << b)) != 0) {
                    set.set(4 * i + b);
                }
            }
        }
        return set;
    }

    /** The list spelling of a set: 0-3,8,10-11. */
    public static String format(BitSet set) {
        StringBuilder sb = new StringBuilder();
        for (int i = set.nextSetBit(0); i >= 0; ) {
            int end = set.nextClearBit(i) - 1;
            sb.append(sb.length() == 0 ? "" : ",").append(i);
            if (end > i) {
                sb.append('-').append(end);
            }
            i = set.nextSetBit(end + 1);
        }
        return sb.toString();
    }
}
