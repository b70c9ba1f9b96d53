package org.cloudviper.protocol.message;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A peer's distributed version ({@code versions["packages"]["distributed"]}, calendar versioning
 * {@code YEAR.MONTH.PATCH}), parsed once per peer. Every suffix a release line carries is ignored
 * the same way ({@code 2024.1rc1}, {@code 2022.12.1+ds.1} of Debian, {@code 2024.12.1.dev3+g1a2b}),
 * so all of cloudviper reads a given string as the same version and {@link #generation()}.
 *
 * @param text the string the peer sent, for logs and error messages
 */
public record DaskVersion(int year, int month, int patch, String text) implements Comparable<DaskVersion> {
    private static final Pattern CALVER = Pattern.compile("(\\d{4})\\.(\\d{1,2})(?:\\.(\\d{1,3}))?(?![0-9]).*");

    public DaskVersion {
        if (month < 1 || month > 12) {
            throw new IllegalArgumentException("distributed version month: " + month + " (expected: 1 .. 12)");
        }
    }

    /** {@code "2024.12.1"} and the like; throws {@link IllegalArgumentException} on anything else. */
    public static DaskVersion parse(String text) {
        Matcher m = CALVER.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("distributed version: '" + text + "' (expected: YEAR.MONTH[.PATCH])");
        }
        int patch = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
        return new DaskVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), patch, text.strip());
    }

    /**
     * The distributed version inside a {@code versions} structure (register-client, register-worker,
     * a {@code versions} reply: {@code packages.distributed}, or a scheduler's
     * {@code scheduler.packages.distributed}); empty when there is none or it cannot be read.
     */
    public static Optional<DaskVersion> ofVersions(Object versions) {
        String s = statedIn(versions);
        if (s == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(s));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The string a {@code versions} structure names as the distributed version, or null. */
    static String statedIn(Object versions) {
        if (!(versions instanceof Map<?, ?> v)) {
            return null;
        }
        String s = Fields.str(Fields.map(v, "packages"), "distributed");
        if (s == null) {
            s = Fields.str(Fields.map(Fields.map(v, "scheduler"), "packages"), "distributed");
        }
        return s;
    }

    /** The line whose message shapes a peer of this version speaks; empty for a release outside every line. */
    public Optional<Generation> generation() {
        return Generation.forVersion(this);
    }

    @Override
    public int compareTo(DaskVersion o) {
        int c = Integer.compare(year, o.year);
        if (c == 0) {
            c = Integer.compare(month, o.month);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return text;
    }
}
