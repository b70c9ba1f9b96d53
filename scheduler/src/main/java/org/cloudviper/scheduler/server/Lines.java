package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.PeerVersion;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Who may join the cluster, after the distributed lines of the peers already there
 * (docs/dask-protocol.md, section 4.4).
 *
 * <ul>
 *   <li>A peer of a release outside every line is refused: it would be sent messages it cannot
 *       read.</li>
 *   <li>The scheduler puts a client's graph into its own line's task form, which only Python
 *       workers of that line read; so a Python client and a Python worker of different lines are
 *       never connected at once, and the Python workers are of one line. The later of two such
 *       peers is refused, naming both lines. cloudviper's own peers (the Java worker, which reads
 *       every form, and JavaClient, whose Java tasks only Java workers run) are not held to this.</li>
 *   <li>Within a line, versions that differ are served with Dask's warning (distributed/versions.py
 *       error_message makes every mismatch a warning, never an error): the client raises
 *       {@code VersionMismatchWarning}, a worker logs it.</li>
 * </ul>
 */
final class Lines {
    private Lines() {
    }

    /** Why a registering peer is refused, or null. {@code who}: "client Client-1", "worker tcp://...". */
    static String refusal(String who, Peer.Role role, PeerVersion v, boolean cloudviper, Peers peers) {
        String unsupported = v.refusal(who);
        if (unsupported != null) {
            return unsupported;
        }
        if (cloudviper) {
            return null;
        }
        Generation mine = v.generation();
        for (Peer w : peers.workers()) {
            if (python(w) && (role == Peer.Role.CLIENT ? !w.generation.runsTasksOf(mine) : w.generation != mine)) {
                return mismatch(who, v, "worker " + w.id, w);
            }
        }
        if (role == Peer.Role.WORKER) {
            for (Peer c : peers.clients()) {
                if (python(c) && !mine.runsTasksOf(c.generation)) {
                    return mismatch(who, v, "client " + c.id, c);
                }
            }
        }
        return null;
    }

    private static boolean python(Peer p) {
        return !p.cloudviper;
    }

    private static String mismatch(String who, PeerVersion v, String other, Peer p) {
        return who + " runs " + v + " (the " + v.generation().range() + " line) but " + other + " runs "
                + p.version + " (the " + p.generation.range() + " line): cloudviper sends a client's tasks"
                + " to Python workers in the form of the client's line, which other lines cannot read, so"
                + " the Python clients and workers of one cluster must be of one line";
    }

    /**
     * Dask's "Mismatched versions found" table (distributed/versions.py error_message) for a peer of
     * {@code role} whose packages are {@code versions.packages}, against the Python workers (and, for
     * a worker, also the Python clients) connected; "" when every package agrees. cloudviper's
     * scheduler has no Python packages, so the Scheduler column Dask prints is left out.
     */
    static String warning(Peer.Role role, Map<?, ?> versions, Peers peers) {
        Map<?, ?> mine = Fields.map(versions, "packages");
        List<Map<?, ?>> others = new ArrayList<>();
        for (Peer w : peers.workers()) {
            if (python(w)) {
                others.add(w.packages);
            }
        }
        if (role == Peer.Role.WORKER) {
            for (Peer c : peers.clients()) {
                if (python(c)) {
                    others.add(c.packages);
                }
            }
        }
        if (others.isEmpty()) {
            return "";
        }
        TreeSet<String> packages = new TreeSet<>();
        for (Object k : mine.keySet()) {
            packages.add(String.valueOf(k));
        }
        for (Map<?, ?> o : others) {
            for (Object k : o.keySet()) {
                packages.add(String.valueOf(k));
            }
        }
        List<String[]> rows = new ArrayList<>();
        for (String pkg : packages) {
            String own = version(mine, pkg);
            TreeSet<String> theirs = new TreeSet<>();
            for (Map<?, ?> o : others) {
                theirs.add(version(o, pkg));
            }
            if (theirs.size() == 1 && theirs.first().equals(own)) {
                continue;
            }
            rows.add(new String[]{pkg, own, theirs.size() == 1 ? theirs.first() : theirs.toString()});
        }
        if (rows.isEmpty()) {
            return "";
        }
        String source = role == Peer.Role.CLIENT ? "Client" : "Worker";
        return "Mismatched versions found\n\n" + asciitable(new String[]{"Package", source,
                role == Peer.Role.CLIENT ? "Workers" : "Others"}, rows);
    }

    private static String version(Map<?, ?> packages, String pkg) {
        return packages.containsKey(pkg) ? String.valueOf(packages.get(pkg)) : "MISSING";
    }

    /** distributed.utils.asciitable. */
    static String asciitable(String[] columns, List<String[]> rows) {
        int[] widths = new int[columns.length];
        for (int i = 0; i < columns.length; i++) {
            widths[i] = columns[i].length();
            for (String[] r : rows) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        StringBuilder bar = new StringBuilder("+");
        for (int w : widths) {
            bar.append("-".repeat(w + 2)).append('+');
        }
        StringBuilder sb = new StringBuilder();
        sb.append(bar).append('\n').append(row(columns, widths)).append('\n').append(bar).append('\n');
        for (String[] r : rows) {
            sb.append(row(r, widths)).append('\n');
        }
        return sb.append(bar).toString();
    }

    private static String row(String[] cells, int[] widths) {
        StringBuilder sb = new StringBuilder("|");
        for (int i = 0; i < cells.length; i++) {
            sb.append(' ').append(cells[i]).append(" ".repeat(widths[i] - cells[i].length())).append(" |");
        }
        return sb.toString();
    }

    /** The packages of a {@code versions} structure, as plain values (kept per peer for {@link #warning}). */
    static Map<?, ?> packages(Object versions) {
        return versions instanceof Map<?, ?> v ? new LinkedHashMap<>(Fields.map(v, "packages")) : Map.of();
    }
}
