package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.tasks.NdArray;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One task from the client's pickles to a result or a failure the client can read. */
class TaskRunnerTest {
    final TaskRegistry registry = TaskRegistry.withBuiltins()
            .register("tests.fails", (a, k) -> {
                throw new IllegalStateException("no luck: " + a.get(0));
            })
            .register("tests.opaque", (a, k) -> new Object())
            .register("tests.quick", (a, k) -> a.get(0))
            .register("tests.sometimesSlow", (a, k) -> {
                if (Boolean.TRUE.equals(slowNext)) {
                    Thread.sleep(20);
                }
                return 1L;
            });
    static volatile Boolean slowNext = false;
    /** Inline below 1 ms here: the tests' cold, interpreted runs take longer than the default 20 us. */
    final TaskRunner runner = new TaskRunner(registry, 1_000_000);
    final List<StoredValue> toRelease = new ArrayList<>();

    static byte[] tuple10() {
        return HexFormat.of().parseHex("80059505000000000000004b0a85942e"); // pickle.dumps((10,))
    }

    Event run(RunSpec spec, Map<Object, StoredValue> deps) {
        Event e = runner.run("key", spec, deps, "sid");
        if (e instanceof Event.ExecuteSuccess s) {
            toRelease.add((StoredValue) s.value());
        }
        return e;
    }

    static String failureText(Event e) {
        Event.ExecuteFailure f = assertInstanceOf(Event.ExecuteFailure.class, e);
        assertTrue(f.stop() > f.start());
        return ((TaskError) f.exception()).text();
    }

    @Test
    void registeredTaskReturnsAnArray() {
        Event.ExecuteSuccess s = assertInstanceOf(Event.ExecuteSuccess.class,
                run(new RunSpec(Vectors.pickle("function_p5"), tuple10(), null, null, null), Map.of()));
        StoredValue v = (StoredValue) s.value();
        assertArrayEquals(new double[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ((NdArray) v.java()).toDoubleArray());
        assertEquals("numpy.ndarray", s.typename());
        assertEquals(80, s.nbytes());
        assertTrue(s.stop() > s.start(), "a zero duration trips the 2022 scheduler's work stealing");
        assertEquals(Thread.currentThread().getId(), s.thread());
        assertEquals(1, v.wire().frames().size());
        toRelease.forEach(StoredValue::release);
    }

    @Test
    void dependencyKeysInArgumentsBecomeValues() {
        StoredValue dep = StoredValue.computed(NdArray.ofDoubles(new double[]{1, 2, 3}),
                null, Serde.describe(NdArray.ofDoubles(new double[]{1, 2, 3})));
        Event.ExecuteSuccess s = assertInstanceOf(Event.ExecuteSuccess.class,
                run(new RunSpec(null, null, null, Vectors.pickle("legacy_task"), null), Map.of("dep-key", dep)));
        assertEquals(6.0, ((StoredValue) s.value()).java());

        Event.ExecuteSuccess a = assertInstanceOf(Event.ExecuteSuccess.class,
                run(new RunSpec(null, null, null, Vectors.pickle("legacy_apply"), null), Map.of("dep-key", dep)));
        assertArrayEquals(new double[]{2, 4, 6}, ((NdArray) ((StoredValue) a.value()).java()).toDoubleArray());
        toRelease.forEach(StoredValue::release);
    }

    @Test
    void serializedDependenciesAreDecoded() {
        SubObject wire = Vectors.serialized("i4_2d");
        StoredValue dep = StoredValue.received(wire);
        try {
            Event.ExecuteSuccess s = assertInstanceOf(Event.ExecuteSuccess.class,
                    run(new RunSpec(null, null, null, Vectors.pickle("legacy_task"), null), Map.of("dep-key", dep)));
            assertEquals(15.0, ((StoredValue) s.value()).java());
        } finally {
            dep.release();
        }
        SubObject scalar = Vectors.serialized("numpy_scalar");
        StoredValue bad = StoredValue.received(scalar);
        try {
            String text = failureText(run(new RunSpec(null, null, null, Vectors.pickle("legacy_task"), null),
                    Map.of("dep-key", bad)));
            assertTrue(text.contains("cannot use the value of dep-key"), text);
        } finally {
            bad.release();
        }
        toRelease.forEach(StoredValue::release);
    }

    /** Read function pickles are cached by their bytes: equal lengths, different names stay apart. */
    @Test
    void functionPicklesAreCachedByContent() {
        for (String name : List.of("system", "systen", "system", "systen")) {
            String text = failureText(run(new RunSpec(Pickles.global("os", name), tuple10(), null, null, null), Map.of()));
            assertEquals("cloudviper Java worker cannot run os." + name + ": not a registered Java task", text);
        }
    }

    @Test
    void everyRefusalIsAClearFailure() {
        String text = failureText(run(new RunSpec(Pickles.global("os", "system"), tuple10(), null, null, null), Map.of()));
        assertEquals("cloudviper Java worker cannot run os.system: not a registered Java task", text);

        text = failureText(run(new RunSpec(Vectors.pickle("function_by_value"), tuple10(), null, null, null), Map.of()));
        assertTrue(text.contains("pickled by value"), text);

        text = failureText(run(new RunSpec(Pickles.global("tests", "fails"), tuple10(), null, null, null), Map.of()));
        assertTrue(text.startsWith("tests.fails failed on a cloudviper Java worker: "
                + "java.lang.IllegalStateException: no luck: 10\nJava stack trace:\njava.lang.IllegalStateException"), text);
        assertTrue(text.contains("\tat org.cloudviper.worker.runtime.TaskRunnerTest"), text);

        text = failureText(run(new RunSpec(Pickles.global("tests", "opaque"), tuple10(), null, null, null), Map.of()));
        assertTrue(text.startsWith("tests.opaque returned a value that cannot be sent to Python"), text);

        text = failureText(run(new RunSpec(Vectors.pickle("function_p5"), Vectors.pickle("args_numpy"), null, null,
                null), Map.of()));
        assertTrue(text.contains("numpy"), text);

        text = failureText(run(RunSpec.refused("not today"), Map.of()));
        assertEquals("not today", text);

        Event.ExecuteFailure f = assertInstanceOf(Event.ExecuteFailure.class,
                run(new RunSpec(Pickles.global("tests", "fails"), tuple10(), null, null, null), Map.of()));
        assertTrue(f.tracebackText().contains("at org.cloudviper.worker.runtime.TaskRunnerTest"), f.tracebackText());
        assertTrue(f.exceptionText().startsWith("RuntimeError('tests.fails failed on a cloudviper Java worker: "
                + "java.lang.IllegalStateException: no luck: 10\\nJava stack trace:\\n"), f.exceptionText());
    }

    @Test
    void keywordArguments() {
        byte[] noArgs = HexFormat.of().parseHex("8004292e"); // ()
        byte[] n5 = HexFormat.of().parseHex("80047d948c016e944b05732e"); // {"n": 5}
        Event.ExecuteSuccess s = assertInstanceOf(Event.ExecuteSuccess.class,
                run(new RunSpec(Vectors.pickle("function_p5"), noArgs, n5, null, null), Map.of()));
        assertEquals(5, ((NdArray) ((StoredValue) s.value()).java()).size());
        String text = failureText(run(new RunSpec(Vectors.pickle("function_p5"), noArgs, Vectors.pickle("kwargs"),
                null, null), Map.of()));
        assertTrue(text.contains("arange_f64(n) takes 1 argument"), text);
        toRelease.forEach(StoredValue::release);
    }

    @Test
    void onlyFunctionsThatRanQuicklyEveryRecentTimeRunInline() {
        RunSpec quick = new RunSpec(Pickles.global("tests", "quick"), tuple10(), null, null, null);
        assertFalse(runner.runsInline(quick), "never seen");
        int runs = 0;
        while (!runner.runsInline(quick) && runs < 5000) { // cold runs (class loading, JIT) decay first
            assertInstanceOf(Event.ExecuteSuccess.class, run(quick, Map.of()));
            runs++;
        }
        assertTrue(runner.runsInline(quick), runner.describeRunTime(quick));
        assertTrue(runs >= 16, "runs on the pool first: " + runs);

        RunSpec sometimesSlow = new RunSpec(Pickles.global("tests", "sometimesSlow"), tuple10(), null, null, null);
        for (int i = 0; i < 5000 && !runner.runsInline(sometimesSlow); i++) {
            run(sometimesSlow, Map.of());
        }
        assertTrue(runner.runsInline(sometimesSlow), runner.describeRunTime(sometimesSlow));
        slowNext = true;
        try {
            run(sometimesSlow, Map.of());
        } finally {
            slowNext = false;
        }
        assertFalse(runner.runsInline(sometimesSlow), "one 20 ms run keeps it on the compute pool");
        for (int i = 0; i < 20; i++) {
            run(sometimesSlow, Map.of());
        }
        assertFalse(runner.runsInline(sometimesSlow), "for a while");
        for (int i = 0; i < 5000 && !runner.runsInline(sometimesSlow); i++) {
            run(sometimesSlow, Map.of());
        }
        assertTrue(runner.runsInline(sometimesSlow), "until its recent runs were all quick again");

        RunSpec failing = new RunSpec(Pickles.global("tests", "fails"), tuple10(), null, null, null);
        for (int i = 0; i < 50; i++) {
            run(failing, Map.of());
        }
        assertFalse(runner.runsInline(failing), "failures are not timed");
        assertFalse(runner.runsInline(RunSpec.taskSpec(new byte[]{1}, 0)), "2024 task specs go to the pool");
        toRelease.forEach(StoredValue::release);
    }
}
