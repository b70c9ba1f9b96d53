package org.cloudviper.worker.interop;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.UncheckedIOException;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips on -Dinterop.skip=true, fails without Python Dask, gives each test its own {@link DaskPeers}, adds their logs to failures. */
final class DaskPeersExtension implements BeforeEachCallback, ParameterResolver, TestExecutionExceptionHandler,
        AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(DaskPeersExtension.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        assumeTrue(!DaskPeers.skipRequested(), "-Dinterop.skip=true");
        // Peers that cannot run fail the test: a broken install never passes as a skip.
        String reason = DaskPeers.unavailableReason();
        if (reason != null) {
            fail("Python Dask peers unavailable: " + reason + HOW);
        }
        if (needsPyarrow(context)) {
            String why = DaskPeers.pyarrowUnavailableReason();
            if (why != null) {
                fail("pyarrow peers unavailable: " + why + HOW);
            }
        }
    }

    private static final String HOW =
            " (scripts/setup-peers.sh installs them; -Dinterop.skip=true skips interop tests)";

    private static boolean needsPyarrow(ExtensionContext context) {
        return context.getRequiredTestClass().isAnnotationPresent(PyarrowPeers.class);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == DaskPeers.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getStore(NS).getOrComputeIfAbsent(DaskPeers.class, k -> {
            try {
                String name = context.getRequiredTestClass().getSimpleName() + "."
                        + context.getRequiredTestMethod().getName();
                return needsPyarrow(context) ? DaskPeers.create(name, DaskPeers.pyarrowPython())
                        : DaskPeers.create(name);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, DaskPeers.class);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        DaskPeers peers = context.getStore(NS).get(DaskPeers.class, DaskPeers.class);
        if (peers == null || failure instanceof TestAbortedException) {
            throw failure;
        }
        AssertionFailedError withLogs = new AssertionFailedError(failure + "\n\n" + peers.logTails(), failure);
        withLogs.setStackTrace(failure.getStackTrace());
        throw withLogs;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        DaskPeers peers = context.getStore(NS).remove(DaskPeers.class, DaskPeers.class);
        if (peers != null) {
            peers.close();
        }
    }
}
