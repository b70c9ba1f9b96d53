package org.cloudviper.scheduler.interop;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Gives each test method of a {@link DaskInterop} class its own {@link PythonPeers}: skips the test
 * when Python Dask is unavailable or {@code -Dinterop.skip=true}, appends the peers' log tails to
 * the message of a failing test, and stops every peer after the test, pass or fail.
 */
final class InteropExtension implements BeforeEachCallback, ParameterResolver, TestExecutionExceptionHandler,
        AfterEachCallback {

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(InteropExtension.class);

    @Override
    public void beforeEach(ExtensionContext context) { // per test, so reports list each one as skipped
        String reason = PythonPeers.unavailableReason();
        assumeTrue(reason == null, () -> "interop tests skipped: " + reason);
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
                        + context.getRequiredTestMethod().getName());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
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
                failure + "\n\n" + peers.logTails(), failure);
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
