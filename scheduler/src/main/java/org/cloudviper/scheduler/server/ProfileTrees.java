package org.cloudviper.scheduler.server;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The statistical profiles Dask's workers keep (distributed/profile.py): a tree of nodes
 * {@code {"count", "children": {identifier: node}, "identifier", "description"}}, each count the
 * samples taken in that frame. {@link #merge} is profile.merge (counts summed node by node) and
 * {@link #empty} profile.create, which the scheduler's own profile is (it runs no Python).
 */
final class ProfileTrees {
    private ProfileTrees() {
    }

    static Map<String, Object> empty() {
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("filename", "");
        description.put("name", "");
        description.put("line_number", 0L);
        description.put("line", "");
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("count", 0L);
        root.put("children", new LinkedHashMap<>());
        root.put("identifier", "root");
        root.put("description", description);
        return root;
    }

    /** The sum of {@code trees}; trees that are not profiles (a worker's error) are left out. */
    static Map<String, Object> merge(List<?> trees) {
        List<Map<?, ?>> nodes = new ArrayList<>();
        for (Object t : trees) {
            if (t instanceof Map<?, ?> m && m.containsKey("children")) {
                nodes.add(m);
            }
        }
        return nodes.isEmpty() ? empty() : mergeNodes(nodes);
    }

    private static Map<String, Object> mergeNodes(List<Map<?, ?>> nodes) {
        Map<Object, List<Map<?, ?>>> children = new LinkedHashMap<>();
        long count = 0;
        for (Map<?, ?> n : nodes) {
            if (n.get("count") instanceof Number c) {
                count += c.longValue();
            }
            if (n.get("children") instanceof Map<?, ?> cs) {
                for (Map.Entry<?, ?> e : cs.entrySet()) {
                    if (e.getValue() instanceof Map<?, ?> child) {
                        children.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(child);
                    }
                }
            }
        }
        Map<Object, Object> merged = new LinkedHashMap<>();
        children.forEach((k, v) -> merged.put(k, mergeNodes(v)));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("description", nodes.get(0).get("description"));
        r.put("children", merged);
        r.put("count", count);
        r.put("identifier", nodes.get(0).get("identifier"));
        return r;
    }
}
