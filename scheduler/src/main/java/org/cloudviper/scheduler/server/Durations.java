package org.cloudviper.scheduler.server;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Dask's duration strings ({@code dask.utils.parse_timedelta}): "10s", "500 ms", "1.5 minutes", "2h". */
final class Durations {
    private static final Pattern FORM = Pattern.compile("\\s*([0-9.eE+-]*)\\s*([a-zA-Z]*)\\s*");
    private static final Map<String, Double> UNITS = Map.ofEntries(
            Map.entry("s", 1.0), Map.entry("ms", 1e-3), Map.entry("us", 1e-6), Map.entry("ns", 1e-9),
            Map.entry("m", 60.0), Map.entry("h", 3600.0), Map.entry("d", 86400.0), Map.entry("w", 604800.0),
            Map.entry("second", 1.0), Map.entry("minute", 60.0), Map.entry("hour", 3600.0),
            Map.entry("day", 86400.0), Map.entry("week", 604800.0), Map.entry("millisecond", 1e-3),
            Map.entry("microsecond", 1e-6), Map.entry("nanosecond", 1e-9));

    private Durations() {
    }

    /** Seconds; a bare number is seconds. */
    static double seconds(String text) {
        Matcher m = FORM.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("duration: " + text + " (expected: e.g. 10s, 500ms, 2 minutes)");
        }
        double n = m.group(1).isEmpty() ? 1 : Double.parseDouble(m.group(1));
        String unit = m.group(2).toLowerCase(Locale.ROOT);
        if (unit.isEmpty()) {
            return n;
        }
        Double factor = UNITS.get(unit);
        if (factor == null && unit.endsWith("s")) {
            factor = UNITS.get(unit.substring(0, unit.length() - 1));
        }
        if (factor == null) {
            throw new IllegalArgumentException("duration unit: " + unit + " (expected: s, ms, us, ns, m, h, d, w)");
        }
        return n * factor;
    }
}
