package org.cloudviper.scheduler.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.text.SimpleDateFormat;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;

/**
 * The scheduler's recent log lines, as Dask keeps them for Client.get_scheduler_logs (a deque
 * handler on the "distributed" logger, {@code distributed.admin.log-length} = 10,000 lines, INFO
 * and above). The server's classes log through {@link #logger}, which records each line here and
 * passes it on to the SLF4J backend of the program (if any), so the lines do not depend on which
 * backend that is. One ring per JVM, as Dask's handler is one per process.
 */
final class SchedulerLogs {
    static final int LENGTH = 10_000;

    /** One line; {@code created} in seconds since the epoch. */
    record Line(double created, String level, String logger, String message) {
        /** Dask's {@code distributed.admin.log-format}: {@code %(asctime)s - %(name)s - %(levelname)s - %(message)s}. */
        String formatted() {
            SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss,SSS");
            return f.format(new Date((long) (created * 1000))) + " - " + logger + " - " + level + " - " + message;
        }
    }

    private static final ArrayDeque<Line> LINES = new ArrayDeque<>();

    private SchedulerLogs() {
    }

    static Logger logger(Class<?> owner) {
        return new Recording(LoggerFactory.getLogger(owner));
    }

    static void record(Line line) {
        synchronized (LINES) {
            if (LINES.size() == LENGTH) {
                LINES.removeFirst();
            }
            LINES.addLast(line);
        }
    }

    /**
     * Node.get_logs: at most {@code n} lines (all when null) no older than {@code start}, newest
     * first ({@code newestFirst}, 2024) or oldest first (2022), stopping at the first older line as
     * Dask does.
     */
    static List<Line> lines(double start, Long n, boolean newestFirst) {
        List<Line> r = new ArrayList<>();
        synchronized (LINES) {
            Iterator<Line> it = newestFirst ? LINES.descendingIterator() : LINES.iterator();
            while (it.hasNext()) {
                Line l = it.next();
                if (n != null && n > 0 && r.size() >= n || l.created() < start) {
                    break;
                }
                r.add(l);
            }
        }
        return r;
    }

    /** Records INFO and above; logs everything the backend wants. */
    private static final class Recording extends LegacyAbstractLogger {
        private static final long serialVersionUID = 1L;
        private final transient Logger delegate;

        Recording(Logger delegate) {
            this.delegate = delegate;
            this.name = delegate.getName();
        }

        @Override
        protected String getFullyQualifiedCallerName() {
            return null;
        }

        @Override
        protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                                   Throwable t) {
            String message = MessageFormatter.basicArrayFormat(pattern, args);
            if (level.toInt() >= Level.INFO.toInt()) {
                String text = message;
                if (t != null) {
                    StringWriter w = new StringWriter();
                    t.printStackTrace(new PrintWriter(w));
                    text = message + "\n" + w;
                }
                record(new Line(System.currentTimeMillis() / 1000.0, level.name().replace("WARN", "WARNING"),
                        name, text));
            }
            delegate.atLevel(level).setCause(t).log(message);
        }

        @Override
        public boolean isTraceEnabled() {
            return delegate.isTraceEnabled();
        }

        @Override
        public boolean isDebugEnabled() {
            return delegate.isDebugEnabled();
        }

        @Override
        public boolean isInfoEnabled() {
            return true;
        }

        @Override
        public boolean isWarnEnabled() {
            return true;
        }

        @Override
        public boolean isErrorEnabled() {
            return true;
        }
    }
}
