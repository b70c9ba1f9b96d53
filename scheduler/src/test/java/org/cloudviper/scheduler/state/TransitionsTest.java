package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.scheduler.state.TaskState.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transition function and the story: the table of legal moves is Dask's, an illegal move is
 * refused with the key's story, and {@link SchedulerState#story} answers by key and by stimulus id
 * from a bounded log.
 */
class TransitionsTest {
    private static final String A = address("a");
    private static final String C1 = "Client-1";

    private SimCluster c;

    @AfterEach
    void nothingLeftUnasserted() {
        if (c != null) {
            c.state.validate();
            c.out.assertEmpty();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The table
    // ------------------------------------------------------------------------------------------

    /** distributed/scheduler.py _TRANSITIONS_TABLE, 2022.12.1 and 2024.12.1 (which adds the last two). */
    private static final List<String> DASK_TABLE = List.of(
            "released waiting", "waiting released", "waiting processing", "waiting no-worker",
            "waiting queued", "waiting memory", "queued released", "queued processing",
            "processing released", "processing memory", "processing erred", "no-worker released",
            "no-worker processing", "released forgotten", "memory forgotten", "erred released",
            "memory released", "released erred",
            "queued erred", "no-worker erred");

    @Test
    void legalMovesAreDasksTablePlusScatteredDataAndSteals() {
        Set<String> expected = new HashSet<>(DASK_TABLE);
        expected.add("released memory"); // update_data: scattered data is in memory whatever the key was
        expected.add("processing processing"); // a stolen task moves to its thief (Stealing)
        Set<String> legal = new HashSet<>();
        for (Status from : Status.values()) {
            for (Status to : Status.values()) {
                if (LegalMoves.legal(from, to)) {
                    legal.add(from.daskName + " " + to.daskName);
                }
            }
        }
        assertEquals(expected, legal);
    }

    @Test
    void illegalMoveIsRefusedWithTheKeysStory() {
        c = new SimCluster();
        c.autoDeliver = false;
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");

        TaskState x = c.ts("x");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> c.state.transitionsForTest().transition(x, Status.PROCESSING));
        String m = e.getMessage();
        assertTrue(m.contains("from memory to processing for key x"), m);
        assertTrue(m.contains("x: released -> waiting (update-graph-"), m);
        assertTrue(m.contains("x: waiting -> processing (update-graph-"), m);
        assertTrue(m.contains("x: processing -> memory (task-finished-"), m);
        assertEquals("memory", c.state.queries().taskStatus("x"), "the refused move changed nothing");
    }

    @Test
    void forgottenIsFinal() {
        c = new SimCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        TaskState x = c.ts("x");
        c.clientReleasesKeys(C1, List.of("x"));
        assertEquals(Status.FORGOTTEN, x.status);
        for (Status to : Status.values()) {
            assertThrows(IllegalStateException.class, () -> c.state.transitionsForTest().transition(x, to),
                    () -> "forgotten -> " + to.daskName);
        }
    }

    // ------------------------------------------------------------------------------------------
    // The story
    // ------------------------------------------------------------------------------------------

    private static List<String> moves(List<StoryEntry> story) {
        List<String> r = new ArrayList<>();
        for (StoryEntry e : story) {
            r.add(e.key() + " " + e.start() + " -> " + e.finish());
        }
        return r;
    }

    @Test
    void storyOfAKeyFollowsItThroughItsLifeWithStimulusAndTime() {
        c = new SimCluster();
        c.autoDeliver = false;
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        double submitted = c.now;
        SchedulerToWorker.ComputeTask ct = c.out.takeCompute(A, "x");
        c.now = 5000;
        c.heartbeat(A);
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");
        c.clientReleasesKeys(C1, List.of("x"));
        c.out.takeFreed(A);

        List<StoryEntry> story = c.state.queries().story(List.of("x"));
        assertEquals(List.of("x released -> waiting", "x waiting -> processing", "x processing -> memory",
                "x memory -> released", "x released -> forgotten"), moves(story));
        assertEquals(ct.stimulusId(), story.get(1).stimulusId(), "the move and the compute-task it sent share a stimulus");
        assertTrue(story.get(2).stimulusId().startsWith("task-finished-"), story.get(2).stimulusId());
        assertTrue(story.get(3).stimulusId().startsWith("client-releases-keys-"), story.get(3).stimulusId());
        assertEquals(story.get(3).stimulusId(), story.get(4).stimulusId());
        assertEquals(submitted, story.get(0).timestamp(), "stamped with the update's time");
        assertEquals(5000, story.get(2).timestamp(), "stamped with the latest heartbeat's time");
        assertEquals(Map.of(), story.get(0).recommendations());
        assertEquals(List.of("x", "released", "waiting", Map.of(), story.get(0).stimulusId(), submitted),
                story.get(0).toList(), "Dask's Transition tuple");
    }

    @Test
    void storyOfAStimulusHasEveryMoveItCaused() {
        c = new SimCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.submit(C1, task("y", "x"));
        c.finish(A, "x");
        List<StoryEntry> finished = new ArrayList<>();
        for (StoryEntry e : c.state.queries().story(List.of("x"))) {
            if (e.finish().equals("memory")) {
                finished.add(e);
            }
        }
        assertEquals(1, finished.size());
        String sid = finished.get(0).stimulusId();
        // x's result made y ready, which went to the worker in the same event.
        List<String> caused = moves(c.state.queries().story(List.of(sid)));
        assertTrue(caused.contains("x processing -> memory"), caused.toString());
        assertTrue(caused.contains("y waiting -> processing"), caused.toString());
        for (StoryEntry e : c.state.queries().story(List.of(sid))) {
            assertEquals(sid, e.stimulusId());
        }
        assertEquals(List.of(), c.state.queries().story(List.of("no-such-key-or-stimulus")));
    }

    @Test
    void storyKeepsTheLastTransitionsOnly() {
        RecordingOutbox out = new RecordingOutbox();
        SchedulerState state = new SchedulerState(out, 1.1, 3, 0, 2500);
        state.onAddWorker(new WorkerRegistration(A, "a", 1, 1L << 30, Map.of(), 0));
        int n = 1000; // six transitions each (five for the two that find a free slot): ~6,000 moves,
                      // past the log's first size (1,024), through its growth and around it twice
        List<Object> keys = new ArrayList<>();
        List<GraphUpdate.NewTask> graph = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            keys.add("k-" + i);
            graph.add(task("k-" + i));
        }
        state.onUpdateGraph(new GraphUpdate(C1, graph, keys, false, 1, 0.1, "graph"));
        ArrayDeque<Object> running = new ArrayDeque<>();
        int finished = 0;
        do {
            for (SchedulerToWorker m : out.drainWorker(A)) {
                running.add(((SchedulerToWorker.ComputeTask) m).key());
            }
            Object key = running.poll();
            state.onTaskFinished(A, key, 8, null, "done-" + key);
            finished++;
        } while (finished < n);
        state.onClientReleasesKeys(C1, keys, "release");
        out.drainAll();
        assertEquals(6L * n - 2, state.queries().transitions());

        List<StoryEntry> all = state.queries().story(keys);
        assertEquals(2500, all.size(), "bounded");
        List<StoryEntry> released = state.queries().story(List.of("release"));
        assertEquals(2 * n, released.size(), "memory -> released -> forgotten for every key, the newest entries");
        assertEquals(released, all.subList(all.size() - 2 * n, all.size()), "oldest first, newest last");
        assertEquals(List.of("k-0 memory -> released", "k-0 released -> forgotten"), moves(state.queries().story(List.of("k-0"))));
        assertEquals(List.of(), state.queries().story(List.of("graph")), "the oldest entries fell off");
    }

    /** Stimulus ids and times are kept per event, in a ring of their own: entries keep theirs as both wrap. */
    @Test
    void storyKeepsEachEntrysStimulusAndTimeAcrossWraps() {
        RecordingOutbox out = new RecordingOutbox();
        SchedulerState state = new SchedulerState(out, 1.1, 3, 0, 7);
        state.onAddWorker(new WorkerRegistration(A, "a", 100, 1L << 30, Map.of(), 0));
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 20; i++) { // two moves each: released -> waiting -> processing
            keys.add("k-" + i);
            state.onUpdateGraph(new GraphUpdate(C1, List.of(task("k-" + i)), List.of("k-" + i), true, 100 + i,
                    0.1, "g-" + i));
        }
        out.drainAll();
        List<StoryEntry> all = state.queries().story(keys);
        assertEquals(7, all.size());
        assertEquals("k-16 waiting -> processing", moves(all).get(0), "the oldest kept entry");
        for (StoryEntry e : all) {
            int i = Integer.parseInt(((String) e.key()).substring(2));
            assertEquals("g-" + i, e.stimulusId(), e.toString());
            assertEquals(100 + i, e.timestamp(), e.toString());
        }
        assertEquals(List.of("k-19 released -> waiting", "k-19 waiting -> processing"),
                moves(state.queries().story(List.of("g-19"))));
    }

    @Test
    void storyCanBeOff() {
        RecordingOutbox out = new RecordingOutbox();
        SchedulerState state = new SchedulerState(out, 1.1, 3, 0, 0);
        state.onAddWorker(new WorkerRegistration(A, "a", 1, 1L << 30, Map.of(), 0));
        state.onUpdateGraph(new GraphUpdate(C1, List.of(task("x")), List.of("x"), false, 1, 0.1, "graph"));
        out.drainAll();
        assertEquals(2, state.queries().transitions());
        assertEquals(List.of(), state.queries().story(List.of("x", "graph")));
    }
}
