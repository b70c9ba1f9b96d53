package org.cloudviper.protocol.pickle;

import org.cloudviper.testkit.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The update-graph pickles of {@code src/test/resources/pickles/corpus} (see make_corpus.py and the
 * README there): real Dask 2024.12.1 client graphs with the keys and dependencies Python's own
 * scheduler derives from them.
 */
final class Corpus {
    private Corpus() {
    }

    record Case(String name, Path dir, Map<String, Object> meta) {
        byte[] graph() {
            return read(dir.resolve("graph.pkl"));
        }

        int buffers() {
            return ((Number) meta.get("buffers")).intValue();
        }

        String expectError() {
            return (String) meta.get("expect_error");
        }

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> tasks() {
            return (List<Map<String, Object>>) meta.get("tasks");
        }

        int taskCount() {
            return ((Number) meta.get("task_count")).intValue();
        }

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> layers() {
            return (List<Map<String, Object>>) meta.get("layers");
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Path root() {
        try {
            return Path.of(Corpus.class.getResource("/pickles/corpus").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Case> cases() {
        return cases(root());
    }

    static List<Case> cases(Path root) {
        List<Case> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path d : dirs.sorted().toList()) {
                Path meta = d.resolve("meta.json");
                if (Files.isRegularFile(meta)) {
                    out.add(new Case(d.getFileName().toString(), d, Json.readObject(meta)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Collections.unmodifiableList(out);
    }

    static Case get(String name) {
        return cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    /** A key of meta.json (make_corpus.enc) as the Java form GraphSlicer returns. */
    @SuppressWarnings("unchecked")
    static Object key(Object json) {
        if (json instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object o : l) {
                out.add(key(o));
            }
            return out;
        }
        if (json instanceof Map<?, ?> m) {
            Map<String, Object> mm = (Map<String, Object>) m;
            if (mm.containsKey("float")) {
                return Double.parseDouble((String) mm.get("float"));
            }
            return HexFormat.of().parseHex((String) mm.get("bytes"));
        }
        return json;
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
