package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.scheduler.state.KeyPrefix;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The HTML that {@code distributed.performance_report} writes to its file, made by the Java
 * scheduler: one self-contained page (inline SVG and CSS, no scripts, nothing fetched) with the
 * task stream of the block, compute time per function (Dask's key prefix), the transfers between
 * workers, the workers' merged profile as a table of the frames that took the most samples, and
 * the code of the block. Dask's own report draws the same data with Bokeh in the scheduler's
 * Python, which a Java scheduler does not have.
 */
final class PerformanceReportPage {
    private static final int WIDTH = 1000;
    private static final int LANE = 14;

    private PerformanceReportPage() {
    }

    private record Sum(long count, double seconds, double min, double max) {
        Sum add(double s) {
            return new Sum(count + 1, seconds + s, Math.min(min, s), Math.max(max, s));
        }

        static final Sum ZERO = new Sum(0, 0, Double.POSITIVE_INFINITY, 0);
    }

    static String render(List<TaskStream.Entry> stream, Map<String, Object> profile, double start, double stop,
                         String code, String scheduler, int workers, long threads) {
        Map<String, Sum> byFunction = new TreeMap<>();
        Map<String, Sum> transfers = new TreeMap<>();
        double compute = 0;
        double transfer = 0;
        long erred = 0;
        for (TaskStream.Entry e : stream) {
            erred += e.status().equals("error") ? 1 : 0;
            for (StartStop s : e.startstops()) {
                double d = Math.max(0, s.stop() - s.start());
                if ("compute".equals(s.action())) {
                    compute += d;
                    byFunction.merge(KeyPrefix.of(e.key()), Sum.ZERO.add(d), PerformanceReportPage::plus);
                } else if ("transfer".equals(s.action())) {
                    transfer += d;
                    transfers.merge((s.source() == null ? "?" : s.source()) + " \u2192 " + e.worker(), Sum.ZERO.add(d),
                            PerformanceReportPage::plus);
                }
            }
        }
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<title>Dask Performance Report</title><style>")
                .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}")
                .append("td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}")
                .append("</style></head><body>\n<h1>Dask Performance Report</h1>\n");
        h.append("<p>Made by the cloudviper scheduler at ").append(esc(scheduler)).append(".</p>\n<table>");
        row(h, "Select start time", Instant.ofEpochMilli((long) (start * 1000)).toString());
        row(h, "Duration", fmt(stop - start) + " s");
        row(h, "Tasks", String.valueOf(stream.size()));
        row(h, "Erred tasks", String.valueOf(erred));
        row(h, "Compute time", fmt(compute) + " s");
        row(h, "Transfer time", fmt(transfer) + " s");
        row(h, "Workers", String.valueOf(workers));
        row(h, "Threads", String.valueOf(threads));
        h.append("</table>\n<h2>Task stream</h2>\n");
        taskStream(h, stream, start, stop);
        h.append("<h2>Compute time per function</h2>\n");
        sums(h, "Function", byFunction);
        h.append("<h2>Transfers</h2>\n");
        if (transfers.isEmpty()) {
            h.append("<p>No data moved between workers.</p>\n");
        } else {
            sums(h, "From \u2192 to", transfers);
        }
        h.append("<h2>Worker profile (compute)</h2>\n");
        profile(h, profile);
        if (code != null && !code.isEmpty()) {
            h.append("<h2>Code</h2>\n<pre>").append(esc(code)).append("</pre>\n");
        }
        return h.append("</body></html>\n").toString();
    }

    private static Sum plus(Sum a, Sum b) {
        return new Sum(a.count + b.count, a.seconds + b.seconds, Math.min(a.min, b.min), Math.max(a.max, b.max));
    }

    /** One lane per worker thread; a rectangle per interval, coloured by function (transfers red, disk orange). */
    private static void taskStream(StringBuilder h, List<TaskStream.Entry> stream, double start, double stop) {
        Map<String, Integer> lanes = new LinkedHashMap<>();
        for (TaskStream.Entry e : stream) {
            lanes.putIfAbsent(e.worker() + " thread " + e.thread(), lanes.size());
        }
        double span = Math.max(stop - start, 1e-6);
        int height = Math.max(1, lanes.size()) * LANE + 20;
        h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                .append(height).append("\" role=\"img\" aria-label=\"task stream\">\n");
        for (TaskStream.Entry e : stream) {
            int lane = lanes.get(e.worker() + " thread " + e.thread());
            for (StartStop s : e.startstops()) {
                double x = (s.start() - start) / span * WIDTH;
                double w = Math.max(0.5, (s.stop() - s.start()) / span * WIDTH);
                String colour = e.status().equals("error") ? "#000" : switch (String.valueOf(s.action())) {
                    case "transfer" -> "#d62728";
                    case "disk-read", "disk-write" -> "#ff7f0e";
                    default -> colour(KeyPrefix.of(e.key()));
                };
                h.append("<rect x=\"").append(fmt(x)).append("\" y=\"").append(lane * LANE).append("\" width=\"")
                        .append(fmt(w)).append("\" height=\"").append(LANE - 2).append("\" fill=\"").append(colour)
                        .append("\"><title>").append(esc(KeyPrefix.of(e.key()) + " " + s.action() + " "
                                + fmt(s.stop() - s.start()) + " s on " + e.worker())).append("</title></rect>\n");
            }
        }
        h.append("<text x=\"0\" y=\"").append(height - 4).append("\" font-size=\"11\">0 s</text><text x=\"")
                .append(WIDTH - 60).append("\" y=\"").append(height - 4).append("\" font-size=\"11\">")
                .append(fmt(span)).append(" s</text>\n</svg>\n<p>Lanes: ");
        h.append(esc(String.join(", ", lanes.keySet()))).append("</p>\n");
    }

    private static void sums(StringBuilder h, String what, Map<String, Sum> sums) {
        h.append("<table><tr><th>").append(esc(what))
                .append("</th><th>count</th><th>total (s)</th><th>mean (s)</th><th>min (s)</th><th>max (s)</th></tr>\n");
        for (Map.Entry<String, Sum> e : sums.entrySet()) {
            Sum s = e.getValue();
            h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(s.count).append("</td><td>")
                    .append(fmt(s.seconds)).append("</td><td>").append(fmt(s.seconds / s.count)).append("</td><td>")
                    .append(fmt(s.min)).append("</td><td>").append(fmt(s.max)).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private record Frame(String where, long count) {
    }

    /** The 30 frames with the most samples, with their share of the root's. */
    private static void profile(StringBuilder h, Map<String, Object> tree) {
        List<Frame> frames = new ArrayList<>();
        collect(tree, frames, 0);
        long total = tree.get("count") instanceof Number n ? n.longValue() : 0;
        if (total == 0) {
            h.append("<p>No samples.</p>\n");
            return;
        }
        frames.sort(Comparator.comparingLong(Frame::count).reversed());
        h.append("<table><tr><th>frame</th><th>samples</th><th>share</th></tr>\n");
        for (Frame f : frames.subList(0, Math.min(30, frames.size()))) {
            h.append("<tr><td>").append(esc(f.where)).append("</td><td>").append(f.count).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.1f %%", 100.0 * f.count / total)).append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void collect(Object node, List<Frame> out, int depth) {
        if (!(node instanceof Map<?, ?> m) || depth > 200 || !(m.get("children") instanceof Map<?, ?> children)) {
            return;
        }
        for (Object child : children.values()) {
            if (child instanceof Map<?, ?> c && c.get("count") instanceof Number n) {
                Object d = c.get("description");
                String where = d instanceof Map<?, ?> dm
                        ? dm.get("name") + " (" + dm.get("filename") + ":" + dm.get("line_number") + ")"
                        : String.valueOf(c.get("identifier"));
                out.add(new Frame(where, n.longValue()));
                collect(c, out, depth + 1);
            }
        }
    }

    private static void row(StringBuilder h, String name, String value) {
        h.append("<tr><th>").append(esc(name)).append("</th><td>").append(esc(value)).append("</td></tr>\n");
    }

    private static String colour(String prefix) {
        int hue = Math.floorMod(prefix.hashCode(), 360);
        return "hsl(" + hue + ",60%,50%)";
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.3f", d);
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
