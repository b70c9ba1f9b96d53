package org.cloudviper.protocol.pickle;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A graph that is one client.map layer is cut without an entry per key; its keys must still come
 * out as {@code dict(zip(keys, tasks))} holds them.
 */
class MapLayerTasksTest {
    @Test
    void aKeyNamedTwiceKeepsItsFirstPositionAndTakesItsLastTask() {
        int[][] p = MapLayerTasks.dictPositions(List.of("a", "b", "a", "c", "b"));
        assertArrayEquals(new int[]{0, 1, 3}, p[0]);
        assertArrayEquals(new int[]{2, 4, 3}, p[1]);
    }

    @Test
    void keysAreComparedAsTheGraphNamesThem() {
        // (x, 1) read as an int and as a long, and True, are one key to Python (1 == True)
        int[][] p = MapLayerTasks.dictPositions(List.of(List.of("x", 1), List.of("x", 1L), 1L, true, "1"));
        assertArrayEquals(new int[]{0, 2, 4}, p[0]);
        assertArrayEquals(new int[]{1, 3, 4}, p[1]);
    }

    @Test
    void distinctKeysKeepEveryPositionAcrossTableCollisions() {
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            keys.add("inc-" + i);
        }
        int[][] p = MapLayerTasks.dictPositions(keys);
        int[] all = new int[keys.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        assertArrayEquals(all, p[0]);
        assertArrayEquals(all, p[1]);
    }
}
