package org.cloudviper.testkit;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs each {@link InteropTest} method of a {@link DaskInterop} class once per {@link DaskGeneration},
 * displayed as {@code [dask 2022.12.1 (...)]} and so on. The default generations always get their
 * run, so surefire's names are stable: {@code method(PythonPeers)[1]} is Dask 2022, {@code [2]} is
 * Dask 2024; the opt-in Dask 2024.1.1 comes third, for the tests that ask for it
 * ({@link InteropTest#withDask2024_1()}) or when {@code -Dinterop.dask} names it. A run is skipped
 * (JUnit assumption, with the reason) when {@code -Dinterop.dask} deselects its generation, with
 * {@code -Dinterop.skip=true}, when the class needs pyarrow and the generation's set-up installs
 * none, or when an opt-in generation not asked for by name is not installed; it fails when a
 * selected generation cannot run (no trixie root, no Python Dask): a broken peer install never
 * passes as a skip. Each run gets its own {@link PythonPeers} of that generation; a failure's message is
 * prefixed with the generation and followed by the peers' log tails; and every peer is stopped after
 * the run, pass or fail.
 */
final class InteropExtension implements TestTemplateInvocationContextProvider {

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> AnnotationSupport.isAnnotated(m, InteropTest.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        DaskGeneration.selected(); // a misspelt -Dinterop.dask fails every interop test, loudly
        boolean asked = context.getTestMethod()
                .flatMap(m -> AnnotationSupport.findAnnotation(m, InteropTest.class))
                .map(InteropTest::withDask2024_1).orElse(false);
        Stream<DaskGeneration> defaults = Stream.of(DaskGeneration.values()).filter(g -> !g.optIn());
        Stream<DaskGeneration> optIn = Stream.of(DaskGeneration.values())
                .filter(g -> g.optIn() && (asked || g.explicitlySelected()));
        return Stream.concat(defaults, optIn).map(Invocation::new);
    }

    /** One run of a test method with one generation's peers. */
    private record Invocation(DaskGeneration dask) implements TestTemplateInvocationContext {
        @Override
        public String getDisplayName(int invocationIndex) {
            return "[" + dask.label() + "]";
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            return List.of(new Peers(dask));
        }
    }

    /** The {@link PythonPeers} of one run, from its skip check to its stop. */
    private static final class Peers implements BeforeEachCallback, ParameterResolver,
            TestExecutionExceptionHandler, AfterEachCallback {

        private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(Peers.class);
        private static final String HOW = " (scripts/setup-peers.sh installs them; -Dinterop.skip=true skips"
                + " interop tests)";

        private final DaskGeneration dask;

        Peers(DaskGeneration dask) {
            this.dask = dask;
        }

        private static boolean needsPyarrow(ExtensionContext context) {
            return AnnotationSupport.findAnnotation(context.getRequiredTestClass(), DaskInterop.class)
                    .map(DaskInterop::pyarrow).orElse(false);
        }

        @Override
        public void beforeEach(ExtensionContext context) { // per run, so reports list each one as skipped
            assumeTrue(DaskGeneration.selected().contains(dask), () -> dask.label() + " not selected: -D"
                    + DaskGeneration.PROPERTY + "=" + System.getProperty(DaskGeneration.PROPERTY));
            assumeTrue(!PythonPeers.skipRequested(), "-D" + PythonPeers.SKIP_PROPERTY + "=true");
            String reason = dask.unavailableReason(false);
            if (reason != null && dask.optIn() && !dask.explicitlySelected()) {
                assumeTrue(false, () -> dask.label() + " skipped: " + reason);
            }
            if (reason != null) {
                fail(dask.label() + " peers unavailable: " + reason + HOW);
            }
            if (needsPyarrow(context)) {
                String noPyarrow = dask.unavailableReason(true);
                assumeTrue(noPyarrow == null || dask.providesPyarrow(),
                        () -> dask.label() + " has no pyarrow, and the project's set-up installs none for it");
                if (noPyarrow != null) {
                    fail(dask.label() + " peers with pyarrow unavailable: " + noPyarrow + HOW);
                }
            }
        }

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == PythonPeers.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return context.getStore(NS).getOrComputeIfAbsent(PythonPeers.class, k -> {
                try {
                    return PythonPeers.create(context.getRequiredTestClass().getSimpleName() + "."
                            + context.getRequiredTestMethod().getName(), dask, needsPyarrow(context));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, PythonPeers.class);
        }

        @Override
        public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
            PythonPeers peers = context.getStore(NS).get(PythonPeers.class, PythonPeers.class);
            if (peers == null || failure instanceof TestAbortedException) {
                throw failure;
            }
            AssertionFailedError withLogs = new AssertionFailedError(
                    "[dask " + dask.year + "] " + failure + "\n\n" + peers.logTails(), failure);
            withLogs.setStackTrace(failure.getStackTrace());
            throw withLogs;
        }

        @Override
        public void afterEach(ExtensionContext context) {
            PythonPeers peers = context.getStore(NS).remove(PythonPeers.class, PythonPeers.class);
            if (peers != null) {
                peers.close();
            }
        }
    }
}
